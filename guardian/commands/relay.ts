import type { Command } from "commander";
import { createLogger } from "../ops/logger";
import { startAnvil, type AnvilInstance } from "../ops/anvil";
import { onShutdownSignal } from "../ops/shutdown";
import { startLocalRelay } from "../relay/local-relay";
import { UsageError } from "./usage-error";

interface RelayOptions {
  anvil?: string;
  startAnvil?: boolean;
  chainId: string;
  host: string;
  port: string;
  blockTimeMs: string;
  logLevel: string;
}

function positiveInt(text: string, flag: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${flag}: expected an integer >= ${min}, got "${text}"`);
  return Number(text);
}

export function register(program: Command): void {
  program
    .command("relay")
    .description("run the local Flashbots-compatible relay on top of anvil (a development stand-in for real builders)")
    .option("--anvil <url>", "build blocks on this anvil (it must run with --order fifo)")
    .option("--start-anvil", "start anvil from the npm package on a free 127.0.0.1 port (with --order fifo)")
    .option("--chain-id <id>", "chain id of the anvil", "31337")
    .option("--host <host>", "address the relay listens on", "127.0.0.1")
    .option("--port <port>", "port the relay listens on (0 picks a free one)", "0")
    .option("--block-time-ms <ms>", "build a block every this many milliseconds", "1000")
    .option("--log-level <level>", "pino level", "info")
    .action(async (opts: RelayOptions) => {
      if ((opts.anvil === undefined) === (opts.startAnvil !== true)) throw new UsageError("give exactly one of --anvil <url> or --start-anvil");
      if (opts.anvil !== undefined && !/^https?:\/\/[^\s/]+/.test(opts.anvil)) throw new UsageError(`--anvil: expected an http(s) URL, got "${opts.anvil}"`);
      const chainId = positiveInt(opts.chainId, "--chain-id", 1);
      const port = positiveInt(opts.port, "--port", 0);
      const intervalMs = positiveInt(opts.blockTimeMs, "--block-time-ms", 10);
      const level = opts.logLevel as "info";
      if (!["trace", "debug", "info", "warn", "error", "fatal", "silent"].includes(level)) throw new UsageError(`--log-level: unknown level "${opts.logLevel}"`);

      const { logger, flush } = createLogger({ level, destination: "stderr" });
      let anvil: AnvilInstance | undefined;
      try {
        anvil = opts.startAnvil ? await startAnvil({ chainId, extraArgs: ["--order", "fifo"] }) : undefined;
        const anvilUrl = anvil?.url ?? (opts.anvil as string);
        const relay = await startLocalRelay({ anvilUrl, chainId, host: opts.host, port, mining: { mode: "interval", intervalMs }, logger: logger.child({ stage: "relay" }) });
        process.stdout.write(`relay  ${relay.url}\nanvil  ${anvilUrl}${anvil ? ` (ws ${anvil.wsUrl})` : ""}\nblocks every ${intervalMs} ms, bundles first; Ctrl-C stops\n`);
        await new Promise<void>((resolve) => {
          const remove = onShutdownSignal(logger, async () => {
            remove();
            await relay.stop();
            resolve();
          });
        });
      } finally {
        await anvil?.stop();
        flush();
      }
    });
}
