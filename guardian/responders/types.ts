import type { z } from "zod";
import type { Logger } from "pino";
import type { RpcClient } from "../chain/types";

/** A responder acts on a decision (e.g. sends the trip bundle). */
export interface Responder {
  readonly name: string;
  readonly type: string;
  /** Loads keys and checks endpoints so that misconfiguration fails at startup, not during an incident. */
  start?(): Promise<void>;
  /** Stops resubmitting and releases resources; in-flight trips settle as interrupted, their bundles left pending. */
  close?(): Promise<void>;
}

/** What every responder may use, passed in rather than imported. */
export interface ResponderDeps {
  chainId: number;
  rpc: RpcClient;
  logger: Logger;
  /** Relative keystore paths resolve against this directory (the config file's). Defaults to the cwd. */
  baseDir?: string;
  /** Where secrets are read from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** One file per responder type exports one of these; `registry.ts` lists them. */
export interface ResponderDefinition<P = unknown, R extends Responder = Responder> {
  type: string;
  description: string;
  /** zod schema for this responder's parameters under `responders.<name>` in the YAML config. */
  params: z.ZodType<P, z.ZodTypeDef, unknown>;
  create(name: string, params: P, deps: ResponderDeps): R;
}

/** One step of an incident's response, for the incident timeline. */
export interface TimelineEntry {
  step: "detected" | "simulated" | "sent" | "resubmitted" | "public-fallback" | "included" | "reorged-out" | "already-tripped" | "dry-run" | "failed" | "aborted" | "interrupted" | "resumed";
  /** ISO-8601 wall-clock time. */
  at: string;
  /** Milliseconds since detection. */
  ms: number;
  blockNumber?: number;
  blockHash?: string;
  txHash?: string;
  bundleHashes?: string[];
  /** Priority fee per gas (wei, decimal) of the transaction sent in this step. */
  priorityFeePerGas?: string;
  detail?: string;
}

/** A decision to trip one breaker for one incident. */
export interface TripRequest {
  /** bytes32 passed to `CircuitBreaker.trip`. */
  incidentId: string;
  /** The breaker contract (lowercase or checksummed). */
  breaker: string;
  /** When the finding behind the decision was detected (ms since the epoch). */
  detectedAt: number;
  detectedBlock?: number;
  /**
   * A pending malicious transaction the trip must land ahead of: the trip pays a higher priority fee,
   * so a builder that orders by fee puts it first.
   */
  frontRun?: { txHash: string; maxPriorityFeePerGas: bigint; maxFeePerGas?: bigint };
  /** Aborting stops resubmission and cancels the bundles still pending (e.g. the finding was reorged out). */
  signal?: AbortSignal;
  /** Forces dry-run for this request even when the responder is live. */
  dryRun?: boolean;
  /**
   * Told of each step that has a side effect, and awaited before it: `signed` before a signed version is
   * sent anywhere, `sent` once relays have it. The trip path commits these to the store, so a restart knows which
   * transactions may land and resumes instead of losing the trip.
   */
  journal?: (progress: TripProgress) => void | Promise<void>;
  /** Trip transactions sent for this incident before (by an earlier process): inclusion of any of them ends the trip. */
  knownTxHashes?: string[];
}

/** A trip's progress as committed before its next side effect. */
export interface TripProgress {
  phase: "signed" | "sent";
  txHash: string;
  nonce: number;
  /** The timeline so far, including the step this progress announces. */
  timeline: TimelineEntry[];
  bundleHashes: string[];
}

export interface TripOutcome {
  /** `interrupted`: the responder closed (shutdown) while the trip waited for inclusion; its bundles stay at the relays. */
  status: "included" | "already-tripped" | "dry-run" | "failed" | "aborted" | "interrupted";
  incidentId: string;
  breaker: string;
  /** How the trip landed. */
  via?: "bundle" | "public";
  txHash?: string;
  blockNumber?: number;
  blockHash?: string;
  /** For `already-tripped`: the incident and guardian of the trip that beat this one. */
  trippedBy?: { incidentId: string; guardian: string };
  /** Every bundle hash submitted (one per fee level; relays and target blocks share it). */
  bundleHashes: string[];
  timeline: TimelineEntry[];
  error?: string;
}

/** A responder that can trip circuit breakers. */
export interface TripResponder extends Responder {
  trip(request: TripRequest): Promise<TripOutcome>;
}

export function isTripResponder(r: Responder): r is TripResponder {
  return typeof (r as Partial<TripResponder>).trip === "function";
}
