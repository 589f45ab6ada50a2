import { ReportArgumentError } from "./reporting-scope";
import type { BlockRef } from "../chain/types";
import type { ReportingToken } from "../config/reporting";
import { anchorOf, check, percent, type Report } from "./report";
import { resolveBlock, sampleHolders, type ReportDeps } from "./report-context";
import { balanceOfAt, totalSupplyAt } from "./onchain";
import type { Holding } from "./index-store";

export interface CapTableOptions {
  token: string;
  block?: string;
  top?: string | number;
  /** ERC-1155 only: the id whose holders are listed. */
  id?: string;
}

/**
 * The cap table from the index alone (no node). At the head it reads the ranking index (only the top
 * `top` rows when given) and the maintained totals; at a past block each holder's last checkpoint.
 */
export function buildCapTable(
  index: Pick<ReportDeps, "store" | "scope"> & { chainId: number },
  token: ReportingToken,
  tokenId: string,
  block: BlockRef,
  top?: number,
): { report: Report; holders: Holding[]; total: bigint } {
  const { store, scope } = index;
  const atHead = block.number === store.cursor()!.number;
  const holders = atHead ? store.holders(token.address, tokenId, undefined, top) : store.holders(token.address, tokenId, block.number);
  const listed = holders.reduce((sum, h) => sum + h.balance, 0n);
  const maintained = atHead ? store.totals(token.address, tokenId) : undefined;
  const total = maintained?.total ?? listed;
  const count = maintained?.holders ?? holders.length;
  const decimals = token.standard === "erc20" ? (token.decimals ?? 18) : 0;
  const shown = top === undefined ? holders : holders.slice(0, top);
  const shownTotal = shown.reduce((sum, h) => sum + h.balance, 0n);
  const report: Report = {
    kind: "cap-table",
    title: `Cap table of ${token.name}${tokenId ? ` id ${tokenId}` : ""}`,
    chainId: index.chainId,
    anchor: anchorOf(block),
    summary: [
      ["token", `${token.name} (${token.address}, ${token.standard})`],
      ["holders", count],
      ["total held", { amount: total, decimals }],
      ...(top === undefined ? [] : ([[`top ${top} hold`, percent(shownTotal, total)]] as [string, string][])),
    ],
    sections: [
      {
        title: "holders",
        columns: ["rank", "holder", "name", "balance", "share"],
        rows: shown.map((h, i) => [i + 1, h.holder, scope.label(h.holder) === h.holder ? "" : scope.label(h.holder), { amount: h.balance, decimals }, percent(h.balance, total)]),
      },
    ],
    checks: [],
    notes: [],
  };
  if (maintained && top === undefined) {
    // With every holder listed, the maintained totals must agree with the rows they summarise.
    report.checks.push(check("sum of listed balances = the index's maintained total", maintained.total, listed));
    report.checks.push(check("holders listed = the index's maintained holder count", String(maintained.holders), String(holders.length)));
  }
  return { report, holders, total };
}

/**
 * Who holds a token at a block and how much, checked against the token itself: the sum of balances must
 * equal totalSupply() at that block, and sampled holders' balances must equal balanceOf.
 */
export async function capTableReport(deps: ReportDeps, options: CapTableOptions): Promise<Report> {
  const token = deps.scope.token("--token", options.token);
  const top = parseTop(options.top);
  let tokenId = "";
  if (token.standard === "erc1155") {
    if (options.id === undefined || !/^\d+$/.test(options.id)) throw new ReportArgumentError("--id", `${token.name} is an ERC-1155 token: name the id to list with --id <number>`);
    tokenId = BigInt(options.id).toString();
  } else if (options.id !== undefined) {
    throw new ReportArgumentError("--id", `${token.name} is ${token.standard.toUpperCase()}, which has no per-id cap table`);
  }
  const block = await resolveBlock(deps, "--block", options.block);
  const { report, holders, total } = buildCapTable({ ...deps, chainId: deps.rpc.chainId }, token, tokenId, block, top);
  const supply = await totalSupplyAt(deps.rpc, token, tokenId, block.number);
  if (supply === null) report.notes.push(`${token.name} has no totalSupply() view, so the sum of balances could not be checked against it`);
  else report.checks.push(check(`sum of balances = totalSupply() at block ${block.number}`, supply, total));
  for (const h of sampleHolders(holders, deps.scope.config.sampleBalances, block.hash)) {
    report.checks.push(check(`balanceOf(${h.holder}) at block ${block.number}`, await balanceOfAt(deps.rpc, token, h.holder, tokenId, block.number), h.balance));
  }
  return report;
}

function parseTop(top: string | number | undefined): number | undefined {
  if (top === undefined) return undefined;
  const text = String(top);
  if (!/^\d+$/.test(text) || Number(text) === 0) throw new ReportArgumentError("--top", `"${top}" is not a positive whole number`);
  return Number(text);
}
