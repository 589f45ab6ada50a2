import type { BlockRef, RpcClient } from "../chain/types";
import type { IndexStore } from "./index-store";
import { blockByNumber } from "./chain-reader";
import { ReportArgumentError, type ReportingScope } from "./reporting-scope";

/** What every report reads: the maintained index, the configuration, and a node for the self-checks. */
export interface ReportDeps {
  store: IndexStore;
  scope: ReportingScope;
  rpc: RpcClient;
}

/**
 * The block a report is taken at: the indexed head when `value` is absent, else block `value`, which must
 * be a whole number not above the indexed head (a block in the future has no data yet).
 */
export async function resolveBlock(deps: ReportDeps, argument: string, value?: string | number): Promise<BlockRef> {
  const head = deps.store.cursor();
  if (!head) throw new ReportArgumentError(argument, "the report index is empty; run a report without --no-sync first");
  if (value === undefined) return head;
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) throw new ReportArgumentError(argument, `"${value}" is not a block number (a whole number)`);
  const number = Number(text);
  const first = Number(deps.store.meta("anchor"));
  if (number > head.number) {
    throw new ReportArgumentError(argument, `block ${number} is in the future: the indexed head is block ${head.number}`);
  }
  if (number < first) throw new ReportArgumentError(argument, `block ${number} is before the index's first block ${first} (reporting.fromBlock)`);
  const block = deps.store.block(number) ?? (await blockByNumber(deps.rpc, number));
  if (!block) throw new ReportArgumentError(argument, `block ${number} is not known to the node`);
  return block;
}

/**
 * A range [from, to] of indexed blocks: `from` defaults to the first indexed block, `to` to the indexed
 * head. Balances before `from` (the opening of a statement) come from the block before it.
 */
export async function resolveRange(deps: ReportDeps, from?: string, to?: string): Promise<{ from: BlockRef; to: BlockRef }> {
  const firstIndexed = Number(deps.store.meta("anchor")) + 1;
  const last = await resolveBlock(deps, "--to", to);
  const first = await resolveBlock(deps, "--from", from ?? Math.min(firstIndexed, last.number));
  if (first.number < firstIndexed) throw new ReportArgumentError("--from", `block ${first.number} is before the first indexed block ${firstIndexed}`);
  if (first.number > last.number) throw new ReportArgumentError("--from", `block ${first.number} is after --to block ${last.number}`);
  return { from: first, to: last };
}

/** A deterministic sample: the largest holders, then others picked by a hash of the block and holder. */
export function sampleHolders<T extends { holder: string }>(sortedDesc: readonly T[], count: number, seed: string): T[] {
  const top = sortedDesc.slice(0, Math.ceil(count / 2));
  const rest = sortedDesc
    .slice(top.length)
    .map((h) => ({ h, key: fnv1a(seed + h.holder) }))
    .sort((a, b) => a.key - b.key)
    .slice(0, count - top.length)
    .map((x) => x.h);
  return [...top, ...rest];
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
