import type { Provider } from "ethers";
import { CircuitBreaker__factory } from "../../typechain-types";

/** Whether an incident's trip is in force on the canonical chain, as read from the node at one head. */
export interface TripCheck {
  /** The head every read below was made at. */
  head: { number: number; hash: string };
  /** The trip transaction's block, when that block is canonical (a node may still serve an orphaned receipt). */
  inclusion?: { blockNumber: number; blockHash: string; succeeded: boolean };
  /** The breaker's state at `head`. */
  breakerTripped: boolean;
  /** The incident the breaker last tripped for, and when that trip expires (unix seconds). */
  breakerIncident: string;
  expiresAt: number;
}

/** True when the breaker is tripped for `incidentId` at the checked head. */
export function tripInForce(check: TripCheck, incidentId: string): boolean {
  return check.breakerTripped && check.breakerIncident.toLowerCase() === incidentId.toLowerCase();
}

/**
 * Reads, on the canonical chain, whether `txHash` is included (receipt plus a block-hash check: anvil and
 * some clients keep serving the receipt of an orphaned block) and the breaker's trip state at the same head.
 */
export async function checkTrip(provider: Provider, breaker: string, txHash: string): Promise<TripCheck> {
  const head = await provider.getBlock("latest");
  if (!head?.hash) throw new Error("the node returned no latest block");
  const contract = CircuitBreaker__factory.connect(breaker, provider);
  const [receipt, breakerTripped, incident] = await Promise.all([
    provider.getTransactionReceipt(txHash),
    contract.isTripped({ blockTag: head.number }),
    contract.incident({ blockTag: head.number }),
  ]);
  let inclusion: TripCheck["inclusion"];
  if (receipt && receipt.blockNumber <= head.number) {
    const block = await provider.getBlock(receipt.blockNumber);
    if (block?.hash === receipt.blockHash) inclusion = { blockNumber: receipt.blockNumber, blockHash: receipt.blockHash, succeeded: receipt.status === 1 };
  }
  return {
    head: { number: head.number, hash: head.hash },
    ...(inclusion ? { inclusion } : {}),
    breakerTripped,
    breakerIncident: incident.incidentId,
    expiresAt: Number(incident.expiresAt),
  };
}

/** One sentence that states what `check` read, for incident notes. */
export function describeTripCheck(check: TripCheck, incidentId: string, txHash: string): string {
  const tx = check.inclusion
    ? `the trip transaction ${txHash} is in canonical block ${check.inclusion.blockNumber} (${check.inclusion.blockHash})${check.inclusion.succeeded ? "" : " but reverted"}`
    : `the trip transaction ${txHash} is in no canonical block`;
  const breaker = tripInForce(check, incidentId)
    ? `the breaker is tripped for this incident until ${new Date(check.expiresAt * 1000).toISOString()}`
    : check.breakerTripped
      ? `the breaker is tripped, but for incident ${check.breakerIncident}`
      : "the breaker is not tripped";
  return `checked on-chain at block ${check.head.number} (${check.head.hash}): ${tx}, and ${breaker}`;
}
