import type { BlockRef } from "../chain/types";
import type { Holding } from "./index-store";
import { check, failedChecks, type Report } from "./report";
import type { ReportDeps } from "./report-context";
import { balanceOfAt } from "./onchain";
import type { TokenView } from "./token-view";

/** Unchecked holders named in a report's notes; the rest are counted. */
const LISTED_UNCHECKED = 20;

/**
 * The cap table's self-check: every holder whose balance changed since the last block a report fully
 * verified (or since the index's first block) is re-read with balanceOf, largest balance first, up to
 * `reporting.checkBudget`. Holders that did not change keep a balance that was checked before, and the
 * sum against totalSupply() covers anything that moves without an event. The report states how many
 * changed, how many were checked and names the ones that were not; a block is recorded as verified only
 * when nothing was left out and every check passed, so the next report starts from it.
 */
export async function checkChangedHolders(deps: ReportDeps, view: TokenView, tokenId: string, block: BlockRef, listed: readonly Holding[], report: Report): Promise<void> {
  const { store, scope, rpc } = deps;
  const token = view.token;
  const anchor = Number(store.meta("anchor"));
  const since = store.lastVerified(token.address, tokenId, block.number) ?? anchor;
  const changed = since >= block.number ? [] : store.changedHolders(token.address, tokenId, since, block.number);
  changed.sort((a, b) => (a.balance === b.balance ? (a.holder < b.holder ? -1 : 1) : a.balance > b.balance ? -1 : 1));
  const budget = Math.max(scope.config.checkBudget, scope.config.sampleBalances);
  const checked = changed.slice(0, budget);
  const skipped = changed.slice(budget);
  // The largest listed holders are re-read as well, changed or not: they are what a reader looks at first.
  const inChecked = new Set(checked.map((h) => h.holder));
  const largest = listed.slice(0, scope.config.sampleBalances).filter((h) => !inChecked.has(h.holder));
  checked.push(...largest);
  for (let i = 0; i < checked.length; i += 32) {
    const slice = checked.slice(i, i + 32);
    const onNode = await Promise.all(slice.map((h) => balanceOfAt(rpc, token, h.holder, tokenId, block.number)));
    slice.forEach((h, j) => report.checks.push(check(`balanceOf(${h.holder}) at block ${block.number}`, onNode[j], h.balance)));
  }
  const scopeText = since === anchor ? `since the index's first block ${anchor}` : `since block ${since}, the last block a report verified`;
  report.summary.push([
    "self-check",
    `${changed.length - skipped.length} of ${changed.length} holders whose balance changed ${scopeText} checked with balanceOf (budget ${budget}), and the ${largest.length} other largest listed holders`,
  ]);
  if (skipped.length > 0) {
    const named = skipped.slice(0, LISTED_UNCHECKED).map((h) => h.holder).join(", ");
    report.notes.push(`not checked (over the budget of ${budget}): ${skipped.length} holders: ${named}${skipped.length > LISTED_UNCHECKED ? `, and ${skipped.length - LISTED_UNCHECKED} more` : ""}`);
  } else if (failedChecks(report).length === 0) {
    store.markVerified(token.address, tokenId, block.number);
  }
}
