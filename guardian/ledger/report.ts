import type { BlockRef } from "../chain/types";

/** The block a report is about, stated in every format so a reader can check it against any node. */
export interface ReportAnchor {
  number: number;
  hash: string;
  timestamp: number;
}

/** A block timestamp as ISO-8601 UTC, to the second. */
export const isoTime = (timestamp: number): string => {
  // A statement formats one time per row: the date part is kept per day, the time of day is arithmetic.
  const day = Math.floor(timestamp / 86_400);
  if (day !== isoDay || !Number.isInteger(timestamp)) {
    if (!Number.isInteger(timestamp)) return new Date(timestamp * 1000).toISOString().replace(".000Z", "Z");
    isoDay = day;
    isoDate = new Date(day * 86_400_000).toISOString().slice(0, -13);
  }
  const seconds = timestamp - day * 86_400;
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor((seconds % 3600) / 60);
  const ss = seconds % 60;
  return `${isoDate}${hh < 10 ? "0" : ""}${hh}:${mm < 10 ? "0" : ""}${mm}:${ss < 10 ? "0" : ""}${ss}Z`;
};
let isoDay = NaN;
let isoDate = "";

export const anchorOf = (block: BlockRef): ReportAnchor => ({ number: block.number, hash: block.hash, timestamp: block.timestamp });

/** An amount keeps its raw base units (CSV, JSON) and the decimals to show it in (table, Markdown). */
export interface Amount {
  amount: bigint;
  decimals: number;
  /** The token's symbol as the chain gave it; JSON carries it beside the amount. */
  symbol?: string;
}

export type Cell = string | number | Amount | null;

export interface Section {
  title: string;
  columns: string[];
  rows: Cell[][];
}

/** A self-check: recomputed against the node at the report's block; a mismatch is printed, never dropped. */
export interface Check {
  name: string;
  ok: boolean;
  expected: string;
  actual: string;
}

export interface Report {
  kind: "cap-table" | "holdings" | "statement" | "group" | "flows" | "payouts" | "flows-over-time" | "system-tokens" | "system-holdings" | "system-group";
  title: string;
  chainId: number;
  /** The report's block; for a range, its last block. */
  anchor: ReportAnchor;
  /** For statements and flows: the first block of the range. */
  from?: ReportAnchor;
  /** Key facts in display order (subject, totals). */
  summary: [string, string | number | Amount][];
  sections: Section[];
  checks: Check[];
  notes: string[];
  /** The symbol of the report's one token, carried beside amounts in JSON. */
  symbol?: string;
  /** A payout audit that found a game paying less than it claims. */
  flagged?: boolean;
}

export const isAmount = (cell: unknown): cell is Amount => typeof cell === "object" && cell !== null && "amount" in cell;

export function check(name: string, expected: bigint | string, actual: bigint | string): Check {
  return { name, ok: expected === actual, expected: String(expected), actual: String(actual) };
}

export const failedChecks = (report: Report) => report.checks.filter((c) => !c.ok);

/** `share` of `total` as a percentage with 4 decimals, exact (no floats). */
export function percent(share: bigint, total: bigint): string {
  if (total === 0n) return "0.0000%";
  const scaled = (share * 1_000_000n + total / 2n) / total;
  return `${scaled / 10_000n}.${(scaled % 10_000n).toString().padStart(4, "0")}%`;
}
