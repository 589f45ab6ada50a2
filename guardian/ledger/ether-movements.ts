import type { BlockContext, CallFrame } from "../context/types";
import { ETHER, ORD_FEE, ordOfFrame, ZERO_ADDRESS, type Movement, type MovementKind } from "./movement";

export interface RpcWithdrawal {
  index: string;
  address: string;
  /** In gwei. */
  amount: string;
}

/** The header fields ether accounting needs, as eth_getBlockBy* returns them. */
export interface EtherHeader {
  miner?: string;
  baseFeePerGas?: string;
  withdrawals?: RpcWithdrawal[];
}

/** A receipt as eth_getBlockReceipts returns it: what every transaction paid, and to whom. */
export interface EtherReceipt {
  transactionHash: string;
  transactionIndex: string;
  from: string;
  status?: string;
  gasUsed: string;
  effectiveGasPrice?: string;
  blobGasUsed?: string;
  blobGasPrice?: string;
}

/** Withdrawals are credited after every transaction of the block; this index orders them last. */
export const WITHDRAWALS_TX_INDEX = 1_000_000;

/** Frame types that move the value they carry; a DELEGATECALL's value field only echoes its parent's. */
const MOVES_VALUE = new Set<CallFrame["type"]>(["CALL", "CREATE", "CREATE2", "SELFDESTRUCT"]);

/** Fee rows of one transaction, in this order before its call frames. */
const ORD_BASE_FEE = ORD_FEE;
const ORD_TIP = ORD_FEE + 1;
const ORD_BLOB_FEE = ORD_FEE + 2;

function frameKind(frame: CallFrame, depth: number): MovementKind {
  if (frame.type === "SELFDESTRUCT") return "ether:selfdestruct";
  if (frame.type === "CREATE" || frame.type === "CREATE2") return "ether:create";
  return depth === 0 ? "ether:top-level" : "ether:internal";
}

/**
 * Ether movements that touch the followed accounts in one block:
 *  - every transaction's fee, split the way the protocol splits it: the base fee is burnt (to the zero
 *    address), the priority fee (tip) goes to the block's fee recipient, a blob fee is burnt. A followed
 *    sender pays them; a followed fee recipient receives the tips of every transaction ("coinbase");
 *  - every value-carrying call frame that did not revert, typed top-level, internal, create or
 *    selfdestruct (the guardian's block context built with the accounts as watched addresses);
 *  - beacon-chain withdrawals (gwei in the header, wei here).
 * Receipts cover every transaction of the block, so coinbase income does not depend on whether a
 * transaction touched a followed account. A transaction the node could not trace contributes its
 * top-level value only if it succeeded; the per-row reconciliation shows anything missed.
 * `statuses` receives the status of every transaction that moved a followed account's ether.
 */
export function etherMovements(
  ctx: BlockContext,
  header: EtherHeader,
  receipts: readonly EtherReceipt[],
  accounts: ReadonlySet<string>,
  statuses?: Map<string, 0 | 1>,
): Movement[] {
  const out: Movement[] = [];
  const miner = (header.miner ?? ZERO_ADDRESS).toLowerCase();
  const baseFee = header.baseFeePerGas === undefined ? 0n : BigInt(header.baseFeePerGas);
  const block = { blockNumber: ctx.number, blockHash: ctx.hash, token: ETHER, tokenId: "" };
  for (const r of receipts) {
    const from = r.from.toLowerCase();
    const txHash = r.transactionHash.toLowerCase();
    const base = { ...block, txIndex: Number(r.transactionIndex), txHash };
    const gasUsed = BigInt(r.gasUsed);
    const price = BigInt(r.effectiveGasPrice ?? "0");
    const burnt = gasUsed * (price < baseFee ? price : baseFee);
    const tip = gasUsed * price - burnt;
    const blob = r.blobGasUsed && r.blobGasPrice ? BigInt(r.blobGasUsed) * BigInt(r.blobGasPrice) : 0n;
    const payer = accounts.has(from);
    if (payer) {
      if (burnt > 0n) out.push({ ...base, ord: ORD_BASE_FEE, kind: "fee:base", from, to: ZERO_ADDRESS, amount: burnt });
      if (blob > 0n) out.push({ ...base, ord: ORD_BLOB_FEE, kind: "fee:blob", from, to: ZERO_ADDRESS, amount: blob });
    }
    // One row per tip: the sender's fee when it is followed (which credits a followed recipient too),
    // else the recipient's coinbase income.
    if (tip > 0n && (payer || accounts.has(miner))) out.push({ ...base, ord: ORD_TIP, kind: payer ? "fee:tip" : "coinbase", from, to: miner, amount: tip });
    if (statuses && (payer || accounts.has(miner))) statuses.set(txHash, r.status === "0x0" ? 0 : 1);
  }
  for (const tx of ctx.transactions) {
    const base = { ...block, txIndex: tx.index, txHash: tx.hash };
    const root: CallFrame | null =
      tx.trace ?? (tx.status === 1 ? { type: tx.to ? "CALL" : "CREATE", from: tx.from, to: tx.to ?? ZERO_ADDRESS, value: tx.value, input: tx.input, gasUsed: tx.gasUsed, calls: [] } : null);
    if (!root) continue;
    let frameIndex = 0;
    const walk = (frame: CallFrame, depth: number) => {
      const index = frameIndex++;
      if (frame.error) return; // the frame and everything under it was undone
      if (frame.value > 0n && MOVES_VALUE.has(frame.type) && frame.from !== frame.to && (accounts.has(frame.from) || accounts.has(frame.to))) {
        out.push({ ...base, ord: ordOfFrame(index), kind: frameKind(frame, depth), from: frame.from, to: frame.to, amount: frame.value });
        statuses?.set(tx.hash, tx.status);
      }
      frame.calls.forEach((c) => walk(c, depth + 1));
    };
    walk(root, 0);
  }
  for (const w of header.withdrawals ?? []) {
    const to = w.address.toLowerCase();
    if (accounts.has(to)) {
      out.push({ ...block, txIndex: WITHDRAWALS_TX_INDEX, txHash: "", ord: Number(w.index), kind: "withdrawal", from: ZERO_ADDRESS, to, amount: BigInt(w.amount) * 10n ** 9n });
    }
  }
  return out;
}
