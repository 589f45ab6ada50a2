import { anchorOf, type Check, type Report } from "./report";
import { resolveBlock, type ReportDeps } from "./report-context";
import { checkHoldings, etherNotFollowedNote, holdingsAt } from "./holdings";

/**
 * The holdings report for every member of a contract group (or of all groups of an industry) and the
 * group's totals per asset, each member checked against the node like a single holdings report.
 */
export async function groupReport(deps: ReportDeps, options: { group: string; block?: string }): Promise<Report> {
  const group = deps.scope.group("--group", options.group);
  const block = await resolveBlock(deps, "--block", options.block);
  const memberRows: Report["sections"][number]["rows"] = [];
  const totals = new Map<string, { asset: string; tokenId: string; amount: bigint; decimals: number }>();
  const checks: Check[] = [];
  const notes: string[] = [];
  for (const member of group.members) {
    const holdings = holdingsAt(deps, member.address, block);
    for (const h of holdings) {
      memberRows.push([member.name, member.address, h.asset, h.tokenId, h.balance]);
      const key = h.token + "|" + h.tokenId;
      const t = totals.get(key) ?? { asset: h.asset, tokenId: h.tokenId, amount: 0n, decimals: h.balance.decimals };
      t.amount += h.balance.amount;
      totals.set(key, t);
    }
    checks.push(...(await checkHoldings(deps, member.address, holdings, block)));
    notes.push(...etherNotFollowedNote(deps, member));
  }
  return {
    kind: "group",
    title: `Group ${group.name}`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(block),
    summary: [
      ["group", group.name],
      ["members", group.members.length],
    ],
    sections: [
      { title: "totals", columns: ["asset", "id", "balance"], rows: [...totals.values()].map((t) => [t.asset, t.tokenId, { amount: t.amount, decimals: t.decimals }]) },
      { title: "members", columns: ["member", "address", "asset", "id", "balance"], rows: memberRows },
    ],
    checks,
    notes,
  };
}
