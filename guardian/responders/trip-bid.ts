import { z } from "zod";
import { gweiToWei } from "./fee-policy";

const ETH = 10n ** 18n;

/**
 * `responders.<name>.bid`: what the trip pays the builder to be first, set from what it competes with.
 * The bid is a priority fee per gas; a builder ordering by effective bid per gas puts the trip first when it
 * beats every competing bundle's.
 */
export const bidParamsSchema = z
  .object({
    /** The first submission pays at least this share of the value at risk (in total, over the trip's gas). */
    shareOfValueAtRisk: z.number().min(0).max(1).default(0.002),
    /** Never pay more than this share of the value at risk. */
    maxShareOfValueAtRisk: z.number().min(0).max(1).default(0.02),
    /** Never pay more than this, in ETH, whatever is at risk. */
    maxEth: z.number().positive().default(1),
    /** How far above the highest observed competing tip (attacker's, recent blocks') the trip bids, in percent. */
    outbidPercent: z.number().min(0).max(10_000).default(25),
    /** Blocks up to the head whose top priority fees the trip must beat. */
    recentBlocks: z.number().int().min(0).max(20).default(3),
    /**
     * Value at risk in ETH when the breaker's own ether balance does not say (a token vault): the larger of
     * the two is used.
     */
    valueAtRiskEth: z.number().min(0).optional(),
  })
  .strict()
  .refine((b) => b.maxShareOfValueAtRisk >= b.shareOfValueAtRisk, { message: "maxShareOfValueAtRisk must be at least shareOfValueAtRisk", path: ["maxShareOfValueAtRisk"] });

export type BidParams = z.infer<typeof bidParamsSchema>;

export interface BidInputs {
  /** The trip's gas limit: the bid's total is spread over it. */
  gasLimit: bigint;
  /** Wei the breaker protects (its ether balance, or the configured estimate). */
  valueAtRisk: bigint;
  /** Priority fees per gas the trip competes with: the attacker's (mined, pending) and recent blocks' top tips. */
  competingTips: bigint[];
  /** The configured starting priority fee per gas (fees.priorityFeeGwei). */
  minimumTip: bigint;
}

export interface Bid {
  /** Priority fee per gas for the first submission. */
  tip: bigint;
  /** The most the trip may pay per gas (fee bumps stop here). */
  tipCap: bigint;
  /** What set the bid, for the incident timeline. */
  reason: "minimum" | "outbid" | "value-at-risk" | "cap";
  /** The highest competing tip seen. */
  topCompetingTip: bigint;
}

function share(value: bigint, fraction: number): bigint {
  // Fractions in parts per billion keep bigint arithmetic exact enough for wei.
  return (value * BigInt(Math.round(fraction * 1e9))) / 1_000_000_000n;
}

/**
 * The trip's opening bid: the highest of the configured minimum, the top competing tip plus `outbidPercent`,
 * and `shareOfValueAtRisk` of the value at risk spread over the trip's gas; never above the cap, which is the
 * lower of `maxEth` and `maxShareOfValueAtRisk` of the value at risk (per gas). The first submission competes:
 * an attacker who tips ten times a fixed starting fee does not get a block's head start.
 */
export function tripBid(params: BidParams, inputs: BidInputs): Bid {
  const gas = inputs.gasLimit > 0n ? inputs.gasLimit : 1n;
  const topCompetingTip = inputs.competingTips.reduce((a, b) => (b > a ? b : a), 0n);
  const outbid = topCompetingTip > 0n ? (topCompetingTip * BigInt(Math.round((100 + params.outbidPercent) * 100))) / 10_000n + 1n : 0n;
  const fromValue = share(inputs.valueAtRisk, params.shareOfValueAtRisk) / gas;
  const capTotal = [gweiToWei(params.maxEth * 1e9), share(inputs.valueAtRisk, params.maxShareOfValueAtRisk)].reduce((a, b) => (b < a ? b : a));
  const capPerGas = capTotal / gas;
  // The configured minimum always applies, even when little is at risk: it is what the operator chose to pay.
  const tipCap = capPerGas > inputs.minimumTip ? capPerGas : inputs.minimumTip;
  let tip = inputs.minimumTip;
  let reason: Bid["reason"] = "minimum";
  if (outbid > tip) [tip, reason] = [outbid, "outbid"];
  if (fromValue > tip) [tip, reason] = [fromValue, "value-at-risk"];
  if (tip > tipCap) [tip, reason] = [tipCap, "cap"];
  return { tip, tipCap, reason, topCompetingTip };
}

/** What a mined or pending transaction pays the builder per gas in a block with `baseFee`. */
export function effectiveTip(tx: { maxPriorityFeePerGas?: string | null; maxFeePerGas?: string | null; gasPrice?: string | null }, baseFee: bigint): bigint {
  if (tx.maxPriorityFeePerGas != null && tx.maxFeePerGas != null) {
    const headroom = BigInt(tx.maxFeePerGas) - baseFee;
    const tip = BigInt(tx.maxPriorityFeePerGas);
    return headroom < tip ? (headroom > 0n ? headroom : 0n) : tip;
  }
  const price = tx.gasPrice != null ? BigInt(tx.gasPrice) - baseFee : 0n;
  return price > 0n ? price : 0n;
}

/** Renders wei as ETH with up to 6 decimals, for logs. */
export function formatEthShort(wei: bigint): string {
  const whole = wei / ETH;
  const frac = ((wei % ETH) * 1_000_000n) / ETH;
  return `${whole}.${frac.toString().padStart(6, "0")}`;
}
