import type { z } from "zod";
import type { Logger } from "pino";
import type { BlockContext } from "../context/types";
import type { BlockRef, ReorgEvent, RpcClient } from "../chain/types";

export type Severity = "info" | "low" | "medium" | "high" | "critical";
export const SEVERITIES: readonly Severity[] = ["info", "low", "medium", "high", "critical"];

/** JSON-safe evidence: bigints are written as decimal strings so findings survive storage and replay. */
export type Evidence = Record<string, unknown>;

export interface Finding {
  /** Stable: the same detector on the same block, transaction and subject always yields the same id. */
  id: string;
  detectorId: string;
  severity: Severity;
  title: string;
  chainId: number;
  blockNumber: number;
  blockHash: string;
  txHash?: string;
  /** The protected contract this finding is about (lowercase), where there is one. */
  contract?: string;
  evidence: Evidence;
}

/** A protected contract as the detectors see it. */
export interface ProtectedContract {
  name: string;
  address: string; // lowercase
  /** Human-readable ABI fragments or JSON ABI, used to decode calls, logs and invariant expressions. */
  abi: readonly unknown[];
}

/** Everything a detector may use, passed in rather than imported. */
export interface DetectorDeps {
  chainId: number;
  rpc: RpcClient;
  logger: Logger;
  contracts: readonly ProtectedContract[];
}

export interface Detector {
  readonly id: string;
  onBlock(ctx: BlockContext): Promise<Finding[]>;
  /** Called before the new branch's blocks are replayed; the reorg detector reports here. */
  onReorg?(reorg: ReorgEvent): Promise<Finding[]>;
  /** Drop any windowed state contributed by blocks above `blockNumber` (they were orphaned). */
  rewind?(blockNumber: number): void;
  /** Windowed detectors persist their state with the cursor, so a restart resumes exactly. */
  saveState?(): unknown;
  loadState?(state: unknown): void;
  /**
   * Incremental persistence for large state, optional. saveState() then returns a flat record of entries,
   * and this returns only the entries changed since the last call, so a block writes a few rows rather
   * than the whole state; the store hands loadState() the whole record back. After loadState() the next
   * call replaces everything, since what was loaded may differ from what the store holds.
   */
  saveChanges?(): StateChanges;
  /**
   * Starts this block's node reads early, optional. The pipeline calls it as soon as it asks for the
   * block's context (several blocks ahead while catching up), so reads at the block's own state travel
   * while earlier blocks are still being detected, instead of queueing behind later fetches at the node.
   * Reads made through `rpc` before the current task ends share one batch with the block's context.
   * onBlock must give the same result with or without it; a failed read surfaces in onBlock.
   */
  prefetch?(block: BlockRef, context: Promise<BlockContext>, rpc: RpcClient): void;
}

/** What changed in a detector's flat state record; `replace` drops every entry not in `set` first. */
export interface StateChanges {
  replace: boolean;
  set: Record<string, unknown>;
  delete: string[];
}

/** One file per detector exports one of these; `registry.ts` lists them. */
export interface DetectorDefinition<P = unknown> {
  id: string;
  description: string;
  /** zod schema for this detector's parameters in the YAML config; its input may differ (defaults, transforms). */
  params: z.ZodType<P, z.ZodTypeDef, unknown>;
  create(params: P, deps: DetectorDeps): Detector;
}
