import { ETHER, isFee } from "./movement";
import { anchorOf, check, percent, type Amount, type Check, type Report } from "./report";
import { resolveRange, type ReportDeps } from "./report-context";
import { ReportArgumentError } from "./reporting-scope";
import { balanceOfAt, etherBalanceAt } from "./onchain";
import { etherNotFollowedNote, tokenNotes } from "./holdings";
import { tokenView } from "./token-view";

export interface FlowsOptions {
  contract: string;
  from?: string;
  to?: string;
  period?: string;
  top?: string | number;
}

interface AssetFlow {
  asset: string;
  token: string;
  decimals: number;
  inflow: bigint;
  outflow: bigint;
  fees: bigint;
  /** Funding from and withdrawals to the game's configured bankroll: not play, so not in the ratio. */
  bankrollIn: bigint;
  bankrollOut: bigint;
  inCount: number;
  outCount: number;
  counterparties: Map<string, { inflow: bigint; outflow: bigint; count: number }>;
}

/**
 * What went into and out of a contract over a block range, per asset: totals, counts, counterparties and
 * the payout ratio (out / in), which is how one checks that a game pays out at the rate it claims.
 * Self-check: the node's balance change over the range equals in - out - fees, per asset.
 */
export async function flowsReport(deps: ReportDeps, options: FlowsOptions): Promise<Report> {
  const contract = deps.scope.address("--contract", options.contract);
  const { from, to } = await resolveRange(deps, options.from, options.to, options.period);
  const top = options.top === undefined ? 20 : Number(options.top);
  if (!Number.isInteger(top) || top <= 0) throw new ReportArgumentError("--top", `"${options.top}" is not a positive whole number`);

  const game = deps.scope.gameAt(contract.address);
  const bankroll = new Set(game?.bankroll ?? []);
  const flows = new Map<string, AssetFlow>();
  const flowOf = (token: string): AssetFlow => {
    let f = flows.get(token);
    if (!f) {
      const configured = token === ETHER ? undefined : deps.scope.token("token", token);
      const view = configured && tokenView(deps.store, deps.scope, configured);
      f = {
        asset: configured ? configured.name : "ETH",
        token,
        decimals: view ? view.decimals : 18,
        inflow: 0n,
        outflow: 0n,
        fees: 0n,
        bankrollIn: 0n,
        bankrollOut: 0n,
        inCount: 0,
        outCount: 0,
        counterparties: new Map(),
      };
      flows.set(token, f);
    }
    return f;
  };
  if (deps.scope.followsEther(contract.address)) flowOf(ETHER);
  const aside = deps.store.unverifiable();
  for (const t of deps.scope.tokens()) if (t.standard !== "erc1155" && !aside.has(t.address)) flowOf(t.address);
  for (const m of deps.store.movementsOf(contract.address, from.number, to.number)) {
    if (m.kind === "erc1155") continue; // ids do not add up to one asset; the statement lists them per id
    const f = flowOf(m.token);
    if (isFee(m.kind) && m.from === contract.address) {
      f.fees += m.amount; // a tip the contract paid to itself as fee recipient comes back as inflow below
      if (m.to !== contract.address) continue;
    }
    const incoming = m.to === contract.address;
    const counterparty = incoming ? m.from : m.to;
    if (bankroll.has(counterparty)) {
      if (incoming) f.bankrollIn += m.amount;
      else f.bankrollOut += m.amount;
      continue;
    }
    const c = f.counterparties.get(counterparty) ?? { inflow: 0n, outflow: 0n, count: 0 };
    c.count++;
    if (incoming) {
      f.inflow += m.amount;
      f.inCount++;
      c.inflow += m.amount;
    } else {
      f.outflow += m.amount;
      f.outCount++;
      c.outflow += m.amount;
    }
    f.counterparties.set(counterparty, c);
  }

  const ordered = [...flows.values()].sort((a, b) => (a.token === ETHER ? -1 : b.token === ETHER ? 1 : a.asset < b.asset ? -1 : 1));
  const checks: Check[] = [];
  const before = from.number - 1;
  for (const f of ordered) {
    const balanceAt = (block: number) =>
      f.token === ETHER ? etherBalanceAt(deps.rpc, contract.address, block) : balanceOfAt(deps.rpc, deps.scope.token("token", f.token), contract.address, "", block);
    const change = (await balanceAt(to.number)) - (await balanceAt(before));
    checks.push(
      check(`${f.asset}: node's balance change over blocks ${from.number}-${to.number} = in - out + bankroll in - bankroll out - fees`, change, f.inflow - f.outflow + f.bankrollIn - f.bankrollOut - f.fees),
    );
  }
  const counterpartyRows = ordered.flatMap((f) =>
    [...f.counterparties.entries()]
      .sort(([aAddr, a], [bAddr, b]) => {
        const va = a.inflow + a.outflow;
        const vb = b.inflow + b.outflow;
        return va === vb ? (aAddr < bAddr ? -1 : 1) : va > vb ? -1 : 1;
      })
      .slice(0, top)
      .map(([address, c]) => [f.asset, address, deps.scope.label(address) === address ? "" : deps.scope.label(address), c.count, { amount: c.inflow, decimals: f.decimals }, { amount: c.outflow, decimals: f.decimals }]),
  );
  const amount = (f: AssetFlow, value: bigint): Amount => ({ amount: value, decimals: f.decimals });
  return {
    kind: "flows",
    title: `Flows of ${contract.name}, blocks ${from.number} to ${to.number}`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(to),
    from: anchorOf(from),
    summary: [["contract", contract.name === contract.address ? contract.address : `${contract.name} (${contract.address})`]],
    sections: [
      {
        title: "flows",
        columns: ["asset", "in", "out", "fees", "net", "transfers in", "transfers out", "counterparties", "payout ratio", "bankroll in", "bankroll out"],
        rows: ordered.map((f) => [
          f.asset,
          amount(f, f.inflow),
          amount(f, f.outflow),
          amount(f, f.fees),
          amount(f, f.inflow - f.outflow - f.fees),
          f.inCount,
          f.outCount,
          f.counterparties.size,
          f.inflow === 0n ? "n/a" : percent(f.outflow, f.inflow),
          amount(f, f.bankrollIn),
          amount(f, f.bankrollOut),
        ]),
      },
      { title: `counterparties (top ${top} per asset by volume)`, columns: ["asset", "counterparty", "name", "transfers", "in", "out"], rows: counterpartyRows },
    ],
    checks,
    notes: [
      ...etherNotFollowedNote(deps, contract),
      ...tokenNotes(deps),
      game
        ? `${game.name} is a configured game: transfers with its bankroll (${game.bankroll.join(", ") || "none configured"}) are funding, not play, and stay out of in, out and the payout ratio; \`report payouts --game ${game.name}\` audits its own events`
        : "payout ratio = out / in over every counterparty; for a game, configure it under reporting.games with its bankroll so that funding and owner withdrawals are not counted as play",
    ],
  };
}
