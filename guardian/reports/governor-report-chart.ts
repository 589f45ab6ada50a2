import type { Provider } from "ethers";
import { ICircuitBreaker__factory, IERC20Metadata__factory } from "../../typechain-types";
import { escapeHtml, formatAmount } from "./governor-format";

/** One block of the chart; amounts are base units as decimal strings (JSON-safe). */
export interface ChartPoint {
  block: number;
  timestamp: number;
  /** What the protected contract held at the end of the block. */
  balance: string;
  /** Net outflow in the block: what the balance fell by since the previous point (0 when it rose). */
  outflow: string;
  /** The breaker's outflowState(asset).available at the end of the previous point: what the limit let leave in this block. */
  available?: string;
}

export interface GovernorChart {
  asset: string;
  symbol: string;
  decimals: number;
  firstFindingBlock?: number;
  tripBlock?: number;
  /** The breaker's limit for the asset (outflowLimit); absent when the breaker tracks no limit for it. */
  limit?: { bps: number; windowSeconds: number };
  points: ChartPoint[];
  /** True when the range was longer than the points: each point then covers several blocks. */
  sampled: boolean;
}

/** Enough points to see the shape of an attack on a phone, few enough to read from any node quickly. */
export const MAX_CHART_POINTS = 48;
/** Blocks shown before the first finding and after the trip. */
export const CHART_MARGIN_BLOCKS = 6;

/**
 * Reads the protected contract's balance of `asset` (a vault's underlying, or ether as "native") at each block
 * around the trip, and the breaker's available outflow before each, from the node (archive state for old blocks).
 */
export async function readChart(
  provider: Provider,
  input: { contract: string; breaker: string; asset: string; symbol: string; decimals: number; firstFindingBlock?: number; tripBlock?: number; head: number },
): Promise<GovernorChart | undefined> {
  const anchor = input.firstFindingBlock ?? input.tripBlock;
  if (anchor === undefined) return undefined;
  const from = Math.max(0, Math.min(anchor, input.tripBlock ?? anchor) - CHART_MARGIN_BLOCKS);
  const to = Math.min(input.head, Math.max(anchor, input.tripBlock ?? anchor) + CHART_MARGIN_BLOCKS);
  const span = to - from + 1;
  const step = Math.max(1, Math.ceil(span / MAX_CHART_POINTS));
  const blocks: number[] = [];
  for (let b = from; b <= to; b += step) blocks.push(b);
  if (blocks.at(-1) !== to) blocks.push(to);
  for (const marker of [input.firstFindingBlock, input.tripBlock]) {
    if (marker !== undefined && marker >= from && marker <= to && !blocks.includes(marker)) blocks.push(marker);
  }
  blocks.sort((a, b) => a - b);

  const native = input.asset === "native";
  const token = native ? undefined : IERC20Metadata__factory.connect(input.asset, provider);
  const breaker = ICircuitBreaker__factory.connect(input.breaker, provider);
  const limitAsset = native ? "0x0000000000000000000000000000000000000000" : input.asset;
  const [limit] = await Promise.all([breaker.outflowLimit(limitAsset).catch(() => undefined)]);
  const read = async (block: number) => {
    const [balance, header, state] = await Promise.all([
      native
        ? provider.getBalance(input.contract, block)
        : // Before the token existed (the range starts a few blocks early) there is no balance to read: zero.
          token!.balanceOf(input.contract, { blockTag: block }).catch(async (err: unknown) => ((await provider.getCode(input.asset, block)) === "0x" ? 0n : Promise.reject(err))),
      provider.getBlock(block),
      limit && limit.bps > 0n ? breaker.outflowState(limitAsset, { blockTag: block }).catch(() => undefined) : undefined,
    ]);
    return { block, timestamp: header?.timestamp ?? 0, balance, available: state?.available };
  };
  const rows: Awaited<ReturnType<typeof read>>[] = [];
  // Before the range too: the first point's outflow is measured against the block before it.
  const before = from > 0 ? await read(from - 1) : undefined;
  for (const b of blocks) rows.push(await read(b));
  const points: ChartPoint[] = rows.map((r, i) => {
    const prev = i === 0 ? before : rows[i - 1];
    const outflow = prev && prev.balance > r.balance ? prev.balance - r.balance : 0n;
    return {
      block: r.block,
      timestamp: r.timestamp,
      balance: r.balance.toString(),
      outflow: outflow.toString(),
      ...(prev?.available !== undefined ? { available: prev.available.toString() } : {}),
    };
  });
  return {
    asset: input.asset,
    symbol: input.symbol,
    decimals: input.decimals,
    ...(input.firstFindingBlock !== undefined ? { firstFindingBlock: input.firstFindingBlock } : {}),
    ...(input.tripBlock !== undefined ? { tripBlock: input.tripBlock } : {}),
    ...(limit && limit.bps > 0n ? { limit: { bps: Number(limit.bps), windowSeconds: Number(limit.window) } } : {}),
    points,
    sampled: step > 1,
  };
}

const W = 640;
const H = 220;
const PAD = { left: 12, right: 12, top: 52, bottom: 30 };
/** Large enough to read when the chart is scaled down to a phone's width. */
const FONT = 17;

/** Scales bigints to the plot without losing precision on 18-decimal amounts. */
function scaler(max: bigint) {
  const top = max > 0n ? max : 1n;
  const height = H - PAD.top - PAD.bottom;
  return (v: bigint) => PAD.top + height - Number((v * BigInt(height * 1000)) / top) / 1000;
}

function xOf(i: number, n: number): number {
  const width = W - PAD.left - PAD.right;
  return PAD.left + (n <= 1 ? width / 2 : (i * width) / (n - 1));
}

function markers(c: GovernorChart): string {
  const n = c.points.length;
  const parts: string[] = [];
  for (const [block, label, color, row] of [
    [c.firstFindingBlock, "finding", "#b45309", 0],
    [c.tripBlock, "trip", "#b91c1c", 1],
  ] as const) {
    const i = block === undefined ? -1 : c.points.findIndex((p) => p.block === block);
    if (i < 0) continue;
    const x = xOf(i, n).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="${color}" stroke-dasharray="4 3"/>`,
      // Labels inside the plot, one row each, on the side with room, so they never overlap the legend or each other.
      `<text x="${x}" y="${PAD.top + FONT + row * (FONT + 4)}" dx="${i > n / 2 ? -4 : 4}" fill="${color}" font-size="${FONT}" text-anchor="${i > n / 2 ? "end" : "start"}">${label} ${block}</text>`,
    );
  }
  const first = c.points[0];
  const last = c.points.at(-1)!;
  parts.push(
    `<text x="${PAD.left}" y="${H - 10}" font-size="${FONT}" fill="#555">block ${first.block}</text>`,
    `<text x="${W - PAD.right}" y="${H - 10}" font-size="${FONT}" fill="#555" text-anchor="end">block ${last.block}</text>`,
  );
  return parts.join("");
}

function svg(id: string, title: string, desc: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${id}-t ${id}-d" font-family="system-ui,sans-serif" class="chart" id="${id}">` +
    `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(desc)}</desc>` +
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>${body}</svg>`
  );
}

/** The vault's balance around the trip: a line, with the first finding and the trip marked. */
export function balanceSvg(c: GovernorChart): string {
  const values = c.points.map((p) => BigInt(p.balance));
  const max = values.reduce((a, b) => (b > a ? b : a), 0n);
  const y = scaler(max);
  const n = c.points.length;
  const path = values.map((v, i) => `${i === 0 ? "M" : "L"}${xOf(i, n).toFixed(1)} ${y(v).toFixed(1)}`).join(" ");
  const amount = (v: bigint) => formatAmount(v.toString(), c.decimals, c.symbol);
  const desc = `From ${amount(values[0])} at block ${c.points[0].block} to ${amount(values.at(-1)!)} at block ${c.points.at(-1)!.block}; highest ${amount(max)}.`;
  return svg(
    "chart-balance",
    `Balance of ${c.symbol} around the trip`,
    desc,
    `<path d="${path}" fill="none" stroke="#1d4ed8" stroke-width="2.5"/>` +
      `<text x="${PAD.left}" y="${FONT + 4}" font-size="${FONT}" fill="#1d4ed8">balance, highest ${escapeHtml(amount(max))}</text>` +
      markers(c),
  );
}

/** Outflow per block (bars) against what the breaker's limit still allowed (a stepped line). */
export function outflowSvg(c: GovernorChart): string {
  const outflows = c.points.map((p) => BigInt(p.outflow));
  const available = c.points.map((p) => (p.available === undefined ? undefined : BigInt(p.available)));
  const max = [...outflows, ...available.filter((v): v is bigint => v !== undefined)].reduce((a, b) => (b > a ? b : a), 0n);
  const y = scaler(max);
  const n = c.points.length;
  const bar = Math.max(2, (W - PAD.left - PAD.right) / Math.max(n, 1) - 3);
  const bars = outflows
    .map((v, i) => (v === 0n ? "" : `<rect x="${(xOf(i, n) - bar / 2).toFixed(1)}" y="${y(v).toFixed(1)}" width="${bar.toFixed(1)}" height="${(H - PAD.bottom - y(v)).toFixed(1)}" fill="#dc2626" opacity="0.8"/>`))
    .join("");
  const limitPath = available
    .map((v, i) => (v === undefined ? "" : `${i === 0 || available[i - 1] === undefined ? "M" : "L"}${xOf(i, n).toFixed(1)} ${y(v).toFixed(1)}`))
    .filter(Boolean)
    .join(" ");
  const amount = (v: bigint) => formatAmount(v.toString(), c.decimals, c.symbol);
  const biggest = outflows.reduce((a, b) => (b > a ? b : a), 0n);
  const limitText = c.limit ? `limit ${c.limit.bps / 100}% of holdings per ${c.limit.windowSeconds} s window` : "no outflow limit configured for this asset";
  return svg(
    "chart-outflow",
    `Outflow of ${c.symbol} per block against the limit`,
    `Largest outflow in one block ${amount(biggest)}; ${limitText}.`,
    bars +
      (limitPath ? `<path d="${limitPath}" fill="none" stroke="#047857" stroke-width="2" stroke-dasharray="6 3"/>` : "") +
      `<text x="${PAD.left}" y="${FONT + 4}" font-size="${FONT}" fill="#dc2626">outflow/block, max ${escapeHtml(amount(biggest))}</text>` +
      `<text x="${PAD.left}" y="${2 * FONT + 8}" font-size="${FONT}" fill="#047857">${escapeHtml(limitPath ? "- - still allowed by the limit" : limitText)}</text>` +
      markers(c),
  );
}
