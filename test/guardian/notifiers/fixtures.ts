import pino from "pino";
import type { Finding } from "../../../guardian/detectors/types";
import type { AlertMessage, NotifierDefinition, Notifier } from "../../../guardian/notifiers/types";

export const silentLogger = pino({ level: "silent" });

export const VAULT = "0x00000000000000000000000000000000000000aa";
export const OTHER = "0x00000000000000000000000000000000000000bb";

let counter = 0;
export function finding(overrides: Partial<Finding> = {}): Finding {
  counter++;
  return {
    id: `finding-${counter}`,
    detectorId: "reentrancy",
    severity: "high",
    title: `Reentrant call #${counter}`,
    chainId: 31337,
    blockNumber: 100 + counter,
    blockHash: `0x${counter.toString(16).padStart(64, "0")}`,
    txHash: `0x${(counter + 0x1000).toString(16).padStart(64, "0")}`,
    contract: VAULT,
    evidence: {},
    ...overrides,
  };
}

export function alertMessage(overrides: Partial<AlertMessage> = {}): AlertMessage {
  return {
    id: "trip-abc-0001",
    kind: "trip",
    incidentKey: "finding-abc-0000",
    severity: "critical",
    title: "Breaker tripped on Vault (0x…aa)",
    summary: "The circuit breaker was tripped on chain 31337.",
    details: ["The trip lapses at 2026-11-22T00:00:00.000Z unless governance ratifies it."],
    chainId: 31337,
    contract: VAULT,
    detectorIds: ["reentrancy"],
    findings: [
      { id: "f-1", detectorId: "reentrancy", severity: "critical", title: "Reentrant withdraw", blockNumber: 7, blockHash: "0x07", txHash: "0xabc" },
    ],
    incidentId: `0x${"11".repeat(32)}`,
    resolves: false,
    links: [{ label: "tx 0xabc", url: "https://explorer.example/tx/0xabc" }],
    createdAt: "2026-11-21T10:00:00.000Z",
    ...overrides,
  };
}

/** Parses params exactly as the config loader does, then creates the notifier. */
export function build<P>(def: NotifierDefinition<P, Notifier>, params: unknown, name = def.type): Notifier {
  return def.create(name, def.params.parse(params), { logger: silentLogger });
}
