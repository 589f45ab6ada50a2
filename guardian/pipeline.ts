import type { Logger } from "pino";
import type { BlockRef, ChainEvent, ReorgEvent, RpcClient } from "./chain/types";
import { CallBatch } from "./chain/call-batch";
import { isRetryable } from "./chain/errors";
import type { BlockContextBuilder } from "./context/build-block-context";
import type { BlockContext } from "./context/types";
import type { FindingSink } from "./decisions/types";
import type { Detector, Finding, StateChanges } from "./detectors/types";
import { bigintSafe } from "./state/guardian-store";
import type { GuardianStateStore } from "./state/store";
import type { GuardianMetrics } from "./ops/metrics";
import type { ChainHealth } from "./ops/health-server";
import { LookAhead } from "./context/look-ahead";
import { degradedBlockFinding } from "./context/block-deadline";
import { beyondWindowFinding, clockSkewFinding } from "./chain/integrity-findings";
import { repairTraceGaps, traceGapFinding, traceGaps, type TraceGap } from "./chain/trace-integrity";

/**
 * Block contexts fetched ahead while catching up. Detectors run strictly in block order; fetching the next
 * blocks meanwhile hides the node's latency behind their work.
 */
export const DEFAULT_PREFETCH = 8;

/** A detector as configured: `key` names it in the store (`reentrancy@Vault`, `reorg`). */
export interface DetectorInstance {
  key: string;
  detector: Detector;
}

export interface BlockTiming {
  number: number;
  hash: string;
  /** From the start of handling the block (including waiting for its context) to its commit. */
  ms: number;
  /** Of which: waiting for the block context (node I/O), running the detectors, the store commit. */
  contextMs: number;
  detectMs: number;
  commitMs: number;
  transactions: number;
  findings: number;
}

export interface PipelineDeps {
  chainId: number;
  /** The chain's client: a block's context and the detectors' reads at that block go out through it as one batch. */
  rpc: RpcClient;
  logger: Logger;
  metrics: GuardianMetrics;
  store: GuardianStateStore;
  /** A BlockContextBuilder in production; anything that builds contexts by block ref in tests. */
  contexts: Pick<BlockContextBuilder, "build">;
  detectors: DetectorInstance[];
  /** Called in order for every block with new findings; the trip path comes first. */
  sinks: FindingSink[];
  /** Must match the follower's window: blocks older than this leave the store's unfinalized set. */
  window: number;
  /** Contexts fetched ahead while catching up over a batch of blocks. */
  prefetch?: number;
  health?: ChainHealth;
  onBlockCommitted?: (timing: BlockTiming) => void;
  /** Head blocks whose timestamp is further than this from the wall clock raise a clock-skew alert. */
  maxClockSkewSeconds?: number;
  /** Wall clock, replaceable in tests. */
  now?: () => number;
}

/**
 * chain events -> block context -> detectors -> store -> sinks, for one chain. Each block is committed
 * in one store transaction (cursor, findings, detector state) and only then handed to the sinks, which
 * are told again after a crash for anything they had not acknowledged (at-least-once, deduplicated by id).
 */
export class Pipeline {
  private readonly chain: string;
  private readonly log: Logger;

  /** Detector state before any block, to reset to when a failure hits before the first commit. */
  private readonly initialStates: Map<string, unknown>;
  /** Tail of the `exclusive` queue. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: PipelineDeps) {
    this.chain = String(deps.chainId);
    this.log = deps.logger;
    // Snapshot through JSON, exactly as the store would hand it back.
    this.initialStates = new Map(
      [...this.detectorStates()].map(([k, v]) => [k, JSON.parse(JSON.stringify(v ?? null, bigintSafe))]),
    );
  }

  /** Restores detector state saved with the cursor, then re-delivers findings the sinks never acknowledged. */
  async restore(): Promise<void> {
    await this.reloadDetectorStates();
    const pending = await this.deps.store.undeliveredFindings(this.deps.chainId);
    if (pending.length === 0) return;
    this.log.info({ findings: pending.length }, "delivering findings committed before the last stop");
    const byBlock = new Map<string, Finding[]>();
    for (const f of pending) byBlock.set(f.blockHash, [...(byBlock.get(f.blockHash) ?? []), f]);
    for (const [hash, findings] of byBlock) {
      const ctx = await this.deps.contexts.build({ number: findings[0].blockNumber, hash }).catch(() => headerOnly({ number: findings[0].blockNumber, hash, parentHash: "", timestamp: 0 }, this.deps.chainId));
      await this.deliver(findings, ctx);
    }
  }

  /**
   * The follower's handler: processes events strictly in order. If a block fails, detectors go back to
   * the state committed with the cursor, so the retry does not count that block twice.
   */
  readonly handle = async (events: ChainEvent[]): Promise<void> => {
    try {
      await this.process(events);
    } catch (err) {
      await this.exclusive(async () => this.reloadDetectorStates());
      throw err;
    }
  };

  /**
   * Runs `run` while no block or reorg is between its detectors and its commit. The mempool watch runs
   * the same detector instances over pending transactions under this lock: its save/restore of their
   * windowed state must not interleave with a mined block's update of that state. Waiters run in order.
   */
  readonly exclusive = <T>(run: () => Promise<T>): Promise<T> => {
    const result = this.lock.then(run);
    this.lock = result.catch(() => undefined);
    return result;
  };

  private async process(events: ChainEvent[]): Promise<void> {
    const blocks = events.flatMap((e) => (e.kind === "block" ? [e.block] : []));
    const contexts = new LookAhead(blocks, (b) => this.fetchBlock(b), this.deps.prefetch ?? DEFAULT_PREFETCH);
    for (const event of events) {
      if (event.kind === "reorg") {
        await this.onReorg(event.reorg);
      } else if (event.kind === "finalize") {
        this.deps.metrics.finalized.set({ chain: this.chain }, event.block.number);
      } else {
        const started = performance.now();
        const ctx = await contexts.next();
        await this.onBlock(event.block, ctx, started, performance.now() - started);
      }
    }
  }

  /** The block's context, with every detector's own reads for that block in the same round trip. */
  private fetchBlock(block: BlockRef): Promise<BlockContext> {
    const batch = new CallBatch(this.deps.rpc);
    const context = this.deps.contexts.build(block, batch);
    for (const { key, detector } of this.deps.detectors) {
      if (!detector.prefetch) continue;
      try {
        detector.prefetch(block, context, batch);
      } catch (err) {
        // Only an early start was lost: onBlock reads for itself.
        this.log.warn({ err, detector_id: key, block_number: block.number }, "detector prefetch failed");
      }
    }
    return context;
  }

  private async onBlock(block: BlockRef, ctx: BlockContext, started: number, contextMs: number): Promise<void> {
    // Only a block with gaps waits here: the usual block goes straight to its detectors (no extra turn).
    const gaps = traceGaps(ctx);
    const degraded = gaps.length > 0 ? await this.checkTraces(ctx, gaps) : [];
    let detectStart = 0;
    let commitStart = 0;
    const fresh = await this.exclusive(async () => {
      detectStart = performance.now();
      const findings = await runDetectors(this.deps.detectors, ctx, (key, err) => this.onDetectorError(key, err, ctx.number));
      // What the block's context could not see within its deadline is itself a finding, so someone looks.
      if (ctx.degraded) findings.push(degradedBlockFinding(ctx, ctx.degraded));
      commitStart = performance.now();
      return this.deps.store.commitBlock(this.deps.chainId, {
        block,
        findings,
        ...this.stateToCommit(),
        pruneBelow: block.number - this.deps.window + 1,
      });
    });
    const end = performance.now();
    const ms = end - started;
    this.deps.metrics.blocksProcessed.inc({ chain: this.chain });
    this.deps.metrics.blockSeconds.observe({ chain: this.chain }, ms / 1000);
    this.deps.metrics.cursor.set({ chain: this.chain }, block.number);
    if (this.deps.health) {
      this.deps.health.cursor = block.number;
      this.deps.health.lastBlockAt = Date.now();
    }
    this.log.debug({ block_number: block.number, txs: ctx.transactions.length, findings: fresh.length, ms: Math.round(ms) }, "block processed");
    const skewed = this.checkClock(block);
    this.deps.onBlockCommitted?.({
      number: block.number,
      hash: block.hash,
      ms,
      contextMs,
      detectMs: commitStart - detectStart,
      commitMs: end - commitStart,
      transactions: ctx.transactions.length,
      findings: fresh.length,
    });
    if (fresh.length > 0) await this.deliver(fresh, ctx);
    for (const f of degraded) await this.reportAnomaly(f, block);
    if (skewed) await this.reportAnomaly(skewed, block);
  }

  /**
   * Receipts that show calls into protected contracts must come with traces that reach them: empty or inconsistent
   * traces make every call-tree detector blind without a word. Such transactions are re-traced another way; what
   * still does not hold together is processed degraded, and each is a finding and a recent error on /healthz.
   */
  private async checkTraces(ctx: BlockContext, gaps: TraceGap[]): Promise<Finding[]> {
    const left = await repairTraceGaps(this.deps.rpc, gaps);
    this.log.warn({ block_number: ctx.number, gaps: gaps.length, repaired: gaps.length - left.length }, "traces missing or inconsistent with the receipts; re-traced per transaction");
    if (left.length === 0) return [];
    const message = `block ${ctx.number}: ${left.length} transaction(s) reaching protected contracts have no usable trace`;
    this.log.error({ block_number: ctx.number, txs: left.map((g) => g.tx.hash) }, `degraded: ${message}`);
    if (this.deps.health) {
      this.deps.health.lastError = message;
      this.deps.health.lastErrorAt = Date.now();
    }
    return left.map((g) => traceGapFinding(ctx, g));
  }

  /**
   * At the head (not while catching up, when old blocks are old), the block's timestamp and the wall clock must
   * agree within the bound: a skewed clock makes signed alerts refused and incident times wrong. Crossing the bound
   * is one finding and an error; /healthz reports the skew until the clock is back.
   */
  private checkClock(block: BlockRef): Finding | undefined {
    const bound = this.deps.maxClockSkewSeconds;
    const health = this.deps.health;
    if (bound === undefined || !health || health.head === undefined || health.head - block.number > 1 || !block.timestamp) return undefined;
    const skew = Math.round((this.deps.now ?? Date.now)() / 1000 - block.timestamp);
    if (Math.abs(skew) <= bound) {
      if (health.clockSkewSeconds !== undefined) this.log.info({ skew_s: skew, bound_s: bound }, "clock back within the bound of the head block's timestamp");
      health.clockSkewSeconds = undefined;
      return undefined;
    }
    const first = health.clockSkewSeconds === undefined;
    health.clockSkewSeconds = skew;
    if (!first) return undefined;
    this.log.error({ skew_s: skew, bound_s: bound, block_number: block.number, block_timestamp: block.timestamp }, "clock skew: the wall clock and the head block's timestamp disagree beyond the bound");
    return clockSkewFinding(this.deps.chainId, block, skew, bound);
  }

  private async onReorg(reorg: ReorgEvent): Promise<void> {
    const ancestor = reorg.commonAncestor.number;
    const { retracted, fresh } = await this.exclusive(async () => {
      const findings = await runDetectors(this.deps.detectors, reorg, (key, err) => this.onDetectorError(key, err, ancestor));
      for (const { detector } of this.deps.detectors) detector.rewind?.(ancestor);
      return this.deps.store.commitReorg(this.deps.chainId, {
        reorg,
        findings,
        ...this.stateToCommit(),
      });
    });
    this.deps.metrics.reorgs.inc({ chain: this.chain });
    this.deps.metrics.reorgDepth.observe({ chain: this.chain }, reorg.depth);
    this.deps.metrics.retractions.inc({ chain: this.chain }, retracted.length);
    this.deps.metrics.cursor.set({ chain: this.chain }, ancestor);
    if (this.deps.health) this.deps.health.cursor = ancestor;
    this.log.warn(
      {
        depth: reorg.depth,
        common_ancestor: ancestor,
        orphaned: reorg.orphaned.map((b) => b.hash),
        added: reorg.added.map((b) => b.hash),
        retracted: retracted.length,
      },
      "reorg: retracting findings of orphaned blocks and re-evaluating the new branch",
    );
    if (retracted.length > 0) {
      for (const sink of this.deps.sinks) {
        if (!sink.onRetractions) continue;
        try {
          await sink.onRetractions(retracted, reorg);
        } catch (err) {
          this.log.error({ err, sink: sink.name }, "sink failed on retractions");
        }
      }
    }
    // Every reorg, retractions or not: a trip included in an orphaned block leaves no finding to retract.
    for (const sink of this.deps.sinks) {
      if (!sink.onReorg) continue;
      try {
        await sink.onReorg(reorg);
      } catch (err) {
        this.log.error({ err, sink: sink.name }, "sink failed on a reorg");
      }
    }
    if (reorg.beyondWindow) {
      const ref = reorg.commonAncestor;
      await this.reportAnomaly(beyondWindowFinding(this.deps.chainId, ref, reorg.depth, reorg.orphanedBlockHashes?.length ?? 0), ref);
    }
    // Reorg findings are anchored on a block of the new branch; hand them over with that block's header.
    const byBlock = new Map<string, Finding[]>();
    for (const f of fresh) byBlock.set(f.blockHash, [...(byBlock.get(f.blockHash) ?? []), f]);
    for (const [hash, findings] of byBlock) {
      const ref = [...reorg.added, reorg.commonAncestor].find((b) => b.hash === hash) ?? { number: findings[0].blockNumber, hash, parentHash: "", timestamp: 0 };
      await this.deliver(findings, headerOnly(ref, this.deps.chainId));
    }
  }

  /**
   * A finding the guardian raises about its own input (a lying node, a trace that does not match the receipts):
   * committed like a detector's, then handed to the sinks with the block's header.
   */
  async reportAnomaly(finding: Finding, block: BlockRef): Promise<void> {
    const fresh = await this.exclusive(async () => this.deps.store.recordFindings([finding]));
    if (fresh.length > 0) await this.deliver(fresh, headerOnly(block, this.deps.chainId));
  }

  private async deliver(findings: Finding[], ctx: BlockContext): Promise<void> {
    for (const f of findings) this.deps.metrics.findings.inc({ chain: this.chain, detector: f.detectorId, severity: f.severity });
    let allDelivered = true;
    for (const sink of this.deps.sinks) {
      try {
        await sink.onFindings(findings, ctx);
      } catch (err) {
        allDelivered = false;
        this.log.error({ err, sink: sink.name, findings: findings.map((f) => f.id) }, "sink failed; findings stay pending and are re-sent on restart");
      }
    }
    if (allDelivered) await this.deps.store.markDelivered(findings.map((f) => f.id));
  }

  private onDetectorError(key: string, err: unknown, blockNumber: number): void {
    this.deps.metrics.detectorErrors.inc({ chain: this.chain, detector: key });
    this.log.error({ err, detector_id: key, block_number: blockNumber }, "detector failed on this block");
  }

  private async reloadDetectorStates(): Promise<void> {
    const states = await this.deps.store.detectorStates(this.deps.chainId);
    for (const { key, detector } of this.deps.detectors) {
      if (!detector.loadState) continue;
      if (states.has(key)) {
        detector.loadState(states.get(key));
        // What was just loaded is exactly what the store holds: nothing to write back.
        detector.saveChanges?.();
      } else if (this.initialStates.has(key)) detector.loadState(this.initialStates.get(key));
    }
  }

  /** Every stateful detector's state for the commit: whole, or only what changed for those that can say. */
  private stateToCommit(): { detectorStates: Map<string, unknown>; detectorChanges: Map<string, StateChanges> } {
    const detectorStates = new Map<string, unknown>();
    const detectorChanges = new Map<string, StateChanges>();
    for (const { key, detector } of this.deps.detectors) {
      if (detector.saveChanges) detectorChanges.set(key, detector.saveChanges());
      else if (detector.saveState) detectorStates.set(key, detector.saveState());
    }
    return { detectorStates, detectorChanges };
  }

  private detectorStates(): Map<string, unknown> {
    const states = new Map<string, unknown>();
    for (const { key, detector } of this.deps.detectors) if (detector.saveState) states.set(key, detector.saveState());
    return states;
  }
}

/**
 * Runs every detector over a block context (`onBlock`) or a reorg (`onReorg`) and returns their findings,
 * deduplicated by id. A detector that throws a transient RPC error fails the whole call, so the block is
 * retried rather than silently left unchecked; any other error is that detector's bug: `onError` hears
 * of it and the other detectors' findings stand.
 */
export async function runDetectors(
  detectors: readonly DetectorInstance[],
  input: BlockContext | ReorgEvent,
  onError: (key: string, err: unknown) => void,
): Promise<Finding[]> {
  const isReorg = "orphaned" in input;
  const results = await Promise.all(
    detectors.map(async ({ key, detector }) => {
      try {
        if (isReorg) return detector.onReorg ? await detector.onReorg(input) : [];
        return await detector.onBlock(input);
      } catch (err) {
        if (isRetryable(err)) throw err;
        onError(key, err);
        return [];
      }
    }),
  );
  const byId = new Map<string, Finding>();
  for (const f of results.flat()) if (!byId.has(f.id)) byId.set(f.id, f);
  return [...byId.values()];
}

function headerOnly(ref: BlockRef, chainId: number): BlockContext {
  return { chainId, number: ref.number, hash: ref.hash, parentHash: ref.parentHash, timestamp: ref.timestamp, transactions: [] };
}
