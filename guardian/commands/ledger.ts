import type { Command } from "commander";
import { loadConfig } from "../config/load-config";
import { SystemIndex, syncSystemIndex } from "../ledger/system-index";
import { addressHoldingsReport, systemGroupReport, topTokensReport } from "../ledger/system-reports";
import { loadTaxonomy, TaxonomyError } from "../ledger/taxonomy";
import { startLedgerServer } from "../ledger/server";
import { common, openReporting, runReport, type CommonOptions } from "./report";
import { UsageError } from "./usage-error";
import { configOption } from "./config-option";
import { startProgress, type Progress } from "../ops/progress";

/** The reporting config's system-wide settings (defaults filled by the schema). */
function systemSettings(configFile: string) {
  const { config } = loadConfig(configFile);
  if (!config.reporting) throw new UsageError(`${configFile}: there is no \`reporting\` section`);
  return config.reporting;
}

export function register(program: Command): void {
  const ledger = program.command("ledger").description("the auditors' ledger: system-wide index of every ERC-20/721 transfer, contract groups by industry, and a live HTTP view");

  ledger
    .command("index")
    .description("bring the system-wide index (every ERC-20/721 Transfer of any contract) to `systemWide.confirmations` below the head")
    .addOption(configOption("guardian YAML config with a reporting section"))
    .option("--rebuild", "drop the system-wide index first")
    .action(async (o: { config: string; rebuild?: boolean }) => {
      const settings = systemSettings(o.config).systemWide;
      const opened = await openReporting(o.config, { sync: false, allowEmpty: true });
      try {
        if (o.rebuild) for (const t of ["sys_meta", "sys_addresses", "sys_tokens", "sys_balances"]) opened.db.prepare(`DROP TABLE IF EXISTS ${t}`).run();
        const index = new SystemIndex(opened.db);
        const t0 = performance.now();
        let progress: Progress | undefined;
        const cursor = await syncSystemIndex(opened.deps.rpc, index, {
          fromBlock: settings.fromBlock,
          confirmations: settings.confirmations,
          chunkBlocks: settings.logChunkBlocks,
          onProgress: (done, total) => {
            progress ??= startProgress("indexing blocks", total);
            progress.update(done);
          },
        }).finally(() => progress?.stop());
        const size = index.size();
        process.stdout.write(
          `system-wide index at block ${cursor.number} (${cursor.hash}): ${size.tokens} tokens, ${size.addresses} addresses, ${size.balances} non-zero balances (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
        );
      } finally {
        opened.close();
      }
    });

  common(ledger.command("tokens").description("tokens of the whole chain ranked by transfers or holders"))
    .option("--by <what>", "transfers | holders", "transfers")
    .option("--top <k>", "how many", "20")
    .action((o: CommonOptions & { by?: string; top?: string }) =>
      runReport({ ...o, sync: false }, (deps, opened) => topTokensReport({ rpc: deps.rpc, index: new SystemIndex(opened.db) }, o), { allowEmpty: true }),
    );

  common(ledger.command("holdings").description("what an address holds across every token the system-wide index has seen"))
    .requiredOption("--address <address>", "any address")
    .action((o: CommonOptions & { address: string }) =>
      runReport({ ...o, sync: false }, (deps, opened) => addressHoldingsReport({ rpc: deps.rpc, index: new SystemIndex(opened.db) }, o), { allowEmpty: true }),
    );

  common(ledger.command("group").description("a contract group (or industry) of the taxonomy: holdings across all tokens and flows with internal transfers netted out"))
    .requiredOption("--group <group>", "group name or industry from the taxonomy")
    .option("--from <n>", "first block of the flows")
    .option("--to <n>", "last block of the flows (default: the index's block)")
    .action((o: CommonOptions & { group: string; from?: string; to?: string }) =>
      runReport(
        { ...o, sync: false },
        (deps, opened) => {
          let taxonomy;
          try {
            taxonomy = loadTaxonomy(deps.scope.config.taxonomy);
          } catch (err) {
            if (err instanceof TaxonomyError) throw new UsageError(err.message);
            throw err;
          }
          return systemGroupReport({ rpc: deps.rpc, index: new SystemIndex(opened.db) }, taxonomy, o);
        },
        { allowEmpty: true },
      ),
    );

  ledger
    .command("serve")
    .description("serve the reports as JSON over HTTP, fresh to the last indexed block, and a read-only page with charts")
    .addOption(configOption("guardian YAML config with a reporting section"))
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--port <port>", "port (0 picks a free one)", "8787")
    .option("--sync-ms <ms>", "how often to bring the index to the node's head", "2000")
    .action(async (o: { config: string; host: string; port: string; syncMs: string }) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port: "${o.port}" is not a port number`);
      const syncIntervalMs = Number(o.syncMs);
      if (!Number.isInteger(syncIntervalMs) || syncIntervalMs < 100) throw new UsageError(`--sync-ms: "${o.syncMs}" is not a whole number of at least 100`);
      const opened = await openReporting(o.config, { sync: true });
      const server = await startLedgerServer({ deps: opened.deps, indexer: opened.indexer, system: new SystemIndex(opened.db), host: o.host, port, syncIntervalMs });
      process.stdout.write(`ledger serving ${server.url} (read-only; Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
      opened.close();
    });
}
