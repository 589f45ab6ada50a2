import { Interface, type EventFragment } from "ethers";
import type { RpcClient } from "../chain/types";
import type { ReportingGame } from "./config";
import { hex } from "./chain-reader";
import { anchorOf, check, type Report } from "./report";
import { resolveRange, type ReportDeps } from "./report-context";
import { ReportArgumentError } from "./reporting-scope";
import { isoTime } from "./report";

/** z for a two-sided 95% interval. */
const Z95 = 1.959964;

export interface PayoutStats {
  bets: number;
  staked: bigint;
  paid: bigint;
  /** Realised return to player: paid / staked. */
  rtp: number;
  /** 95% confidence interval of the return to player (ratio estimator, normal approximation). */
  low: number;
  high: number;
}

/**
 * Realised return to player over bets (stake, payout) and its 95% interval. Bets of one game are not
 * of equal size, so the return is a ratio of sums; its variance is that of the ratio estimator,
 * Var(R) = sum((p_i - R s_i)^2) / (n (n-1) mean(s)^2). Amounts are scaled to floats only here.
 */
export function payoutStats(bets: readonly { stake: bigint; payout: bigint }[]): PayoutStats {
  const staked = bets.reduce((s, b) => s + b.stake, 0n);
  const paid = bets.reduce((s, b) => s + b.payout, 0n);
  const n = bets.length;
  if (n === 0 || staked === 0n) return { bets: n, staked, paid, rtp: NaN, low: NaN, high: NaN };
  const scale = Number(staked) / n; // mean stake, so the float sums stay near 1
  const rtp = Number((paid * 1_000_000_000_000n) / staked) / 1e12;
  let sq = 0;
  for (const b of bets) {
    const e = Number(b.payout) / scale - (rtp * Number(b.stake)) / scale;
    sq += e * e;
  }
  const se = n > 1 ? Math.sqrt(sq / (n * (n - 1))) : Infinity;
  return { bets: n, staked, paid, rtp, low: rtp - Z95 * se, high: rtp + Z95 * se };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : "n/a");

function eventOf(argument: string, signature: string, field: string, idField: string): { iface: Interface; fragment: EventFragment } {
  let iface: Interface;
  try {
    iface = new Interface([signature.startsWith("event ") ? signature : `event ${signature}`]);
  } catch (err) {
    throw new ReportArgumentError(argument, `"${signature}" is not an event ABI signature (${(err as Error).message.split(" (")[0]})`);
  }
  const fragment = iface.fragments[0] as EventFragment;
  for (const f of [field, idField]) {
    if (!fragment.inputs.some((i) => i.name === f)) throw new ReportArgumentError(argument, `event ${fragment.name} has no field "${f}" (fields: ${fragment.inputs.map((i) => i.name).join(", ")})`);
  }
  return { iface, fragment };
}

interface RawLog {
  topics: string[];
  data: string;
  blockNumber: string;
}

async function logsOf(rpc: RpcClient, address: string, topics: string[], from: number, to: number): Promise<RawLog[]> {
  const out: RawLog[] = [];
  for (let start = from; start <= to; start += 2_000) {
    const end = Math.min(to, start + 1_999);
    out.push(...(await rpc.request<RawLog[]>("eth_getLogs", [{ fromBlock: hex(start), toBlock: hex(end), address, topics: [topics] }])));
  }
  return out;
}

/** The game's advertised return: the configured number, or its view in basis points at `block`. */
async function claimedRtp(rpc: RpcClient, game: ReportingGame, block: number): Promise<{ value: number; source: string }> {
  if (game.claimedRtp !== undefined) return { value: game.claimedRtp, source: "reporting.games[].claimedRtp" };
  const iface = new Interface([`function ${game.claimedRtpBpsView!} view returns (uint256)`]);
  const result = await rpc.request<string>("eth_call", [{ to: game.address, data: iface.encodeFunctionData(game.claimedRtpBpsView!.replace("()", ""), []) }, hex(block)]);
  return { value: Number(BigInt(result.slice(0, 66))) / 10_000, source: `${game.claimedRtpBpsView} at block ${block}` };
}

/**
 * Gambler Watch: what a game paid against what it promised, from its own events. Bets and payouts are
 * paired by bet id (a bet without a payout returned nothing); funding and withdrawals of the bankroll are
 * not events of either kind, so they cannot pass for bets or payouts. The game is flagged when the whole
 * 95% interval of its realised return lies below its claim; a claim inside the interval passes, and the
 * report says how many bets that rests on.
 */
export async function payoutsReport(deps: ReportDeps, options: { game: string; from?: string; to?: string; period?: string }): Promise<Report> {
  const game = deps.scope.game("--game", options.game);
  const bet = eventOf("games.bet.event", game.bet.event, game.bet.amount, game.bet.id);
  const payout = eventOf("games.payout.event", game.payout.event, game.payout.amount, game.payout.id);
  const { from, to } = await resolveRange(deps, options.from, options.to, options.period);
  const logs = await logsOf(deps.rpc, game.address, [bet.fragment.topicHash, payout.fragment.topicHash], from.number, to.number);
  const bets = new Map<string, { stake: bigint; payout: bigint; block: number }>();
  const orphanPayouts: string[] = [];
  for (const log of logs) {
    const isBet = log.topics[0] === bet.fragment.topicHash;
    const { iface, fragment } = isBet ? bet : payout;
    const fields = isBet ? game.bet : game.payout;
    let args;
    try {
      args = iface.decodeEventLog(fragment, log.data, log.topics);
    } catch {
      continue; // same topic, other shape: not this game's event
    }
    const id = String(args[fields.id]);
    const amount = BigInt(args[fields.amount]);
    if (isBet) bets.set(id, { stake: (bets.get(id)?.stake ?? 0n) + amount, payout: bets.get(id)?.payout ?? 0n, block: Number(log.blockNumber) });
    else if (bets.has(id)) bets.get(id)!.payout += amount;
    else orphanPayouts.push(id);
  }
  const all = [...bets.values()];
  const stats = payoutStats(all);
  const claim = await claimedRtp(deps.rpc, game, to.number);
  const flagged = stats.bets > 1 && stats.high < claim.value;
  // Realised return over time, in 10 slices of the range, for the chart and for a reader.
  const slices = 10;
  const width = Math.max(1, Math.ceil((to.number - from.number + 1) / slices));
  const byTime = new Map<number, { stake: bigint; payout: bigint }[]>();
  for (const b of all) {
    const k = Math.floor((b.block - from.number) / width);
    byTime.set(k, [...(byTime.get(k) ?? []), b]);
  }
  const overTime = [...byTime.entries()].sort(([a], [b]) => a - b).map(([k, group]) => {
    const s = payoutStats(group);
    return [from.number + k * width, Math.min(to.number, from.number + (k + 1) * width - 1), s.bets, { amount: s.staked, decimals: 18, symbol: "ETH" }, { amount: s.paid, decimals: 18, symbol: "ETH" }, pct(s.rtp)];
  });
  const report: Report = {
    kind: "payouts",
    title: `Payouts of ${game.name}, blocks ${from.number} to ${to.number}`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(to),
    from: anchorOf(from),
    summary: [
      ["game", `${game.name} (${game.address})`],
      ["bets", stats.bets],
      ["staked", { amount: stats.staked, decimals: 18, symbol: "ETH" }],
      ["paid out", { amount: stats.paid, decimals: 18, symbol: "ETH" }],
      ["realised return to player", pct(stats.rtp)],
      ["95% interval", `${pct(stats.low)} to ${pct(stats.high)}`],
      ["claimed return to player", `${pct(claim.value)} (${claim.source})`],
      ["verdict", stats.bets < 2 ? "too few bets to judge" : flagged ? `PAYS LESS THAN CLAIMED: the whole 95% interval is below ${pct(claim.value)}` : `consistent with the claim of ${pct(claim.value)}`],
    ],
    sections: [{ title: "return to player over time", columns: ["from block", "to block", "bets", "staked", "paid out", "return to player"], rows: overTime }],
    checks: [check("every payout event answers a bet event in the range", "0", String(orphanPayouts.length))],
    notes: [
      `bets and payouts are the game's own ${bet.fragment.name} and ${payout.fragment.name} events, paired by ${game.bet.id}; bankroll funding and withdrawals are neither`,
      `period: ${isoTime(from.timestamp)} to ${isoTime(to.timestamp)}`,
    ],
    flagged,
  };
  return report;
}
