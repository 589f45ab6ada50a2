import { anchorOf, type Check, type Report } from "./report";
import { resolveBlock, type ReportDeps } from "./report-context";
import { checkHoldings, etherNotFollowedNote, holdingsAt } from "./holdings";
import { flowsReport } from "./flows";

/**
 * The holdings report for every member of a contract group (or of all groups of an industry) and the
 * group's totals per asset, each member checked against the node like a single holdings report. With a
 * block range (`from`/`to`), each member's flows over it too, checked like a single flows report.
 */
export async function groupReport(deps: ReportDeps, options: { group: string; block?: string; from?: string; to?: string; period?: string }): Promise<Report> {
  const group = deps.scope.group("--group", options.group);
  const block = await resolveBlock(deps, "--block", options.block);
  const memberRows: Report["sections"][number]["rows"] = [];
  const totals = new Map<string, { asset: string; tokenId: string; amount: bigint; decimals: number }>();
  const checks: Check[] = [];
  const notes: string[] = [];
  for (const member of group.members) {
    const holdings = await holdingsAt(deps, member.address, block);
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
  const sections: Report["sections"] = [
    { title: "totals", columns: ["asset", "id", "balance"], rows: [...totals.values()].map((t) => [t.asset, t.tokenId, { amount: t.amount, decimals: t.decimals }]) },
    { title: "members", columns: ["member", "address", "asset", "id", "balance"], rows: memberRows },
  ];
  if (options.from !== undefined || options.to !== undefined || options.period !== undefined) {
    const flowRows: Report["sections"][number]["rows"] = [];
    let columns: string[] = [];
    for (const member of group.members) {
      const flows = await flowsReport(deps, { contract: member.address, from: options.from, to: options.to, period: options.period });
      columns = ["member", ...flows.sections[0].columns];
      for (const row of flows.sections[0].rows) flowRows.push([member.name, ...row]);
      checks.push(...flows.checks.map((c) => ({ ...c, name: `${member.name}: ${c.name}` })));
    }
    sections.push({ title: "flows", columns, rows: flowRows });
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
    sections,
    checks,
    notes,
  };
}
