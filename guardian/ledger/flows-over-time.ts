import { ETHER, isFee } from "./movement";
import { anchorOf, type Cell, type Report } from "./report";
import { resolveRange, type ReportDeps } from "./report-context";
import { ReportArgumentError } from "./reporting-scope";
import { tokenView } from "./token-view";

/**
 * A contract's inflow and outflow per asset in equal slices of a block range, from the index: the data of
 * the "flows over time" chart. Transfers with a configured game's bankroll are funding and left out, as
 * in `report flows`; fees are not flows.
 */
export async function flowsOverTime(deps: ReportDeps, options: { contract: string; from?: string; to?: string; period?: string; slices?: string }): Promise<Report> {
  const contract = deps.scope.address("--contract", options.contract);
  const slices = Number(options.slices ?? 12);
  if (!Number.isInteger(slices) || slices < 1 || slices > 500) throw new ReportArgumentError("--slices", `"${options.slices}" is not a whole number from 1 to 500`);
  const { from, to } = await resolveRange(deps, options.from, options.to, options.period);
  const bankroll = new Set(deps.scope.gameAt(contract.address)?.bankroll ?? []);
  const width = Math.max(1, Math.ceil((to.number - from.number + 1) / slices));
  const cells = new Map<string, { asset: string; decimals: number; symbol?: string; inflow: bigint[]; outflow: bigint[] }>();
  const assetOf = (token: string) => {
    let a = cells.get(token);
    if (!a) {
      const view = token === ETHER ? undefined : tokenView(deps.store, deps.scope, deps.scope.token("token", token));
      a = { asset: view ? view.token.name : "ETH", decimals: view ? view.decimals : 18, symbol: view ? (view.symbol ?? undefined) : "ETH", inflow: Array(slices).fill(0n), outflow: Array(slices).fill(0n) };
      cells.set(token, a);
    }
    return a;
  };
  for (const m of deps.store.movementsOf(contract.address, from.number, to.number)) {
    if (m.kind === "erc1155" || isFee(m.kind)) continue;
    const incoming = m.to === contract.address;
    if (bankroll.has(incoming ? m.from : m.to)) continue;
    const a = assetOf(m.token);
    const k = Math.min(slices - 1, Math.floor((m.blockNumber - from.number) / width));
    if (incoming) a.inflow[k] += m.amount;
    else a.outflow[k] += m.amount;
  }
  const rows: Cell[][] = [];
  for (const a of cells.values()) {
    for (let k = 0; k < slices; k++) {
      const start = from.number + k * width;
      if (start > to.number) break;
      rows.push([a.asset, start, Math.min(to.number, start + width - 1), { amount: a.inflow[k], decimals: a.decimals, symbol: a.symbol }, { amount: a.outflow[k], decimals: a.decimals, symbol: a.symbol }]);
    }
  }
  return {
    kind: "flows-over-time",
    title: `Flows of ${contract.name} over time, blocks ${from.number} to ${to.number}`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(to),
    from: anchorOf(from),
    summary: [["contract", contract.name === contract.address ? contract.address : `${contract.name} (${contract.address})`], ["slice", `${width} blocks`]],
    sections: [{ title: "flows over time", columns: ["asset", "from block", "to block", "in", "out"], rows }],
    checks: [],
    notes: bankroll.size > 0 ? ["transfers with the game's bankroll are funding and left out"] : [],
  };
}
