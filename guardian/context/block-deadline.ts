import { RpcTimeoutError } from "../chain/errors";
import { makeFinding } from "../detectors/finding";
import type { Finding } from "../detectors/types";
import type { BlockContext, DegradedBlock } from "./types";

/** How a block's call trees were obtained, cheapest per transaction first on most nodes. */
export type TraceCostMode = "block" | "parity" | "tx";

/** A block that could not be traced within its deadline. */
export class BlockDeadlineExceeded extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what}: not answered within the block deadline of ${ms} ms`);
  }
}

export function isDeadlineOrTimeout(err: unknown): boolean {
  return err instanceof BlockDeadlineExceeded || err instanceof RpcTimeoutError;
}

/** Rejects with BlockDeadlineExceeded after `ms`; the request itself is left to its own client's timeout. */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) {
    work.catch(() => undefined);
    return Promise.reject(new BlockDeadlineExceeded(what, 0));
  }
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BlockDeadlineExceeded(what, ms)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Milliseconds per transaction assumed before any block was traced in that mode (anvil's callTracer costs ~27). */
const PRIOR_MS_PER_TX: Record<TraceCostMode, number> = { block: 20, parity: 1, tx: 25 };
const MIN_DEADLINE_MS = 500;
const LINEAR_UP_TO = 64;
const MAX_DERIVED_DEADLINE_MS = 6_000;

/**
 * The per-block time budget and what each trace mode has cost so far. A block whose predicted trace time is over
 * the budget is never asked for whole: on many nodes (anvil among them) a trace request that times out keeps the
 * node busy anyway, so asking and waiting is what stalls the guardian. The deadline is the configured one, or
 * half the chain's block time as seen in block timestamps (a block is then handled before the next one lands).
 */
export class TraceBudget {
  private readonly msPerTx = new Map<TraceCostMode, number>();
  /** The most transactions one traced block held in each mode: predictions beyond it are extrapolated. */
  private readonly largest = new Map<TraceCostMode, number>();
  private blockTimeMs?: number;
  private lastTimestamp?: number;

  constructor(private readonly configuredMs?: number) {}

  deadlineMs(): number {
    if (this.configuredMs !== undefined) return this.configuredMs;
    const derived = this.blockTimeMs !== undefined ? this.blockTimeMs / 2 : 2_000;
    return Math.max(MIN_DEADLINE_MS, Math.min(MAX_DERIVED_DEADLINE_MS, derived));
  }

  /** Learns the block time from consecutive timestamps (seconds), ignoring gaps after downtime. */
  observeTimestamp(timestamp: number): void {
    const last = this.lastTimestamp;
    this.lastTimestamp = timestamp;
    if (last === undefined || timestamp <= last || timestamp - last > 60) return;
    const ms = (timestamp - last) * 1000;
    this.blockTimeMs = this.blockTimeMs === undefined ? ms : this.blockTimeMs * 0.8 + ms * 0.2;
  }

  /**
   * Linear up to the largest block seen in this mode (at least LINEAR_UP_TO), quadratic beyond it: some nodes
   * re-execute the block once per transaction to trace it (anvil does), and a guess that is too low leaves the
   * node busy for minutes with a request nobody waits for any more.
   */
  predictMs(mode: TraceCostMode, txs: number): number {
    const perTx = this.msPerTx.get(mode) ?? PRIOR_MS_PER_TX[mode];
    const seen = Math.max(this.largest.get(mode) ?? 0, LINEAR_UP_TO);
    return txs * perTx * Math.max(1, txs / seen);
  }

  /** A trace that answered: its cost per transaction feeds the next prediction. */
  record(mode: TraceCostMode, txs: number, ms: number): void {
    if (txs === 0) return;
    const perTx = ms / txs;
    const previous = this.msPerTx.get(mode);
    this.msPerTx.set(mode, previous === undefined ? perTx : previous * 0.7 + perTx * 0.3);
    if (txs > (this.largest.get(mode) ?? 0)) this.largest.set(mode, txs);
  }

  /** A trace that did not answer in `ms`: it costs at least half again as much per transaction. */
  penalize(mode: TraceCostMode, txs: number, ms: number): void {
    if (txs === 0) return;
    const floor = (ms / txs) * 1.5;
    this.msPerTx.set(mode, Math.max(this.msPerTx.get(mode) ?? 0, floor));
  }
}

/** The `degraded-block` finding: what the guardian could not see in a block, so an operator can look. */
export function degradedBlockFinding(ctx: Pick<BlockContext, "chainId" | "number" | "hash">, degraded: DegradedBlock): Finding {
  return makeFinding({
    detectorId: "degraded-block",
    severity: "high",
    title: `block ${ctx.number} only partly traced: ${degraded.untraced} of ${degraded.transactions} transactions seen by receipts and logs alone`,
    block: ctx,
    subject: "degraded",
    evidence: { ...degraded },
  });
}

/**
 * At most `limit` heavy trace requests in flight per builder: the pipeline fetches several blocks ahead, and on a
 * struggling node eight block traces at once are what keep it struggling. Waiters run in arrival (block) order.
 */
export class TraceLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
