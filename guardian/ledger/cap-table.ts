import { ReportArgumentError } from "./reporting-scope";
import type { BlockRef } from "../chain/types";
import type { ReportingToken } from "./config";
import { anchorOf, check, percent, type Report } from "./report";
import { resolveBlock, type ReportDeps } from "./report-context";
import { balanceOfAt, totalSupplyAt } from "./onchain";
import type { Holding } from "./index-store";
import { modeText, tokenView, unverifiableText, type TokenView } from "./token-view";
import { checkChangedHolders } from "./self-check";

export interface CapTableOptions {
  token: string;
  block?: string;
  top?: string | number;
  /** ERC-1155 only: the id whose holders are listed. */
  id?: string;
}

/**
 * The cap table from the index alone (no node). At the head it reads the ranking index (only the top
 * `top` rows when given) and the maintained totals; at a past block the top `top` from the nearest
 * snapshot when that is exact, else each holder's balance at the block (its last entry at or below it).
 */
export function buildCapTable(
  index: Pick<ReportDeps, "store" | "scope"> & { chainId: number },
  token: ReportingToken,
  tokenId: string,
  block: BlockRef,
  top?: number,
  stateHolders?: Holding[],
): { report: Report; holders: Holding[]; total: bigint; count: number } {
  const { store, scope } = index;
  const view = tokenView(store, scope, token);
  const atHead = block.number === store.cursor()!.number && !stateHolders;
  // A past top K comes from the nearest snapshot when it can be exact, with the total and holder count
  // the index kept for that block; otherwise (or for every holder) each holder's balance at the block.
  const past = !atHead && !stateHolders && top !== undefined ? store.topHoldersAt(token.address, tokenId, block.number, top) : undefined;
  const holders = stateHolders ?? past?.holders ?? (atHead ? store.holders(token.address, tokenId, undefined, top) : store.holders(token.address, tokenId, block.number));
  const listed = holders.reduce((sum, h) => sum + h.balance, 0n);
  const maintained = atHead ? store.totals(token.address, tokenId) : past && { total: past.total, holders: past.count };
  const total = maintained?.total ?? listed;
  const count = maintained?.holders ?? holders.length;
  const decimals = view.decimals;
  const symbol = view.symbol ?? undefined;
  const shown = top === undefined ? holders : holders.slice(0, top);
  const shownTotal = shown.reduce((sum, h) => sum + h.balance, 0n);
  const report: Report = {
    kind: "cap-table",
    title: `Cap table of ${token.name}${tokenId ? ` id ${tokenId}` : ""}`,
    chainId: index.chainId,
    anchor: anchorOf(block),
    summary: [
      ["token", `${token.name} (${token.address}, ${token.standard})`],
      ["name", view.name ?? "(none)"],
      ["symbol", view.symbol ?? "(none)"],
      ["decimals", decimals],
      ["balances", modeText(view, block.number)],
      ["holders", count],
      ["total held", { amount: total, decimals, symbol }],
      ...(top === undefined ? [] : ([[`top ${top} hold`, percent(shownTotal, total)]] as [string, string][])),
    ],
    sections: [
      {
        title: "holders",
        columns: ["rank", "holder", "name", "balance", "share"],
        rows: shown.map((h, i) => [i + 1, h.holder, scope.label(h.holder) === h.holder ? "" : scope.label(h.holder), { amount: h.balance, decimals, symbol }, percent(h.balance, total)]),
      },
    ],
    checks: [],
    notes: [...view.notes],
    symbol: view.symbol ?? undefined,
  };
  if (atHead && maintained && top === undefined) {
    // With every holder listed, the maintained totals must agree with the rows they summarise.
    report.checks.push(check("sum of listed balances = the index's maintained total", maintained.total, listed));
    report.checks.push(check("holders listed = the index's maintained holder count", String(maintained.holders), String(holders.length)));
  }
  return { report, holders, total, count };
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
  const view = tokenView(deps.store, deps.scope, token);
  if (view.unverifiable) throw new ReportArgumentError("--token", unverifiableText(view.unverifiable, token.name));
  const block = await resolveBlock(deps, "--block", options.block);
  const state = view.mode === "state" ? await stateHoldings(deps, view, tokenId, block) : undefined;
  const { report, holders, total } = buildCapTable({ ...deps, chainId: deps.rpc.chainId }, token, tokenId, block, top, state);
  const supply = await totalSupplyAt(deps.rpc, token, tokenId, block.number);
  if (supply === null) report.notes.push(`${token.name} has no totalSupply() view, so the sum of balances could not be checked against it`);
  else report.checks.push(check(`sum of balances = totalSupply() at block ${block.number}`, supply, total));
  if (state) {
    report.notes.push(`every balance was read from the node (balanceOf at block ${block.number}) for the ${state.length} holders with a balance among those the events revealed; the sum check catches a holder no event revealed`);
  } else {
    await checkChangedHolders(deps, view, tokenId, block, holders, report);
  }
  return report;
}

/** balanceOf at `block` for every holder a state-mode token's events revealed, non-zero ones, largest first. */
async function stateHoldings(deps: ReportDeps, view: TokenView, tokenId: string, block: BlockRef): Promise<Holding[]> {
  const addresses = deps.store.stateHolders(view.token.address, block.number);
  const out: Holding[] = [];
  for (let i = 0; i < addresses.length; i += 32) {
    const slice = addresses.slice(i, i + 32);
    const balances = await Promise.all(slice.map((h) => balanceOfAt(deps.rpc, view.token, h, tokenId, block.number)));
    slice.forEach((holder, j) => balances[j] > 0n && out.push({ holder, balance: balances[j] }));
  }
  return out.sort((a, b) => (a.balance === b.balance ? (a.holder < b.holder ? -1 : 1) : a.balance > b.balance ? -1 : 1));
}

function parseTop(top: string | number | undefined): number | undefined {
  if (top === undefined) return undefined;
  const text = String(top);
  if (!/^\d+$/.test(text) || Number(text) === 0) throw new ReportArgumentError("--top", `"${top}" is not a positive whole number`);
  return Number(text);
}
