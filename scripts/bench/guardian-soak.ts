/**
 * `npm run bench:guardian -- --soak`: per-account state under a flood of distinct senders. The real pipeline
 * (detectors, SQLite commit of each block and its detector state) runs the active-accounts detector over
 * BENCH_SOAK_SENDERS (default 100,000) distinct senders, BENCH_SOAK_TXS (default 100) new senders per block, so
 * every sender is new. Block contexts are synthetic (no node): what grows here is the guardian's own state, which
 * is what the soak measures. Prints RSS and store size at the start and the end, a table, then one JSON line.
 * Target: RSS growth <= 50 MB over the run, with active-accounts' `maxAccounts` bound (default 20,000 baselines),
 * measured settled (after idle, as a guardian between blocks); the busy figure is printed beside it.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pino from "pino";
import type { BlockRef, RpcClient } from "../../guardian/chain/types";
import type { BlockContext, TxContext } from "../../guardian/context/types";
import { findDetector } from "../../guardian/detectors/registry";
import { GuardianMetrics } from "../../guardian/ops/metrics";
import { Pipeline } from "../../guardian/pipeline";
import { openDatabase } from "../../guardian/state/database";
import { GuardianStore } from "../../guardian/state/guardian-store";

const SENDERS = Number(process.env.BENCH_SOAK_SENDERS ?? 100_000);
const PER_BLOCK = Number(process.env.BENCH_SOAK_TXS ?? 100);
const MAX_ACCOUNTS = Number(process.env.BENCH_SOAK_MAX_ACCOUNTS ?? 20_000);
const TARGET_MB = 50;
const BANK = "0x00000000000000000000000000000000000000ba";
const CHAIN = 31337;

const hex = (n: number, bytes: number) => `0x${n.toString(16).padStart(bytes * 2, "0")}`;

function blockRef(n: number): BlockRef {
  return { number: n, hash: hex(n + 1, 32), parentHash: hex(n, 32), timestamp: 1_700_000_000 + n * 12 };
}

function context(n: number, firstSender: number): BlockContext {
  const transactions: TxContext[] = [];
  for (let i = 0; i < PER_BLOCK; i++) {
    const sender = firstSender + i;
    transactions.push({
      hash: hex(n * 1_000_000 + i, 32),
      index: i,
      from: hex(0x100000 + sender, 20),
      to: BANK,
      value: 10n ** 16n,
      input: "0xd0e30db0",
      nonce: 0,
      gasPrice: 10n ** 9n,
      status: 1,
      gasUsed: 30_000n,
      logs: [],
      // A trace that reaches the bank, as a node's would: without one every transaction is a trace gap, and the
      // store would grow by those anomaly findings instead of by the detector state this soak measures.
      trace: { type: "CALL", from: hex(0x100000 + sender, 20), to: BANK, value: 10n ** 16n, input: "0xd0e30db0", gasUsed: 30_000n, calls: [] },
      touched: [BANK],
    });
  }
  const ref = blockRef(n);
  return { chainId: CHAIN, number: n, hash: ref.hash, parentHash: ref.parentHash, timestamp: ref.timestamp, transactions };
}

/**
 * A full garbage collection before each reading, so the figures are memory the guardian keeps, not garbage V8
 * has not collected yet (at hundreds of blocks a second it collects late). Exposed at run time, so a plain
 * `npm run bench:guardian -- --soak` measures the same thing as `node --expose-gc`.
 */
function collectGarbage(): void {
  const g = globalThis as { gc?: () => void };
  if (!g.gc) {
    setFlagsFromString("--expose-gc");
    g.gc = runInNewContext("gc") as () => void;
  }
  g.gc();
}

function rssMb(): number {
  collectGarbage();
  return process.memoryUsage().rss / 2 ** 20;
}

function heapMb(): number {
  const m = process.memoryUsage();
  return m.heapUsed / 2 ** 20;
}

/**
 * RSS once the process has been idle long enough for V8's memory reducer to give back the heap it committed
 * while busy (it runs after several seconds without allocation). A guardian following a chain is idle between
 * blocks (about 30 ms of work per 12-second block), so this is the figure it lives with; the busy figure is
 * printed beside it. Waits until the committed heap is within 1.5x of the live heap, or 60 s.
 */
async function settledRssMb(): Promise<{ rss: number; heapTotal: number; idleSeconds: number }> {
  const started = performance.now();
  collectGarbage();
  while (performance.now() - started < 60_000) {
    const m = process.memoryUsage();
    if (m.heapTotal <= 1.5 * m.heapUsed) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const m = process.memoryUsage();
  return { rss: m.rss / 2 ** 20, heapTotal: m.heapTotal / 2 ** 20, idleSeconds: (performance.now() - started) / 1000 };
}

function storeMb(file: string): number {
  let bytes = 0;
  for (const f of [file, `${file}-wal`]) bytes += statSync(f, { throwIfNoEntry: false })?.size ?? 0;
  return bytes / 2 ** 20;
}

const round = (x: number) => Math.round(x * 10) / 10;

export async function soak(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-soak-"));
  const file = path.join(dir, "guardian.sqlite");
  const db = openDatabase(file);
  try {
    const store = new GuardianStore(db);
    const logger = pino({ level: "silent" });
    const def = findDetector("active-accounts")!;
    const detector = def.create(def.params.parse({ windowBlocks: 20, warmupBlocks: 0, maxAccounts: MAX_ACCOUNTS }), {
      chainId: CHAIN,
      rpc: undefined as unknown as RpcClient,
      logger,
      contracts: [{ name: "bank", address: BANK, abi: [] }],
    });
    let nextSender = 0;
    const noNode: RpcClient = {
      chainId: CHAIN,
      request: () => Promise.reject(new Error("the soak has no node")),
    } as unknown as RpcClient;
    const pipeline = new Pipeline({
      chainId: CHAIN,
      rpc: noNode,
      logger,
      metrics: new GuardianMetrics(),
      store,
      contexts: { build: async (b: BlockRef) => context(b.number, b.number * PER_BLOCK) },
      detectors: [{ key: "active-accounts@bank", detector }],
      sinks: [],
      window: 64,
    });
    const blocks = Math.ceil(SENDERS / PER_BLOCK);
    // Warm-up: the first 20 blocks (2,000 senders) settle the heap and the store's pages before the start figure.
    const warm = Math.min(20, blocks);
    for (let n = 0; n < warm; n++) await pipeline.handle([{ kind: "block", block: blockRef(n) }]);
    const busyStart = { rss: rssMb(), heap: heapMb(), store: storeMb(file) };
    const settledStart = await settledRssMb();
    const start = { ...busyStart, at: performance.now() };
    // RSS halfway too: a leak keeps growing through the second half, a heap that settled does not.
    let mid = start;
    const half = Math.floor((warm + blocks) / 2);
    for (let n = warm; n < blocks; n++) {
      await pipeline.handle([{ kind: "block", block: blockRef(n) }]);
      nextSender = (n + 1) * PER_BLOCK;
      if (n === half) mid = { rss: rssMb(), heap: heapMb(), store: storeMb(file), at: mid.at };
    }
    const seconds = (performance.now() - start.at) / 1000;
    const end = { rss: rssMb(), heap: heapMb(), store: storeMb(file) };
    const settledEnd = await settledRssMb();
    const state = detector.saveState!() as Record<string, unknown>;
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
    const rowsByTable = Object.fromEntries(tables.map(({ name }) => [name, (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n]).filter(([, n]) => Number(n) > 0));
    const walMb = round((statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) / 2 ** 20);
    const baselines = Object.keys(state).filter((k) => k.startsWith("baseline:")).length;
    const result = {
      mode: "soak",
      senders: nextSender,
      blocks,
      txsPerBlock: PER_BLOCK,
      maxAccounts: MAX_ACCOUNTS,
      baselinesAtEnd: baselines,
      rssStartMb: round(start.rss),
      rssEndMb: round(end.rss),
      rssGrowthMb: round(end.rss - start.rss),
      rssMidMb: round(mid.rss),
      rssSecondHalfGrowthMb: round(end.rss - mid.rss),
      heapMidMb: round(mid.heap),
      heapStartMb: round(start.heap),
      heapEndMb: round(end.heap),
      heapTotalEndMb: round(process.memoryUsage().heapTotal / 2 ** 20),
      externalEndMb: round(process.memoryUsage().external / 2 ** 20),
      storeStartMb: round(start.store),
      storeEndMb: round(end.store),
      walEndMb: walMb,
      rowsByTable,
      blocksPerSec: round((blocks - warm) / seconds),
      settledRssStartMb: round(settledStart.rss),
      settledRssEndMb: round(settledEnd.rss),
      settledRssGrowthMb: round(settledEnd.rss - settledStart.rss),
      settledHeapTotalEndMb: round(settledEnd.heapTotal),
      settledIdleSeconds: round(settledEnd.idleSeconds),
      targetRssGrowthMb: TARGET_MB,
      withinTargetBusy: end.rss - start.rss <= TARGET_MB,
      withinTarget: settledEnd.rss - settledStart.rss <= TARGET_MB,
    };
    const rows: [string, string][] = [
      ["distinct senders", `${result.senders} over ${blocks} blocks (${PER_BLOCK} new senders per block)`],
      ["RSS start / end, busy", `${result.rssStartMb} / ${result.rssEndMb} MB (growth ${result.rssGrowthMb} MB)`],
      ["RSS start / end, settled", `${result.settledRssStartMb} / ${result.settledRssEndMb} MB (growth ${result.settledRssGrowthMb} MB, target <= ${TARGET_MB}; after ${result.settledIdleSeconds} s idle at the end)`],
      ["RSS halfway", `${result.rssMidMb} MB (second half grew ${result.rssSecondHalfGrowthMb} MB: a leak keeps growing, a settled heap does not)`],
      ["JS heap used start / mid / end", `${result.heapStartMb} / ${result.heapMidMb} / ${result.heapEndMb} MB (after a full GC; V8 holds ${result.heapTotalEndMb} MB committed)`],
      ["store start / end", `${result.storeStartMb} / ${result.storeEndMb} MB (SQLite file + WAL)`],
      ["account baselines kept", `${baselines} (bound maxAccounts ${MAX_ACCOUNTS})`],
      ["blocks per second", `${result.blocksPerSec}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
