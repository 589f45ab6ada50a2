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
