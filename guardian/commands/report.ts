import type { Command } from "commander";
import { loadConfig } from "../config/load-config";
import { reportingChainId } from "../ledger/config";
import { openDatabase, type Db } from "../state/database";
import { IndexStore } from "../ledger/index-store";
import { createLogger } from "../ops/logger";
import { GuardianMetrics } from "../ops/metrics";
import { checkChainId, createRpcClient } from "../guardian";
import { Indexer } from "../ledger/indexer";
import { ReportArgumentError, ReportingScope } from "../ledger/reporting-scope";
import type { ReportDeps } from "../ledger/report-context";
import { failedChecks, type Report } from "../ledger/report";
import { REPORT_FORMATS, renderCsvTables, renderReport, type ReportFormat } from "../ledger/format";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { capTableReport } from "../ledger/cap-table";
import { holdingsReport } from "../ledger/holdings";
import { statementReport } from "../ledger/statement";
import { groupReport } from "../ledger/group";
import { flowsReport } from "../ledger/flows";
import { payoutsReport } from "../ledger/payouts";
import { UsageError } from "./usage-error";
import { configOption } from "./config-option";

/** Exit code of a report whose self-check found the index and the node disagreeing. */
export const EXIT_CHECK_FAILED = 3;

export interface OpenedReporting {
  deps: ReportDeps;
  indexer: Indexer;
  db: Db;
  close(): void;
}

/**
 * Opens the report index on the guardian's database for the chain of the `reporting` section, and (unless
 * told not to) brings it to the node's head first: only the blocks since the last run are read.
 */
export async function openReporting(configFile: string, options: { sync: boolean; allowEmpty?: boolean }): Promise<OpenedReporting> {
  const { config } = loadConfig(configFile);
  if (!config.reporting) throw new UsageError(`${configFile}: there is no \`reporting\` section (tokens, accounts, groups) to report on`);
  const reporting = config.reporting;
  const chainId = reportingChainId(config);
  const chain = config.chains.find((c) => c.id === chainId);
  if (!chain) {
    throw new UsageError(
      reporting.chain === undefined
        ? `${configFile}: reporting.chain: the config has ${config.chains.length} chains; say which one the reports are about`
        : `${configFile}: reporting.chain: no chain with id ${reporting.chain} in chains`,
    );
  }
  const { logger, flush } = createLogger({ level: config.logging.level === "info" ? "warn" : config.logging.level, destination: "stderr" });
  const rpc = createRpcClient(chain, { logger, metrics: new GuardianMetrics({ defaultMetrics: false }) });
  await checkChainId(rpc, chain);
  let db: Db | undefined;
  try {
    db = openDatabase(config.store.path);
    const store = new IndexStore(db);
    const scope = new ReportingScope(reporting);
    const indexer = new Indexer({ rpc, store, scope, logger: logger.child({ stage: "reports" }) });
    if (options.sync) await indexer.syncToHead();
    else if (!store.cursor() && !options.allowEmpty) throw new UsageError("--no-sync: the report index is empty; run once without --no-sync to build it");
    const opened = db;
    return { deps: { store, scope, rpc }, indexer, db: opened, close: () => (opened.close(), flush()) };
  } catch (err) {
    db?.close();
    flush();
    throw err;
  }
}

/** Report argument mistakes are usage errors: one line naming the argument, exit code 2, no stack. */
export async function asUsage<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ReportArgumentError) throw new UsageError(err.message);
    throw err;
  }
}

export interface CommonOptions {
  config: string;
  format: string;
  sync: boolean;
}

export function parseFormat(format: string): ReportFormat {
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: "${format}" is not one of ${REPORT_FORMATS.join(", ")}`);
  return format as ReportFormat;
}

export async function runReport(options: CommonOptions & { outDir?: string }, build: (deps: ReportDeps, opened: OpenedReporting) => Promise<Report>, open: { allowEmpty?: boolean } = {}): Promise<void> {
  const format = parseFormat(options.format);
  const opened = await openReporting(options.config, { sync: options.sync, allowEmpty: open.allowEmpty });
  try {
    const report = await asUsage(() => build(opened.deps, opened));
    writeReport(report, format, options.outDir);
    const failed = failedChecks(report);
    if (failed.length > 0) {
      for (const c of failed) process.stderr.write(`self-check failed: ${c.name}: node says ${c.expected}, index says ${c.actual}\n`);
      process.exitCode = EXIT_CHECK_FAILED;
    }
    if (report.flagged) {
      process.stderr.write(`flagged: ${report.summary.find(([k]) => k === "verdict")?.[1]}\n`);
      process.exitCode = EXIT_CHECK_FAILED;
    }
  } finally {
    opened.close();
  }
}

/**
 * CSV is one table per file: with --out-dir each section goes to its own file (named after the report
 * and the section) and the paths are printed; to stdout only a report whose sections share one table.
 */
function writeReport(report: Report, format: ReportFormat, outDir?: string): void {
  if (format !== "csv") {
    if (outDir !== undefined) throw new UsageError("--out-dir: only for --format csv (one file per table)");
    process.stdout.write(renderReport(report, format));
    return;
  }
  const tables = renderCsvTables(report);
  if (outDir === undefined) {
    if (tables.length > 1) throw new UsageError(`--format csv: this ${report.kind} report has ${tables.length} tables (${tables.map((t) => t.name).join(", ")}); give --out-dir <dir> to write one file per table`);
    process.stdout.write(tables[0]?.text ?? "");
    return;
  }
  mkdirSync(outDir, { recursive: true });
  for (const t of tables) {
    const file = path.join(outDir, `${report.kind}-${t.name}.csv`);
    writeFileSync(file, t.text);
    process.stdout.write(`${file}\n`);
  }
}

export function common(command: Command): Command {
  return command
    .addOption(configOption("guardian YAML config with a reporting section"))
    .option("-f, --format <format>", `output format: ${REPORT_FORMATS.join(" | ")}`, "table")
    .option("--out-dir <dir>", "with --format csv: write one file per table into this directory")
    .option("--no-sync", "report from the index as it is, without reading new blocks first");
}

export function register(program: Command): void {
  const report = program
    .command("report")
    .description("reports from the maintained index: each states its block and hash and checks itself against the node (exit 3 on a mismatch)");

  common(report.command("cap-table").description("holders of a token and their balances at a block"))
    .requiredOption("--token <token>", "configured token name or address")
    .option("--block <n|date>", "block number, or the last block of a UTC date (default: the head)")
    .option("--top <k>", "list only the K largest holders")
    .option("--id <id>", "ERC-1155 token id")
    .action((o: CommonOptions & { token: string; block?: string; top?: string; id?: string }) => runReport(o, (deps) => capTableReport(deps, o)));

  common(report.command("holdings").description("ether and configured tokens held by an account at a block"))
    .requiredOption("--account <account>", "configured name or address")
    .option("--block <n|date>", "block number, or the last block of a UTC date (default: the head)")
    .action((o: CommonOptions & { account: string; block?: string }) => runReport(o, (deps) => holdingsReport(deps, o)));

  common(report.command("statement").description("every movement of an account over a block range with running balances"))
    .requiredOption("--account <account>", "configured name or address")
    .option("--from <n|date>", "first block, or a UTC date YYYY-MM-DD (default: the first indexed block)")
    .option("--to <n|date>", "last block, or a UTC date (default: the head)")
    .option("--period <period>", "a quarter, month or year (2026-Q3, 2026-07, 2026) mapped to blocks by timestamp")
    .action((o: CommonOptions & { account: string; from?: string; to?: string; period?: string }) => runReport(o, (deps) => statementReport(deps, o)));

  common(report.command("group").description("holdings of every member of a contract group (or industry) and the group's totals"))
    .requiredOption("--group <group>", "group name or industry label")
    .option("--block <n|date>", "block number, or the last block of a UTC date (default: the head)")
    .option("--from <n|date>", "also each member's flows from this block or UTC date")
    .option("--to <n|date>", "... to this block or date (default: the head)")
    .option("--period <period>", "... or over a quarter, month or year (2026-Q3)")
    .action((o: CommonOptions & { group: string; block?: string; from?: string; to?: string; period?: string }) => runReport(o, (deps) => groupReport(deps, o)));

  common(report.command("flows").description("inflows, outflows, counterparties and payout ratio of a contract over a block range"))
    .requiredOption("--contract <contract>", "configured name or address")
    .option("--from <n|date>", "first block, or a UTC date YYYY-MM-DD (default: the first indexed block)")
    .option("--to <n|date>", "last block, or a UTC date (default: the head)")
    .option("--period <period>", "a quarter, month or year (2026-Q3, 2026-07, 2026) mapped to blocks by timestamp")
    .option("--top <k>", "counterparties listed per asset", "20")
    .action((o: CommonOptions & { contract: string; from?: string; to?: string; period?: string; top?: string }) => runReport(o, (deps) => flowsReport(deps, o)));

  common(report.command("payouts").description("Gambler Watch: a game's realised return to player from its own events, with a 95% interval, against its claim (exit 3 when it pays less)"))
    .requiredOption("--game <game>", "configured game name or address (reporting.games)")
    .option("--from <n|date>", "first block, or a UTC date YYYY-MM-DD (default: the first indexed block)")
    .option("--to <n|date>", "last block, or a UTC date (default: the head)")
    .option("--period <period>", "a quarter, month or year (2026-Q3, 2026-07, 2026) mapped to blocks by timestamp")
    .action((o: CommonOptions & { game: string; from?: string; to?: string; period?: string }) => runReport(o, (deps) => payoutsReport(deps, o)));

  report
    .command("reindex")
    .description("drop the report index and rebuild it from reporting.fromBlock (after changing tokens, accounts or groups)")
    .addOption(configOption("guardian YAML config with a reporting section"))
    .action(async (o: { config: string }) => {
      const { config } = loadConfig(o.config);
      const db = openDatabase(config.store.path);
      try {
        new IndexStore(db).reset();
      } finally {
        db.close();
      }
      const opened = await openReporting(o.config, { sync: true });
      const cursor = opened.deps.store.cursor()!;
      opened.close();
      process.stdout.write(`report index rebuilt up to block ${cursor.number} (${cursor.hash})\n`);
    });
}
