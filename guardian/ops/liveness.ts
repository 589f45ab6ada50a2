import { Gauge } from "prom-client";
import type { Logger } from "pino";
import { z } from "zod";
import type { FindingSink } from "../decisions/types";
import { makeFinding } from "../detectors/finding";
import type { Finding } from "../detectors/types";
import type { ChainHealth } from "./health-server";
import type { GuardianMetrics } from "./metrics";

/** `chains[].liveness`: when the guardian says it is behind or silent. */
export const livenessConfigSchema = z
  .object({
    /** Alert once the cursor trails the node's head by more than this many blocks. */
    maxLagBlocks: z.number().int().min(1).default(5),
    /** ... or has trailed it for more than this many seconds. */
    maxLagSeconds: z.number().positive().default(60),
    /** Alert when no block was processed for this long, head moving or not (a stuck node looks idle too). */
    heartbeatSeconds: z.number().positive().default(300),
    /** How often the watchdog looks, in ms. */
    checkIntervalMs: z.number().int().min(50).default(1_000),
  })
  .strict();

export type LivenessConfig = z.infer<typeof livenessConfigSchema>;

const ZERO_HASH = `0x${"0".repeat(64)}`;

/**
 * The guardian's liveness, as a metric and as alerts (Forta bots were silent for weeks without anyone knowing):
 * `failsafe_head_lag_seconds` and `failsafe_seconds_since_last_block`; a `liveness` finding (severity high, so
 * it alerts and never trips under the default policy) when the cursor falls behind the head by more than
 * `maxLagBlocks` or for more than `maxLagSeconds`, one when nothing was processed for `heartbeatSeconds`, and one
 * at the next check when the chain is in a critical state (its store deleted or swapped under it).
 * Each condition alerts once per episode and again only after it cleared.
 */
export class LivenessWatch {
  private readonly lagSeconds: Gauge;
  private readonly sinceLast: Gauge;
  private behindSince?: number;
  private readonly raised = new Set<"behind" | "heartbeat" | "critical">();
  private timer?: NodeJS.Timeout;
  private readonly startedAt: number;

  constructor(
    private readonly config: LivenessConfig,
    private readonly deps: { health: ChainHealth; metrics: GuardianMetrics; sinks: readonly FindingSink[]; logger: Logger; now?: () => number },
  ) {
    const registry = deps.metrics.registry;
    this.lagSeconds = (registry.getSingleMetric("failsafe_head_lag_seconds") as Gauge | undefined) ?? new Gauge({ name: "failsafe_head_lag_seconds", help: "Seconds the cursor has trailed the node's head", labelNames: ["chain"], registers: [registry] });
    this.sinceLast = (registry.getSingleMetric("failsafe_seconds_since_last_block") as Gauge | undefined) ?? new Gauge({ name: "failsafe_seconds_since_last_block", help: "Seconds since a block was last processed", labelNames: ["chain"], registers: [registry] });
    this.startedAt = this.now();
  }

  start(): void {
    const tick = () => {
      void this.check().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.config.checkIntervalMs);
      });
    };
    this.timer = setTimeout(tick, this.config.checkIntervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The liveness signal as a verdict, for a leader among several guardians: it has processed nothing for the
   * heartbeat while following the chain keeps failing (a chain that is merely quiet is not a stall). A stalled leader
   * gives its chain to a standby whose node may serve it. Being behind is not enough: every guardian is behind while
   * the shared database is away, and that is the lease's to handle.
   */
  get stalled(): boolean {
    const { health } = this.deps;
    const failedAt = Math.max(health.lastErrorAt ?? 0, health.lastSyncFailureAt ?? 0);
    const failing = failedAt > 0 && this.now() - failedAt < this.config.heartbeatSeconds * 1000;
    return this.raised.has("heartbeat") && failing;
  }

  /** One look: updates the gauges and returns the findings it raised (already handed to the sinks). */
  async check(): Promise<Finding[]> {
    const { health } = this.deps;
    const now = this.now();
    const chain = String(health.chainId);
    const lagBlocks = health.head !== undefined && health.cursor !== undefined ? Math.max(0, health.head - health.cursor) : 0;
    if (lagBlocks > 0) this.behindSince ??= now;
    else this.behindSince = undefined;
    const lagSeconds = this.behindSince !== undefined ? (now - this.behindSince) / 1000 : 0;
    const idleSeconds = (now - (health.lastBlockAt ?? this.startedAt)) / 1000;
    this.lagSeconds.set({ chain }, lagSeconds);
    this.sinceLast.set({ chain }, idleSeconds);

    const raised: Finding[] = [];
    const behind = lagBlocks > this.config.maxLagBlocks || lagSeconds > this.config.maxLagSeconds;
    if (behind && !this.raised.has("behind")) {
      raised.push(this.finding("behind", `guardian behind the head: ${lagBlocks} blocks, ${Math.round(lagSeconds)} s`, { lagBlocks, lagSeconds: Math.round(lagSeconds), head: health.head, cursor: health.cursor, maxLagBlocks: this.config.maxLagBlocks, maxLagSeconds: this.config.maxLagSeconds }));
    }
    if (!behind) this.raised.delete("behind");
    const silent = idleSeconds > this.config.heartbeatSeconds;
    if (silent && !this.raised.has("heartbeat")) {
      raised.push(this.finding("heartbeat", `guardian processed no block for ${Math.round(idleSeconds)} s`, { idleSeconds: Math.round(idleSeconds), heartbeatSeconds: this.config.heartbeatSeconds, head: health.head, cursor: health.cursor, lastError: health.lastError }));
    }
    if (!silent) this.raised.delete("heartbeat");
    // A state no waiting mends (the store deleted or swapped): alert at once, not after the heartbeat.
    const critical = health.critical ?? [];
    if (critical.length > 0 && !this.raised.has("critical")) {
      raised.push(this.finding("critical", `guardian critical: ${critical.join("; ")}`, { problems: critical, head: health.head, cursor: health.cursor }));
    }
    if (critical.length === 0) this.raised.delete("critical");
    if (raised.length === 0) return raised;

    const ctx = { chainId: health.chainId, number: health.cursor ?? 0, hash: ZERO_HASH, parentHash: ZERO_HASH, timestamp: Math.floor(now / 1000), transactions: [] };
    for (const f of raised) this.deps.logger.error({ detector_id: f.detectorId, evidence: f.evidence }, f.title);
    for (const sink of this.deps.sinks) {
      try {
        await sink.onFindings(raised, ctx);
      } catch (err) {
        this.deps.logger.error({ err, sink: sink.name }, "sink failed on a liveness alert");
      }
    }
    return raised;
  }

  private finding(kind: "behind" | "heartbeat" | "critical", title: string, evidence: Record<string, unknown>): Finding {
    this.raised.add(kind);
    const { health } = this.deps;
    // One id per episode: the subject names the cursor it started at.
    return makeFinding({ detectorId: "liveness", severity: "high", title, block: { chainId: health.chainId, number: health.cursor ?? 0, hash: ZERO_HASH }, subject: `${kind}:${health.cursor ?? "none"}:${this.now()}`, evidence: { kind, ...evidence } });
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }
}
