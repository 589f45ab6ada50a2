import { z } from "zod";

const GWEI = 1_000_000_000n;

export const feeParamsSchema = z
  .object({
    /** Priority fee of the first submission, in gwei. */
    priorityFeeGwei: z.number().positive().default(2),
    /** Raise of the priority fee for each block the trip is not included, in percent. */
    bumpPercent: z.number().min(1).max(200).default(20),
    /** Cap on the priority fee, in gwei; bumps and outbids stop here. */
    maxPriorityFeeGwei: z.number().positive().default(100),
    /** Cap on the max fee per gas, in gwei; nothing is sent while the base fee alone exceeds it. */
    maxFeeGwei: z.number().positive().default(500),
    /** How far above a pending attacker's priority fee the trip bids, in percent. */
    outbidPercent: z.number().min(0).max(1000).default(10),
  })
  .strict()
  .refine((f) => f.maxPriorityFeeGwei >= f.priorityFeeGwei, { message: "maxPriorityFeeGwei must be at least priorityFeeGwei", path: ["maxPriorityFeeGwei"] })
  .refine((f) => f.maxFeeGwei >= f.maxPriorityFeeGwei, { message: "maxFeeGwei must be at least maxPriorityFeeGwei", path: ["maxFeeGwei"] });

export type FeeParams = z.infer<typeof feeParamsSchema>;

export interface Fees {
  maxPriorityFeePerGas: bigint;
  maxFeePerGas: bigint;
}

export function gweiToWei(gwei: number): bigint {
  // Through a fixed-point string so 0.1 gwei is exactly 100000000 wei.
  const [whole, fraction = ""] = gwei.toFixed(9).split(".");
  return BigInt(whole) * GWEI + BigInt(fraction.padEnd(9, "0").slice(0, 9));
}

/**
 * The trip's fees, block after block: start at the configured priority fee (or above a pending attacker's
 * effective tip, so a fee-ordering builder puts the trip first), raise it by `bumpPercent` for each block
 * without inclusion, and never exceed the caps.
 */
export class FeePolicy {
  readonly maxPriorityFee: bigint;
  readonly maxFee: bigint;
  /** The priority fee of the first submission. */
  readonly initialTip: bigint;
  private tip: bigint;
  private readonly bumpPercent: bigint;
  /** Set when the attacker pays more than the cap allows us to outbid. */
  readonly outbidCapped: boolean;

  /**
   * `bid` (see trip-bid.ts) raises the opening priority fee and, with it, the caps: the bid's own cap is in ETH
   * and as a share of the value at risk, which may allow more per gas than `maxPriorityFeeGwei`.
   */
  constructor(params: FeeParams, attacker?: { maxPriorityFeePerGas: bigint; maxFeePerGas?: bigint }, baseFee = 0n, bid?: { tip: bigint; tipCap: bigint }) {
    const gweiCap = gweiToWei(params.maxPriorityFeeGwei);
    this.maxPriorityFee = bid && bid.tipCap > gweiCap ? bid.tipCap : gweiCap;
    const maxFee = gweiToWei(params.maxFeeGwei);
    // Room for the bid on top of twice the base fee, as `current` asks for.
    this.maxFee = bid && bid.tipCap + 2n * baseFee > maxFee ? bid.tipCap + 2n * baseFee : maxFee;
    this.bumpPercent = BigInt(Math.round(params.bumpPercent * 100));
    let tip = gweiToWei(params.priorityFeeGwei);
    let capped = false;
    if (attacker) {
      const attackerTip = attacker.maxFeePerGas !== undefined && attacker.maxFeePerGas - baseFee < attacker.maxPriorityFeePerGas
        ? attacker.maxFeePerGas - baseFee
        : attacker.maxPriorityFeePerGas;
      const outbid = (attackerTip * BigInt(Math.round((100 + params.outbidPercent) * 100))) / 10_000n + 1n;
      if (outbid > tip) tip = outbid;
      capped = tip > this.maxPriorityFee;
    }
    if (bid && bid.tip > tip) tip = bid.tip;
    this.tip = tip > this.maxPriorityFee ? this.maxPriorityFee : tip;
    this.initialTip = this.tip;
    this.outbidCapped = capped;
  }

  /** Fees for a block with `baseFee`; undefined while the base fee leaves no room under the max fee cap. */
  current(baseFee: bigint): Fees | undefined {
    if (baseFee >= this.maxFee) return undefined;
    const tip = baseFee + this.tip > this.maxFee ? this.maxFee - baseFee : this.tip;
    // Twice the base fee keeps the transaction valid through several full blocks of base-fee growth.
    const wanted = 2n * baseFee + tip;
    return { maxPriorityFeePerGas: tip, maxFeePerGas: wanted > this.maxFee ? this.maxFee : wanted };
  }

  /** Raises the priority fee for the next block; returns false once it is at the cap. */
  bump(): boolean {
    if (this.tip >= this.maxPriorityFee) return false;
    const raised = (this.tip * (10_000n + this.bumpPercent)) / 10_000n;
    this.tip = raised > this.tip ? (raised > this.maxPriorityFee ? this.maxPriorityFee : raised) : this.tip + 1n;
    return true;
  }
}
