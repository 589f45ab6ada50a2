import type { Logger } from "pino";

/**
 * Runs `stop` once on the first SIGINT or SIGTERM (stop following, finish the block in flight, close the
 * store, flush logs); a second signal exits at once. Returns a function that removes the handlers.
 */
export function onShutdownSignal(logger: Logger, stop: (signal: NodeJS.Signals) => Promise<void>): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, "second signal; exiting without waiting");
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    stop(signal).catch((err: unknown) => {
      logger.error({ err }, "error during shutdown");
      process.exitCode = 1;
    });
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
