import { id as keccakText } from "ethers";
import type { BlockContext } from "../context/types";
import type { Evidence, Finding, Severity } from "./types";

/**
 * A finding id is a hash of what the finding is about, never of when it was seen, so a replay, a restart
 * or a second guardian produce the same id and the store deduplicates them.
 */
export function findingId(
  detectorId: string,
  chainId: number,
  blockHash: string,
  txHash: string | undefined,
  subject: string,
): string {
  return keccakText(JSON.stringify([detectorId, chainId, blockHash.toLowerCase(), txHash?.toLowerCase() ?? "", subject]));
}

/** Evidence must survive JSON: bigints become decimal strings, recursively. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

export interface FindingInput {
  detectorId: string;
  severity: Severity;
  title: string;
  /** The block the finding was seen in; only its chain, number and hash are used. */
  block: Pick<BlockContext, "chainId" | "number" | "hash">;
  txHash?: string;
  contract?: string;
  /** What, within the block and transaction, this finding is about: part of the stable id. */
  subject: string;
  evidence: Record<string, unknown>;
}

export function makeFinding(input: FindingInput): Finding {
  return {
    id: findingId(input.detectorId, input.block.chainId, input.block.hash, input.txHash, input.subject),
    detectorId: input.detectorId,
    severity: input.severity,
    title: input.title,
    chainId: input.block.chainId,
    blockNumber: input.block.number,
    blockHash: input.block.hash,
    ...(input.txHash !== undefined ? { txHash: input.txHash } : {}),
    ...(input.contract !== undefined ? { contract: input.contract } : {}),
    evidence: jsonSafe(input.evidence) as Evidence,
  };
}
