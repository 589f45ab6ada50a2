// The reporting section belongs to the ledger (guardian/ledger/config.ts); the guardian config imports it from here.
export * from "../ledger/config";
