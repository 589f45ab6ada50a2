import type { Command } from "commander";
import { renderTable } from "../ops/table";
import { findingHumanizer } from "../notifiers/human-units";
import { RpcClientProvider } from "../responders/rpc-provider";
import { loadConfig, type LoadedConfig } from "../config/load-config";
import { createLogger } from "../ops/logger";
import { GuardianMetrics } from "../ops/metrics";
import { BlockContextBuilder } from "../context/build-block-context";
import { checkChainId, createDetectors, createRpcClient } from "../guardian";
import { DEFAULT_PREFETCH, runDetectors } from "../pipeline";
import { LookAhead } from "../context/look-ahead";
import type { BlockContext } from "../context/types";
import type { Finding } from "../detectors/types";
import type { ChainConfig } from "../config/schema";
import { UsageError } from "./usage-error";
import { configOption } from "./config-option";
import { startProgress } from "../ops/progress";

interface ReplayOptions {
  config: string;
  chain?: string;
  tx?: string;
  block?: string;
  range?: string;
  format: string;
}

type Target = { kind: "tx"; hash: string } | { kind: "blocks"; from: number; to: number };

function parseBlockNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag}: expected a block number, got "${text}"`);
  return Number(text);
}

export function parseTarget(opts: Pick<ReplayOptions, "tx" | "block" | "range">): Target {
  const given = [opts.tx, opts.block, opts.range].filter((x) => x !== undefined).length;
  if (given !== 1) throw new UsageError("give exactly one of --tx <hash>, --block <n>, --range <a>..<b>");
  if (opts.tx !== undefined) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(opts.tx)) throw new UsageError(`--tx: expected a 0x-prefixed 32-byte transaction hash, got "${opts.tx}"`);
    return { kind: "tx", hash: opts.tx.toLowerCase() };
  }
  if (opts.block !== undefined) {
    const n = parseBlockNumber(opts.block, "--block");
    return { kind: "blocks", from: n, to: n };
  }
  const m = /^(\d+)\.\.(\d+)$/.exec(opts.range as string);
  if (!m) throw new UsageError(`--range: expected <from>..<to> (inclusive), got "${opts.range}"`);
  const [from, to] = [Number(m[1]), Number(m[2])];
  if (from > to) throw new UsageError(`--range: ${from} is after ${to}`);
  return { kind: "blocks", from, to };
}

function pickChain(loaded: LoadedConfig, chainOpt: string | undefined): ChainConfig {
  const { chains } = loaded.config;
  if (chainOpt === undefined) {
    if (chains.length === 1) return chains[0];
    throw new UsageError(`the config has ${chains.length} chains; choose one with --chain <id> (${chains.map((c) => c.id).join(", ")})`);
  }
  const chain = chains.find((c) => String(c.id) === chainOpt || c.name === chainOpt);
  if (!chain) throw new UsageError(`--chain: no chain "${chainOpt}" in the config (${chains.map((c) => c.id).join(", ")})`);
  return chain;
}

const TABLE_COLUMNS: [string, (f: Finding) => string][] = [
  ["block", (f) => String(f.blockNumber)],
  ["severity", (f) => f.severity],
  ["detector", (f) => f.detectorId],
  ["tx", (f) => (f.txHash ? `${f.txHash.slice(0, 10)}…` : "-")],
  ["title", (f) => f.title],
];

/** Findings as the CLI's one table (cells escaped: titles quote token names and other chain text). */
export function formatTable(findings: Finding[]): string {
  return renderTable(
    TABLE_COLUMNS.map(([h]) => h.toUpperCase()),
    findings.map((f) => TABLE_COLUMNS.map(([, get]) => get(f))),
    { noWrap: [0, 1, 2, 3] },
  ).trimEnd();
}

export function register(program: Command): void {
  program
    .command("replay")
    .description("run the configured detectors over past blocks or one transaction and print the findings")
    .addOption(configOption("guardian YAML config"))
    .option("--chain <id>", "chain id or name (needed when the config has several)")
    .option("--tx <hash>", "one transaction")
    .option("--block <n>", "one block")
    .option("--range <a..b>", "blocks a through b, inclusive")
    .option("--format <format>", "json (one finding per line) or table", "json")
    .action(async (opts: ReplayOptions) => {
      if (opts.format !== "json" && opts.format !== "table") throw new UsageError(`--format: expected json or table, got "${opts.format}"`);
      const target = parseTarget(opts);
      const loaded = loadConfig(opts.config);
      const chain = pickChain(loaded, opts.chain);
      // stdout carries the findings; logs go to stderr unless the config names a file.
      const destination = loaded.config.logging.destination === "stdout" ? "stderr" : loaded.config.logging.destination;
      const { logger, flush } = createLogger({ ...loaded.config.logging, destination });
      try {
        const metrics = new GuardianMetrics();
        const chainLog = logger.child({ chain_id: chain.id });
        const rpc = createRpcClient(chain, { logger: chainLog, metrics });
        await checkChainId(rpc, chain);
        const contracts = loaded.contracts.get(chain.id) ?? [];
        const detectors = createDetectors(loaded.config, chain, contracts, { rpc, logger: chainLog });
        const builder = new BlockContextBuilder(rpc, contracts.map((c) => c.address), chain.traces);
        const all: Finding[] = [];
        const run = async (ctx: BlockContext) => {
          const findings = await runDetectors(detectors, ctx, (key, err) =>
            chainLog.error({ err, detector_id: key, block_number: ctx.number }, "detector failed on this block"),
          );
          if (opts.format === "json") for (const f of findings) process.stdout.write(`${JSON.stringify(f)}\n`);
          else all.push(...findings);
        };
        if (target.kind === "tx") {
          const ctx = await builder.buildForTx(target.hash);
          if (ctx.transactions.length === 0) logger.warn({ tx: target.hash }, "the transaction does not touch any protected contract");
          await run(ctx);
        } else {
          const head = Number(await rpc.request<string>("eth_blockNumber", []));
          if (target.to > head) throw new UsageError(`block ${target.to} is beyond the chain head (${head})`);
          // Contexts are fetched ahead; detectors still see blocks strictly in order.
          const numbers = Array.from({ length: target.to - target.from + 1 }, (_, i) => target.from + i);
          const contexts = new LookAhead(numbers, (n) => builder.build(n), DEFAULT_PREFETCH);
          const progress = startProgress(`replaying blocks ${target.from}..${target.to}`, numbers.length);
          try {
            for (let i = 0; i < numbers.length; i++) {
              await run(await contexts.next());
              progress.tick();
            }
          } finally {
            progress.stop();
          }
        }
        // The table is for people: titles in human units (JSON keeps the exact base-unit titles).
        if (opts.format === "table") {
          const shown = await findingHumanizer(() => new RpcClientProvider(rpc))(all);
          process.stdout.write(`${shown.length === 0 ? "no findings" : formatTable(shown)}\n`);
        }
      } finally {
        flush();
      }
    });
}
