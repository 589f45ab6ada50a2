import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The guardian's Prometheus metrics on their own registry (never prom-client's global one), so tests and
 * several guardians in one process do not collide. Other stages add theirs to `registry`.
 */
export class GuardianMetrics {
  readonly registry = new Registry();

  readonly head = new Gauge({ name: "failsafe_chain_head_block", help: "Latest block number the node reported", labelNames: ["chain"], registers: [this.registry] });
  readonly cursor = new Gauge({ name: "failsafe_cursor_block", help: "Last block fully processed and committed", labelNames: ["chain"], registers: [this.registry] });
  readonly headLag = new Gauge({ name: "failsafe_head_lag_blocks", help: "Blocks between the node's head and the cursor", labelNames: ["chain"], registers: [this.registry] });
  readonly finalized = new Gauge({ name: "failsafe_finalized_block", help: "Highest block past the configured confirmations", labelNames: ["chain"], registers: [this.registry] });
  readonly blocksProcessed = new Counter({ name: "failsafe_blocks_processed_total", help: "Blocks run through the detectors and committed", labelNames: ["chain"], registers: [this.registry] });
  readonly blockSeconds = new Histogram({
    name: "failsafe_block_processing_seconds",
    help: "Context build + detectors + commit, per block",
    labelNames: ["chain"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly headEvents = new Counter({ name: "failsafe_head_anomalies_total", help: "Head notifications that were missed (gap), duplicate or out of order", labelNames: ["chain", "kind"], registers: [this.registry] });
  readonly rpcErrors = new Counter({ name: "failsafe_rpc_errors_total", help: "Failed JSON-RPC attempts by error class", labelNames: ["chain", "kind"], registers: [this.registry] });
  readonly rpcRetries = new Counter({ name: "failsafe_rpc_retries_total", help: "JSON-RPC attempts retried after a retryable error", labelNames: ["chain", "method"], registers: [this.registry] });
  readonly findings = new Counter({ name: "failsafe_findings_total", help: "New findings (after deduplication)", labelNames: ["chain", "detector", "severity"], registers: [this.registry] });
  readonly retractions = new Counter({ name: "failsafe_findings_retracted_total", help: "Findings retracted because their block was orphaned", labelNames: ["chain"], registers: [this.registry] });
  readonly detectorErrors = new Counter({ name: "failsafe_detector_errors_total", help: "Detector invocations that threw", labelNames: ["chain", "detector"], registers: [this.registry] });
  readonly reorgs = new Counter({ name: "failsafe_reorgs_total", help: "Reorgs seen", labelNames: ["chain"], registers: [this.registry] });
  readonly reorgDepth = new Histogram({ name: "failsafe_reorg_depth_blocks", help: "Depth of reorgs seen", labelNames: ["chain"], buckets: [1, 2, 3, 5, 8, 13, 21, 34, 64], registers: [this.registry] });

  /** Several guardians on one PostgreSQL store: 1 while this process leads the chain's block processing. */
  readonly leader = new Gauge({ name: "failsafe_leader", help: "1 while this guardian holds the chain's lease and processes its blocks, 0 as a standby", labelNames: ["chain"], registers: [this.registry] });
  readonly leaseToken = new Gauge({ name: "failsafe_lease_token", help: "Fencing token of the chain's lease this guardian holds (grows at every change of leader)", labelNames: ["chain"], registers: [this.registry] });
  readonly leaseRenewedAt = new Gauge({ name: "failsafe_lease_renewed_timestamp_seconds", help: "When this guardian last renewed the chain's lease (lease age = now - this)", labelNames: ["chain"], registers: [this.registry] });
  readonly leaderChanges = new Counter({ name: "failsafe_leader_changes_total", help: "Terms this guardian started (elected) and ended (by reason)", labelNames: ["chain", "event"], registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "failsafe_" });
  }
}
