import type { BlockContext } from "../context/types";
import { frameVisits } from "./call-tree";

export const NATIVE = "native";
export const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

/** An address as an indexed event topic (left-padded to 32 bytes), lowercase like LogEntry topics. */
export function topicOf(address: string): string {
  return `0x${address.slice(2).toLowerCase().padStart(64, "0")}`;
}

export function addressFromTopic(topic: string): string {
  return `0x${topic.slice(-40)}`;
}

/**
 * What moved between one watched contract and one counterparty in one asset within one transaction,
 * netted in that transaction: a flash loan lent and repaid by the same borrower moves nothing.
 */
export interface AccountFlow {
  contract: string;
  asset: string;
  /** Who received (outflow) or sent (inflow) the value. */
  account: string;
  out: bigint;
  in: bigint;
  tx: string;
}

/**
 * Every watched contract's movements in a block, per transaction, counterparty and asset: ERC-20 Transfer
 * logs to or from it (whoever called transferFrom) and native value in successful frames. Reverted
 * transactions moved nothing.
 */
export function accountFlowsOfBlock(ctx: BlockContext, watched: ReadonlySet<string>, watchedTopics: ReadonlySet<string>): AccountFlow[] {
  const out: AccountFlow[] = [];
  for (const tx of ctx.transactions) {
    if (tx.status === 0) continue;
    let inTx: Map<string, AccountFlow> | undefined;
    const add = (contract: string, asset: string, account: string, amount: bigint, outgoing: boolean): void => {
      inTx ??= new Map();
      const key = `${contract}:${asset}:${account}`;
      let f = inTx.get(key);
      if (!f) inTx.set(key, (f = { contract, asset, account, out: 0n, in: 0n, tx: tx.hash }));
      if (outgoing) f.out += amount;
      else f.in += amount;
    };
    for (const log of tx.logs) {
      const t = log.topics;
      // ERC-721 shares the topic but indexes the token id as a fourth topic.
      if (t.length !== 3 || t[0] !== TRANSFER_TOPIC || log.data.length !== 66 || t[1] === t[2]) continue;
      const fromWatched = watchedTopics.has(t[1]);
      const toWatched = watchedTopics.has(t[2]);
      if (!fromWatched && !toWatched) continue;
      const amount = BigInt(log.data);
      if (amount === 0n) continue;
      if (fromWatched) add(addressFromTopic(t[1]), log.address, addressFromTopic(t[2]), amount, true);
      if (toWatched) add(addressFromTopic(t[2]), log.address, addressFromTopic(t[1]), amount, false);
    }
    if (tx.trace && tx.touched.some((c) => watched.has(c))) {
      for (const v of frameVisits(tx.trace)) {
        const { type, value, from, to } = v.frame;
        if (value === 0n || v.reverted || type === "DELEGATECALL" || type === "STATICCALL" || from === to) continue;
        if (watched.has(from)) add(from, NATIVE, to, value, true);
        if (watched.has(to)) add(to, NATIVE, from, value, false);
      }
    }
    if (!inTx) continue;
    for (const f of (inTx as Map<string, AccountFlow>).values()) {
      // Netted within the transaction: only what stayed gone (or stayed in) counts.
      if (f.out > f.in) out.push({ ...f, out: f.out - f.in, in: 0n });
      else if (f.in > f.out) out.push({ ...f, in: f.in - f.out, out: 0n });
    }
  }
  return out;
}
