import type { Logger } from "pino";
import { HttpRpcClient, redactUrl } from "./chain/rpc";
import { HeadFollower } from "./chain/head-follower";
import type { RpcClient } from "./chain/types";
import { BlockContextBuilder } from "./context/build-block-context";
import { LivenessWatch } from "./ops/liveness";
import { DeploymentProbe } from "./context/deployment-probe";
import { pendingSource, startPendingDetection, type PendingContextWatcher } from "./context/pending-context";
import type { FindingSink } from "./decisions/types";
import { findDetector } from "./detectors/registry";
import type { ProtectedContract } from "./detectors/types";
import type { LoadedConfig } from "./config/load-config";
import type { ChainConfig, GuardianConfig } from "./config/schema";
import { acceptsContractSelector } from "./config/schema";
import type { Db } from "./state/database";
import { GuardianStore } from "./state/guardian-store";
import type { GuardianStateStore } from "./state/store";
import { StoreIdentityError } from "./state/store-identity";
import type { GuardianMetrics } from "./ops/metrics";
import type { ChainHealth } from "./ops/health-server";
import { stageLogger } from "./ops/logger";
import { Pipeline, type BlockTiming, type DetectorInstance } from "./pipeline";
import { createReportIndexer } from "./ledger/indexer";
import { brokenLinkFinding } from "./chain/integrity-findings";
import { LeaseLostError, type LeaseGrant } from "./ha/lease";
import { Leadership, type Leases } from "./ha/leadership";

/**
 * Builds the configured detector instances of one chain. Chain-level entries get the chain's protected
 * contracts as configured; a per-contract entry is the same detector with `contracts: [that contract]`.
 */
export function createDetectors(
  config: GuardianConfig,
  chain: ChainConfig,
  contracts: readonly ProtectedContract[],
  deps: { rpc: RpcClient; logger: Logger },
): DetectorInstance[] {
  const instances: DetectorInstance[] = [];
  const make = (key: string, id: string, params: unknown) => {
    const def = findDetector(id);
    if (!def) throw new Error(`unknown detector "${id}"`);
    const parsed = def.params.parse(params);
    const detector = def.create(parsed, {
      chainId: chain.id,
      rpc: deps.rpc,
      logger: stageLogger(deps.logger, "detector", { detector_id: key }),
      contracts,
    });
    instances.push({ key, detector });
  };
  for (const [id, params] of Object.entries(chain.detectors)) make(id, id, params === true ? {} : params);
  for (const c of config.contracts) {
    if (c.chain !== chain.id) continue;
    for (const [id, params] of Object.entries(c.detectors)) {
      const def = findDetector(id);
      const base = params === true ? {} : params;
      make(`${id}@${c.name}`, id, def && acceptsContractSelector(def.params) ? { ...base, contracts: [c.name] } : base);
    }
  }
  return instances;
}

export function createRpcClient(chain: ChainConfig, deps: { logger: Logger; metrics: GuardianMetrics; onEndpointRejected?: (url: string, reason: string) => void }): HttpRpcClient {
  const log = stageLogger(deps.logger, "rpc");
  return new HttpRpcClient({
    chainId: chain.id,
    urls: chain.rpc,
    timeoutMs: chain.rpcTimeoutMs,
    maxAttempts: chain.rpcMaxAttempts,
    logger: log,
    metrics: deps.metrics,
    // Every URL proves its chain id and genesis before it serves: a failover to another chain is refused.
    verifyChain: true,
    onEndpointRejected: (url, reason) => {
      log.fatal({ url, chain_id: chain.id }, `critical: RPC endpoint refused: ${reason}`);
      deps.onEndpointRejected?.(url, reason);
    },
  });
}

/** Refuses to guard chain A through an RPC that serves chain B (a copy-pasted URL is a classic). */
export async function checkChainId(rpc: RpcClient, chain: ChainConfig): Promise<void> {
  const actual = Number(await rpc.request<string>("eth_chainId", []));
  if (actual !== chain.id) {
    throw new Error(`chains[id=${chain.id}]: the RPC at ${redactUrl(chain.rpc[0])} serves chain ${actual}, not ${chain.id}`);
  }
}

export interface GuardianDeps {
  loaded: LoadedConfig;
  /** The local SQLite file: the ledger's index, and the guardian's state unless `store` says otherwise. */
  db: Db;
  /** Where the cursor, findings and detector state go (the PostgreSQL store); the SQLite store on `db` by default. */
  store?: GuardianStateStore;
  logger: Logger;
  metrics: GuardianMetrics;
  sinks: FindingSink[];
  onBlockCommitted?: (chainId: number, timing: BlockTiming) => void;
  /**
   * Several guardians share a PostgreSQL store: each chain's blocks are processed by whichever holds the chain's
   * lease, and every commit is fenced with it (`fence`). Without it, this process processes every chain.
   */
  leadership?: {
    leases: Leases;
    /** This process in the lease table. */
    holder: string;
    /** A leader that stops renewing is replaced after this long (plus one attempt: a third of it). */
    ttlMs: number;
    /** Fences the chain's commits with the grant (undefined: removes the fence). */
    fence(chainId: number, grant: LeaseGrant | undefined): void;
    /** This process now leads the chain: trips the previous leader left in flight are its to finish. */
    onElected?(chainId: number): void;
  };
}

export interface RunningGuardian {
  health: ChainHealth[];
  store: GuardianStateStore;
  /** The mempool watch of each chain configured with `mempool`, by chain id. */
  mempool: Map<number, PendingContextWatcher>;
  /** Resolves when every chain loop has stopped (after `stop()`). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts one follower + pipeline per configured chain, resuming each from its committed cursor, and the
 * mempool watch of every chain that configures one.
 */
export async function startGuardian(deps: GuardianDeps): Promise<RunningGuardian> {
  const { loaded, logger, metrics } = deps;
  const store = deps.store ?? new GuardianStore(deps.db);
  const controller = new AbortController();
  const health: ChainHealth[] = [];
  const loops: Promise<void>[] = [];
  const mempool = new Map<number, PendingContextWatcher>();

  // Every chain's RPC is checked before any loop starts, so a bad URL fails the start cleanly.
  const rpcs = new Map<number, HttpRpcClient>();
  const healthOf = new Map<number, ChainHealth>(loaded.config.chains.map((c) => [c.id, { chainId: c.id }]));
  for (const chain of loaded.config.chains) {
    const chainHealth = healthOf.get(chain.id) as ChainHealth;
    const rpc = createRpcClient(chain, {
      logger: logger.child({ chain_id: chain.id }),
      metrics,
      onEndpointRejected: (_url, reason) => {
        chainHealth.critical = [...(chainHealth.critical ?? []), `RPC endpoint refused: ${reason}`];
      },
    });
    await checkChainId(rpc, chain);
    // The store belongs to one chain: a reused file against another genesis is refused before anything resumes.
    const genesis = await rpc.request<{ hash: string } | null>("eth_getBlockByNumber", ["0x0", false]);
    if (!genesis?.hash) throw new Error(`chains[id=${chain.id}]: the node returned no genesis block`);
    await store.bindChain(chain.id, genesis.hash);
    rpcs.set(chain.id, rpc);
  }

  /**
   * One term of one chain: its detectors, pipeline (restored from the store's committed state), follower, mempool
   * watch and liveness watch, running until `signal` aborts. Without `leadership` a chain has one term for the life of
   * the process; with it (several guardians on one PostgreSQL store), a term per lease this process wins.
   */
  const startTerm = async (chain: ChainConfig, signal: AbortSignal, onFenced?: () => void): Promise<{ done: Promise<void>; stalled(): boolean; stop(): Promise<void> }> => {
    const chainLog = logger.child({ chain_id: chain.id });
    const rpc = rpcs.get(chain.id) as HttpRpcClient;
    const contracts = loaded.contracts.get(chain.id) ?? [];
    const chainHealth = healthOf.get(chain.id) as ChainHealth;
    const detectors = createDetectors(loaded.config, chain, contracts, { rpc, logger: chainLog });
    // The pipeline's own sinks, plus the deployment probe once the pipeline's lock exists.
    const chainSinks = [...deps.sinks];
    const pipeline = new Pipeline({
      chainId: chain.id,
      rpc,
      logger: stageLogger(chainLog, "pipeline"),
      metrics,
      store,
      contexts: new BlockContextBuilder(rpc, contracts.map((c) => c.address), chain.traces, {
        deadlineMs: chain.blockDeadlineMs,
        // Heavy traces: one client per node, one attempt each, so a request that timed out is never sent again
        // as is, and a node that timed out is failed over for the next block.
        traceRpc: chain.rpc.map((url) => new HttpRpcClient({ chainId: chain.id, urls: [url], timeoutMs: chain.blockDeadlineMs ?? chain.rpcTimeoutMs, maxAttempts: 1, logger: stageLogger(chainLog, "rpc"), metrics })),
      }),
      detectors,
      sinks: chainSinks,
      window: chain.maxReorgDepth,
      health: chainHealth,
      maxClockSkewSeconds: chain.maxClockSkewSeconds,
      onBlockCommitted: deps.onBlockCommitted && ((t) => deps.onBlockCommitted!(chain.id, t)),
    });
    const probe = new DeploymentProbe({
      rpc,
      protectedAddresses: contracts.map((c) => c.address),
      detectors: detectors.map((d) => d.detector),
      sinks: deps.sinks,
      logger: stageLogger(chainLog, "probe"),
      exclusive: pipeline.exclusive,
    });
    chainSinks.push(probe);
    const parts: { liveness?: LivenessWatch; watcher?: PendingContextWatcher } = {};
    const stopParts = async () => {
      parts.liveness?.stop();
      if (parts.watcher) await parts.watcher.stop();
      if (mempool.get(chain.id) === parts.watcher) mempool.delete(chain.id);
    };
    try {
      await pipeline.restore();
      const reports = createReportIndexer(loaded.config, chain.id, { rpc, db: deps.db, logger: stageLogger(chainLog, "reports") });
      const follower = new HeadFollower({
        chainId: chain.id,
        rpc,
        logger: stageLogger(chainLog, "chain"),
        metrics,
        wsUrl: chain.ws,
        pollIntervalMs: chain.pollIntervalMs,
        window: chain.maxReorgDepth,
        confirmations: chain.confirmations,
        startBlock: chain.startBlock,
        loadWindow: () => store.unfinalizedBlocks(chain.id),
        findingBlocks: (from) => store.findingBlocksFrom(chain.id, from),
        health: chainHealth,
        onBrokenLink: async (err, url) => {
          chainHealth.lastError = err.message;
          chainHealth.lastErrorAt = Date.now();
          await pipeline.reportAnomaly(brokenLinkFinding(chain.id, err, url), err.block);
        },
      });
      const cursor = await store.cursor(chain.id);
      chainLog.info(
        { stage: "chain", resume_after: cursor?.number ?? null, start_block: cursor ? undefined : chain.startBlock, ws: chain.ws ? redactUrl(chain.ws) : undefined, rpc: chain.rpc.map(redactUrl) },
        cursor ? "resuming from the committed cursor" : "starting with an empty store",
      );
      const loop = follower
        .run(async (events) => {
          try {
            await pipeline.handle(events);
            reports?.consume(events);
          } catch (err) {
            if (err instanceof LeaseLostError) {
              // A standby took the chain over while this process stalled: the commit was refused. Step down.
              chainLog.error({ stage: "lease" }, err.message);
              onFenced?.();
              throw err;
            }
            chainHealth.lastError = (err as Error).message;
            chainHealth.lastErrorAt = Date.now();
            if (err instanceof StoreIdentityError) {
              // Not retryable by waiting: an operator must restore the store. Every retry says so, and /healthz stays red.
              if (!chainHealth.critical?.includes(err.message)) chainHealth.critical = [...(chainHealth.critical ?? []), err.message];
              chainLog.fatal({ stage: "store", file: err.file, reason: err.reason }, `critical: ${err.message}; no block is committed until the store is restored and the guardian restarted`);
            }
            throw err;
          }
        }, signal)
        .then(() => reports?.drain());
      parts.liveness = new LivenessWatch(chain.liveness, { health: chainHealth, metrics, sinks: deps.sinks, logger: stageLogger(chainLog, "liveness") });
      parts.liveness.start();
      if (chain.mempool) {
        const mempoolLog = stageLogger(chainLog, "mempool");
        // The same detector instances as the mined blocks, so per-account and windowed state is shared;
        // the pipeline's lock keeps a pending simulation from running in the middle of a block.
        parts.watcher = await startPendingDetection({
          rpc,
          protectedAddresses: contracts.map((c) => c.address),
          source: pendingSource(chain.mempool, chain.ws),
          detectors: detectors.map((d) => d.detector),
          sinks: deps.sinks,
          logger: mempoolLog,
          exclusive: pipeline.exclusive,
        });
        mempool.set(chain.id, parts.watcher);
        mempoolLog.info({ mode: chain.mempool.mode, contracts: contracts.length }, "watching the mempool");
      }
      return {
        done: loop,
        stalled: () => parts.liveness?.stalled ?? false,
        async stop() {
          // Pending findings go to the same sinks as the mined ones: the watches stop before the loop's signal.
          await stopParts();
          await loop;
          await probe.close();
        },
      };
    } catch (err) {
      await stopParts();
      await probe.close();
      throw err;
    }
  };

  const terms: { stop(): Promise<void> }[] = [];
  const campaigns: Leadership[] = [];
  const stopAll = async (): Promise<void> => {
    // Leaders release their leases (a standby takes over at its next attempt), after their term has stopped.
    await Promise.all(campaigns.map((c) => c.stop()));
    controller.abort();
    await Promise.all(terms.map((t) => t.stop()));
    await Promise.all(loops);
  };

  try {
    for (const chain of loaded.config.chains) {
      const chainHealth = healthOf.get(chain.id) as ChainHealth;
      health.push(chainHealth);
      const ha = deps.leadership;
      if (!ha) {
        const term = await startTerm(chain, controller.signal);
        terms.push(term);
        loops.push(term.done);
        continue;
      }
      // Several guardians share the store: this chain's blocks are processed only while this process holds its lease.
      const label = String(chain.id);
      chainHealth.role = "standby";
      metrics.leader.set({ chain: label }, 0);
      let current: { controller: AbortController; unlink(): void; term?: { done: Promise<void>; stalled(): boolean; stop(): Promise<void> } } | undefined;
      let benchedUntil = 0;
      const chainLog = stageLogger(logger.child({ chain_id: chain.id }), "lease");
      const leadership: Leadership = new Leadership({
        scope: `chain:${chain.id}`,
        holder: ha.holder,
        leases: ha.leases,
        ttlMs: ha.ttlMs,
        logger: chainLog,
        // A leader whose store was lost, whose node refuses it, or that the liveness watch finds stalled (silent for a
        // heartbeat while following keeps failing) gives the chain to a standby.
        healthy: () => {
          if ((chainHealth.critical ?? []).length > 0) return false;
          if (current?.term?.stalled()) {
            // Sits out campaigns for a heartbeat, so a standby whose node serves the chain takes it, not this one again.
            benchedUntil = Date.now() + chain.liveness.heartbeatSeconds * 1000;
            return false;
          }
          return current !== undefined || Date.now() >= benchedUntil;
        },
        onState: (state) => {
          metrics.leader.set({ chain: label }, state.leader ? 1 : 0);
          if (state.token !== undefined) metrics.leaseToken.set({ chain: label }, Number(state.token));
          if (state.renewedAt !== undefined) metrics.leaseRenewedAt.set({ chain: label }, state.renewedAt / 1000);
        },
        onElected: async (grant) => {
          metrics.leaderChanges.inc({ chain: label, event: "elected" });
          ha.fence(chain.id, grant);
          const termController = new AbortController();
          const stopTerm = () => termController.abort();
          controller.signal.addEventListener("abort", stopTerm, { once: true });
          current = { controller: termController, unlink: () => controller.signal.removeEventListener("abort", stopTerm) };
          chainHealth.role = "leader";
          current.term = await startTerm(chain, termController.signal, () => void leadership.fenced());
          ha.onElected?.(chain.id);
        },
        onDeposed: async (reason) => {
          metrics.leaderChanges.inc({ chain: label, event: reason });
          const ending = current;
          current = undefined;
          chainHealth.role = "standby";
          ending?.controller.abort();
          ending?.unlink();
          await ending?.term?.stop().catch((err: unknown) => chainLog.error({ err: { message: (err as Error).message } }, "the term's loop ended with an error"));
          ha.fence(chain.id, undefined);
        },
      });
      campaigns.push(leadership);
      leadership.start();
      loops.push(
        new Promise<void>((resolve) => controller.signal.addEventListener("abort", () => resolve(), { once: true })).then(async () => {
          await leadership.stop();
        }),
      );
    }
  } catch (err) {
    await stopAll();
    throw err;
  }

  const done = Promise.all(loops).then(() => undefined);
  return {
    health,
    store,
    mempool,
    done,
    async stop() {
      // Pending findings go to the same sinks, so the watch stops before the sinks close.
      await stopAll();
      for (const sink of deps.sinks) await sink.close?.();
    },
  };
}
