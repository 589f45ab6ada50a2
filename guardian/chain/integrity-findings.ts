import { keccak256, toUtf8Bytes } from "ethers";
import type { Finding } from "../detectors/types";
import type { HeaderLinkError } from "./reorg-tracker";

/** The detector id of findings the guardian raises about the data its node serves. */
export const CHAIN_INTEGRITY = "chain-integrity";

/** A node served a header whose parent is not the block one height below: a finding about the node, not the chain. */
export function brokenLinkFinding(chainId: number, err: HeaderLinkError, url: string | undefined): Finding {
  return {
    id: keccak256(toUtf8Bytes(`${CHAIN_INTEGRITY}:${chainId}:broken-link:${err.block.hash}:${err.block.parentHash}`)),
    detectorId: CHAIN_INTEGRITY,
    severity: "high",
    title: `Node served block ${err.block.number} with a parent ${err.block.number - err.parent.number} blocks below it`,
    chainId,
    blockNumber: err.block.number,
    blockHash: err.block.hash,
    evidence: {
      kind: "broken-parent-link",
      claimedParentHash: err.block.parentHash,
      claimedParentNumber: err.parent.number,
      expectedParentNumber: err.block.number - 1,
      ...(url ? { url } : {}),
    },
  };
}

/** The wall clock and the head block's timestamp disagree by more than the bound. */
export function clockSkewFinding(chainId: number, block: { number: number; hash: string; timestamp: number }, skewSeconds: number, boundSeconds: number): Finding {
  return {
    id: keccak256(toUtf8Bytes(`${CHAIN_INTEGRITY}:${chainId}:clock-skew:${block.hash}`)),
    detectorId: CHAIN_INTEGRITY,
    severity: "high",
    title: `Clock skew: the guardian's clock is ${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? "ahead of" : "behind"} block ${block.number}'s timestamp (bound ${boundSeconds} s)`,
    chainId,
    blockNumber: block.number,
    blockHash: block.hash,
    evidence: { kind: "clock-skew", skewSeconds, boundSeconds, blockTimestamp: block.timestamp, wallClock: Math.floor(Date.now() / 1000) },
  };
}

/** A reorg went past the window: the window was not trusted and the range was re-verified from further back. */
export function beyondWindowFinding(chainId: number, ancestor: { number: number; hash: string }, depth: number, orphanedBlocks: number): Finding {
  return {
    id: keccak256(toUtf8Bytes(`${CHAIN_INTEGRITY}:${chainId}:beyond-window:${ancestor.hash}:${depth}`)),
    detectorId: CHAIN_INTEGRITY,
    severity: "critical",
    title: `Reorg deeper than the guardian's window: re-verified from block ${ancestor.number}, ${orphanedBlocks} block(s) with findings orphaned`,
    chainId,
    blockNumber: ancestor.number,
    blockHash: ancestor.hash,
    evidence: { kind: "reorg-beyond-window", reverifiedFrom: ancestor.number, depth, orphanedBlocks },
  };
}
