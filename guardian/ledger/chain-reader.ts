import type { BlockRef, RpcClient } from "../chain/types";
import { toBlockRef } from "../chain/head-follower";
import { buildBlockContext } from "../context/build-block-context";
import type { TokenStandard } from "./config";
import { compareMovements, type Movement } from "./movement";
import { decodeTransferLogs, LEDGER_TOPICS, type RpcLog } from "./transfer-logs";
import { etherMovements, type EtherHeader, type EtherReceipt } from "./ether-movements";

/** What to read from the chain: the configured tokens and the accounts whose ether is followed. */
export interface ReadScope {
  standards: ReadonlyMap<string, TokenStandard>;
  accounts: ReadonlySet<string>;
}

export interface BlockMovements {
  block: BlockRef;
  movements: Movement[];
  /** Status (1 success, 0 reverted) of each transaction that moved a followed account's ether. */
  statuses?: Map<string, 0 | 1>;
}

interface RpcHeader extends EtherHeader {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
}

export const hex = (n: number) => "0x" + n.toString(16);

export async function blockByNumber(rpc: RpcClient, number: number | "latest"): Promise<BlockRef | null> {
  const raw = await rpc.request<RpcHeader | null>("eth_getBlockByNumber", [number === "latest" ? "latest" : hex(number), false]);
  return raw ? toBlockRef(raw) : null;
}

export async function blockByHash(rpc: RpcClient, hash: string): Promise<BlockRef | null> {
  const raw = await rpc.request<RpcHeader | null>("eth_getBlockByHash", [hash, false]);
  return raw ? toBlockRef(raw) : null;
}

/** Transfer logs of the configured tokens; a block hash pins them to exactly one branch. */
export async function transferLogs(rpc: RpcClient, scope: ReadScope, filter: { blockHash: string } | { fromBlock: number; toBlock: number }): Promise<RpcLog[]> {
  if (scope.standards.size === 0) return [];
  const range = "blockHash" in filter ? { blockHash: filter.blockHash } : { fromBlock: hex(filter.fromBlock), toBlock: hex(filter.toBlock) };
  return rpc.request<RpcLog[]>("eth_getLogs", [{ ...range, address: [...scope.standards.keys()], topics: [LEDGER_TOPICS] }]);
}

/**
 * Everything the reports need from one block, fetched by hash so that a reorg between the calls cannot
 * mix two branches: the header (with withdrawals), transfer logs and, when accounts are followed, the
 * guardian's block context for them (transactions, receipts, call traces).
 */
export async function readBlock(rpc: RpcClient, scope: ReadScope, blockHash: string, rejected?: Map<string, string>): Promise<BlockMovements> {
  const followEther = scope.accounts.size > 0;
  const [raw, logs, ctx, receipts] = await Promise.all([
    rpc.request<RpcHeader | null>("eth_getBlockByHash", [blockHash, false]),
    transferLogs(rpc, scope, { blockHash }),
    followEther ? buildBlockContext(rpc, blockHash, scope.accounts) : Promise.resolve(null),
    followEther ? rpc.request<EtherReceipt[] | null>("eth_getBlockReceipts", [blockHash]) : Promise.resolve([]),
  ]);
  if (!raw) throw new Error(`block ${blockHash} is not known to the node (reorged away?)`);
  if (!receipts) throw new Error(`the node has no receipts for block ${blockHash} (reorged away?)`);
  const movements = decodeTransferLogs(logs, scope.standards, rejected);
  const statuses = new Map<string, 0 | 1>();
  if (ctx) movements.push(...etherMovements(ctx, raw, receipts, scope.accounts, statuses));
  movements.sort(compareMovements);
  return { block: toBlockRef(raw), movements, statuses };
}
