import type { BlockContext, CallFrame } from "../context/types";
import { ETHER, ORD_FEE, ordOfFrame, ZERO_ADDRESS, type Movement } from "./movement";

export interface RpcWithdrawal {
  index: string;
  address: string;
  /** In gwei. */
  amount: string;
}

/** Withdrawals are credited after every transaction of the block; this index orders them last. */
export const WITHDRAWALS_TX_INDEX = 1_000_000;

/** Frame types that move the value they carry; a DELEGATECALL's value field only echoes its parent's. */
const MOVES_VALUE = new Set<CallFrame["type"]>(["CALL", "CREATE", "CREATE2", "SELFDESTRUCT"]);

/**
 * Ether movements that touch the tracked accounts in one block, from the guardian's block context built
 * with the accounts as its watched addresses: the gas fee each tracked sender paid, every value-carrying
 * call frame that did not revert (the top-level value is the root frame), and beacon-chain withdrawals.
 * A transaction the node could not trace contributes its top-level value only if it succeeded; the
 * holdings self-check then shows any internal transfer that was missed instead of hiding it.
 */
export function etherMovements(ctx: BlockContext, withdrawals: readonly RpcWithdrawal[], accounts: ReadonlySet<string>): Movement[] {
  const out: Movement[] = [];
  for (const tx of ctx.transactions) {
    const base = { blockNumber: ctx.number, blockHash: ctx.hash, txIndex: tx.index, txHash: tx.hash, token: ETHER, tokenId: "" };
    if (accounts.has(tx.from)) {
      const fee = tx.gasUsed * tx.gasPrice;
      if (fee > 0n) out.push({ ...base, ord: ORD_FEE, kind: "fee", from: tx.from, to: ZERO_ADDRESS, amount: fee });
    }
    const root: CallFrame | null =
      tx.trace ?? (tx.status === 1 ? { type: "CALL", from: tx.from, to: tx.to ?? ZERO_ADDRESS, value: tx.value, input: tx.input, gasUsed: tx.gasUsed, calls: [] } : null);
    if (!root) continue;
    let frameIndex = 0;
    const walk = (frame: CallFrame) => {
      const index = frameIndex++;
      if (frame.error) return; // the frame and everything under it was undone
      if (frame.value > 0n && MOVES_VALUE.has(frame.type) && frame.from !== frame.to && (accounts.has(frame.from) || accounts.has(frame.to))) {
        out.push({ ...base, ord: ordOfFrame(index), kind: "ether", from: frame.from, to: frame.to, amount: frame.value });
      }
      frame.calls.forEach(walk);
    };
    walk(root);
  }
  for (const w of withdrawals) {
    const to = w.address.toLowerCase();
    if (accounts.has(to)) {
      out.push({ blockNumber: ctx.number, blockHash: ctx.hash, txIndex: WITHDRAWALS_TX_INDEX, txHash: "", ord: Number(w.index), kind: "withdrawal", token: ETHER, tokenId: "", from: ZERO_ADDRESS, to, amount: BigInt(w.amount) * 10n ** 9n });
    }
  }
  return out;
}
