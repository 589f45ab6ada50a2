import type { Command } from "commander";
import type { Logger } from "pino";
import { loadConfig } from "../config/load-config";
import { openDatabase } from "../state/database";
import { acquireStoreLock } from "../state/store-lock";
import { openStores, type Stores } from "../state/open-stores";
import { DecisionSink } from "../decisions/decision-sink";
import { createLogger } from "../ops/logger";
import { GuardianMetrics } from "../ops/metrics";
import { startHealthServer } from "../ops/health-server";
import { onShutdownSignal } from "../ops/shutdown";
import { createSinks } from "../sinks";
import { startGuardian, type GuardianDeps, type RunningGuardian } from "../guardian";
import type { StoreConfig } from "../config/schema";
import { PgLeases } from "../ha/lease";
import type { PgGuardianStore } from "../state/postgres/guardian-store";
import type { FindingSink } from "../decisions/types";
import { configOption } from "./config-option";

export function register(program: Command): void {
  program
    .command("guard")
    .description("run the guardian: follow every configured chain, detect, and feed findings downstream")
    .addOption(configOption("guardian YAML config"))
    .action(async (opts: { config: string }) => {
      const loaded = loadConfig(opts.config);
      const { config } = loaded;
      const { logger, flush } = createLogger(config.logging);
      const metrics = new GuardianMetrics({ defaultMetrics: true });
      // One guardian per store: a second process (a dry-run copy, a duplicate unit) is refused before it opens it.
      const lock = config.store.path === ":memory:" ? undefined : acquireStoreLock(config.store.path);
      let db: ReturnType<typeof openDatabase>;
      try {
        db = openDatabase(config.store.path);
      } catch (err) {
        lock?.release();
        throw err;
      }
      let stores: Stores | undefined;
      let server: Awaited<ReturnType<typeof startHealthServer>> | undefined;
      let sinks: FindingSink[] = [];
      let guardian: RunningGuardian | undefined;
      try {
        // The port is claimed first, so a clash fails the start before any chain is followed.
        if (config.metrics.enabled) {
          const slowestPoll = Math.max(...config.chains.map((c) => c.pollIntervalMs));
          server = await startHealthServer({
            host: config.metrics.host,
            port: config.metrics.port,
            metrics,
            health: () => guardian?.health ?? [],
            staleAfterMs: Math.max(60_000, slowestPoll * 10),
            maxLagBlocks: config.metrics.maxLagBlocks,
            errorWindowMs: config.metrics.errorWindowMs,
            problems: () => [
              ...(guardian?.store.problem() ? [guardian.store.problem() as string] : []),
              ...sinks.flatMap((s) => (s instanceof DecisionSink ? s.problems() : [])),
            ],
          });
          if (config.metrics.exposePublicly) logger.warn({ stage: "ops", host: config.metrics.host }, "metrics and health are exposed beyond this host (metrics.exposePublicly)");
          logger.info({ stage: "ops", url: server.url }, "metrics on /metrics, health on /healthz");
        }
        stores = await openStores(config.store, db);
        logger.info({ stage: "store", backend: stores.backend, where: stores.where }, "store opened");
        sinks = await createSinks({ loaded, db, stores, logger, metrics });
        const running = await startGuardian({ loaded, db, store: stores.guardian, logger, metrics, sinks, ...(stores.postgres ? { leadership: leadershipOn(stores, config.store, sinks, logger) } : {}) });
        guardian = running;
        let stopping: Promise<void> | undefined;
        const removeHandlers = onShutdownSignal(logger, () => (stopping ??= running.stop()));
        await running.done;
        // The chain loops end first; the sinks (trips in flight, their outcomes) finish before the store closes.
        await (stopping ??= running.stop());
        removeHandlers();
        logger.info({ stage: "ops" }, "guardian stopped");
      } catch (err) {
        // A guardian that started closes its sinks in stop(); one that failed to start has not.
        if (!guardian) for (const sink of sinks) await sink.close?.().catch(() => undefined);
        throw err;
      } finally {
        await server?.close();
        await stores?.close().catch(() => undefined);
        db.close();
        lock?.release();
        flush();
      }
    });
}

/**
 * On a shared PostgreSQL store each chain is processed by the guardian holding its lease; the others stand by and
 * take over when it stops renewing. Every block commit is fenced with the lease it was made under.
 */
function leadershipOn(stores: Stores, store: StoreConfig, sinks: FindingSink[], logger: Logger): NonNullable<GuardianDeps["leadership"]> {
  const leases = new PgLeases(stores.postgres!.pool);
  const guardianStore = stores.guardian as PgGuardianStore;
  return {
    leases,
    holder: stores.claimant,
    ttlMs: store.backend === "postgres" ? store.postgres.leaseMs : 12_000,
    fence: (chainId, grant) => guardianStore.fenceChain(chainId, grant ? (tx) => leases.fence(tx, grant) : undefined),
    onElected: (chainId) => {
      for (const sink of sinks) {
        if (sink instanceof DecisionSink) sink.resume(chainId).catch((err: unknown) => logger.error({ err, chain_id: chainId }, "could not resume the trips the previous leader left in flight"));
      }
    },
  };
}
