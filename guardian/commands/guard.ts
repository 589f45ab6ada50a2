import type { Command } from "commander";
import { loadConfig } from "../config/loadConfig";
import { openDatabase } from "../state/database";
import { createLogger } from "../ops/logger";
import { GuardianMetrics } from "../ops/metrics";
import { startHealthServer } from "../ops/healthServer";
import { onShutdownSignal } from "../ops/shutdown";
import { createSinks } from "../sinks";
import { startGuardian } from "../guardian";

export function register(program: Command): void {
  program
    .command("guard")
    .description("run the guardian: follow every configured chain, detect, and feed findings downstream")
    .requiredOption("-c, --config <file>", "guardian YAML config")
    .action(async (opts: { config: string }) => {
      const loaded = loadConfig(opts.config);
      const { config } = loaded;
      const { logger, flush } = createLogger(config.logging);
      const metrics = new GuardianMetrics({ defaultMetrics: true });
      const db = openDatabase(config.store.path);
      let server: Awaited<ReturnType<typeof startHealthServer>> | undefined;
      try {
        const sinks = await createSinks({ loaded, db, logger, metrics });
        const guardian = await startGuardian({ loaded, db, logger, metrics, sinks });
        if (config.metrics.enabled) {
          const slowestPoll = Math.max(...config.chains.map((c) => c.pollIntervalMs));
          server = await startHealthServer({
            host: config.metrics.host,
            port: config.metrics.port,
            metrics,
            health: () => guardian.health,
            staleAfterMs: Math.max(60_000, slowestPoll * 10),
          });
          logger.info({ stage: "ops", url: server.url }, "metrics on /metrics, health on /healthz");
        }
        const removeHandlers = onShutdownSignal(logger, () => guardian.stop());
        await guardian.done;
        removeHandlers();
        logger.info({ stage: "ops" }, "guardian stopped");
      } finally {
        await server?.close();
        db.close();
        flush();
      }
    });
}
