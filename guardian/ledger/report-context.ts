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
export async function resolveBlock(deps: ReportDeps, argument: string, value?: string | number, dateEdge: "first" | "last" = "last"): Promise<BlockRef> {
  const head = deps.store.cursor();
  if (!head) throw new ReportArgumentError(argument, "the report index is empty; run a report without --no-sync first");
  if (value === undefined) return head;
  const text = String(value).trim();
  const date = parseDay(text);
  if (date !== undefined) {
    if (date === null) throw new ReportArgumentError(argument, `"${value}" is not a calendar date (YYYY-MM-DD, UTC)`);
    // A date stands for the whole UTC day: its first block as a start, its last block as an end.
    const found = dateEdge === "first" ? await firstBlockAtOrAfter(deps, date) : await lastBlockBefore(deps, date + 86_400);
    if (!found) throw new ReportArgumentError(argument, `no indexed block ${dateEdge === "first" ? "on or after" : "on or before"} ${text} (indexed blocks span ${await spanText(deps)})`);
    return found;
  }
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
export async function resolveRange(deps: ReportDeps, from?: string, to?: string, period?: string): Promise<{ from: BlockRef; to: BlockRef }> {
  if (period !== undefined) {
    if (from !== undefined || to !== undefined) throw new ReportArgumentError("--period", "give either --period or --from/--to, not both");
    const days = parsePeriod(period);
    if (!days) throw new ReportArgumentError("--period", `"${period}" is not a period: use 2026-Q3, 2026-07 or 2026`);
    [from, to] = days;
  }
  const firstIndexed = Number(deps.store.meta("anchor")) + 1;
  const last = await resolveBlock(deps, "--to", to, "last");
  const first = await resolveBlock(deps, "--from", from ?? Math.min(firstIndexed, last.number), "first");
  if (first.number < firstIndexed) throw new ReportArgumentError("--from", `block ${first.number} is before the first indexed block ${firstIndexed}`);
  if (first.number > last.number) throw new ReportArgumentError("--from", `block ${first.number} is after --to block ${last.number}`);
  return { from: first, to: last };
}

/** Seconds at 00:00 UTC of a YYYY-MM-DD date; null for a malformed one, undefined for something else. */
function parseDay(text: string): number | null | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === text ? ms / 1000 : null;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A period's first and last day: 2026-Q3 -> 2026-07-01..2026-09-30, 2026-07 -> that month, 2026 -> that year. */
export function parsePeriod(period: string): [string, string] | null {
  let m = /^(\d{4})-Q([1-4])$/i.exec(period.trim());
  if (m) {
    const q = Number(m[2]) - 1;
    return [day(Date.UTC(Number(m[1]), q * 3, 1)), day(Date.UTC(Number(m[1]), q * 3 + 3, 1) - 86_400_000)];
  }
  m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period.trim());
  if (m) return [day(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)), day(Date.UTC(Number(m[1]), Number(m[2]), 1) - 86_400_000)];
  m = /^(\d{4})$/.exec(period.trim());
  if (m) return [`${m[1]}-01-01`, `${m[1]}-12-31`];
  return null;
}

/** Binary search over the indexed range on the node's block timestamps (they never decrease). */
async function searchBlocks(deps: ReportDeps, firstTrue: (b: BlockRef) => boolean): Promise<number> {
  let lo = Number(deps.store.meta("anchor"));
  let hi = deps.store.cursor()!.number + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const block = deps.store.block(mid) ?? (await blockByNumber(deps.rpc, mid));
    if (!block) throw new ReportArgumentError("--from", `block ${mid} is not known to the node`);
    if (firstTrue(block)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

async function blockAt(deps: ReportDeps, n: number): Promise<BlockRef | undefined> {
  return deps.store.block(n) ?? (await blockByNumber(deps.rpc, n)) ?? undefined;
}

async function firstBlockAtOrAfter(deps: ReportDeps, timestamp: number): Promise<BlockRef | undefined> {
  const n = await searchBlocks(deps, (b) => b.timestamp >= timestamp);
  return n > deps.store.cursor()!.number ? undefined : blockAt(deps, Math.max(n, Number(deps.store.meta("anchor")) + 1));
}

async function lastBlockBefore(deps: ReportDeps, timestamp: number): Promise<BlockRef | undefined> {
  const n = (await searchBlocks(deps, (b) => b.timestamp >= timestamp)) - 1;
  return n < Number(deps.store.meta("anchor")) ? undefined : blockAt(deps, n);
}

async function spanText(deps: ReportDeps): Promise<string> {
  const first = await blockAt(deps, Number(deps.store.meta("anchor")));
  const last = deps.store.cursor()!;
  const iso = (b?: BlockRef) => (b ? new Date(b.timestamp * 1000).toISOString().slice(0, 19) + "Z" : "?");
  return `${iso(first)} to ${iso(last)}`;
}
