// Benchmark of the report index: ingestion of eth_getLogs responses and report latency on a token with
// 1,000,000 transfers among 100,000 holders (Zipf-distributed senders and receivers).
//
// Ingestion is measured on JSON-RPC response bodies (synthetic, shaped exactly like a node's eth_getLogs
// answer) through the same path the indexer uses while catching up: JSON.parse, decodeTransferLogs and
// IndexStore.applyBlocks via ingestLogRange. Reports read the seeded store directly (no node, so no
// self-checks). Prints a table, then as its last line one JSON object.
//
// BENCH_SYSTEM_TRANSFERS=10000000 adds the system-wide index run (every Transfer of 1,000 tokens among
// 1,000,000 addresses) to the table and the JSON line; off by default to keep the default run short.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import type { BlockRef } from "../../guardian/chain/types";
import { reportingConfigSchema } from "../../guardian/ledger/config";
import { openDatabase } from "../../guardian/state/database";
import { IndexStore } from "../../guardian/ledger/index-store";
import { ReportingScope } from "../../guardian/ledger/reporting-scope";
import { INGEST_BATCH_LOGS, ingestLogRange } from "../../guardian/ledger/indexer";
import { TRANSFER_TOPIC, type RpcLog } from "../../guardian/ledger/transfer-logs";
import { buildCapTable } from "../../guardian/ledger/cap-table";
import { buildStatement } from "../../guardian/ledger/statement";
import { renderReport } from "../../guardian/ledger/format";
import { ZERO_ADDRESS } from "../../guardian/ledger/movement";
import { benchSystemIndex, type SystemBenchResult } from "./system-index";
import { prng } from "../../test/support/prng";

const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 1_000_000);
const SYSTEM_TRANSFERS = Number(process.env.BENCH_SYSTEM_TRANSFERS ?? 0);
const HOLDERS = Number(process.env.BENCH_HOLDERS ?? 100_000);
const LOGS_PER_BLOCK = 10;
const BLOCKS_PER_RESPONSE = 2_000;
const ZIPF_S = 1.0;
const TOKEN = "0x00000000000000000000000000000000000070c1";


function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / Math.pow(k + 1, s);
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const holderAddress = (rank: number) => "0x" + (0x1000000 + rank).toString(16).padStart(40, "0");
const topicOf = (address: string) => "0x" + address.slice(2).padStart(64, "0");
const hash32 = (tag: number, n: number) => "0x" + tag.toString(16).padStart(8, "0") + n.toString(16).padStart(56, "0");
const blockHash = (n: number) => hash32(0xb10c, n);
const blockRef = (n: number): BlockRef => ({ number: n, hash: blockHash(n), parentHash: blockHash(n - 1), timestamp: 1_700_000_000 + n * 12 });

function main(): void {
  // BENCH_DB keeps the seeded store at that path for a closer look (sqlite3, failsafe report --no-sync).
  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-bench-reports-"));
  const dbFile = process.env.BENCH_DB ? path.resolve(process.env.BENCH_DB) : path.join(dir, "bench.sqlite");
  for (const suffix of ["", "-wal", "-shm"]) rmSync(dbFile + suffix, { force: true });
  const db = openDatabase(dbFile);
  try {
    const scope = new ReportingScope(reportingConfigSchema.parse({ fromBlock: 1, tokens: [{ name: "BENCH", address: TOKEN, standard: "erc20" }] }));
    const store = new IndexStore(db);
    store.initialise(blockRef(0), new Map(), scope.fingerprint());

    const random = prng(20261121);
    const zipf = zipfSampler(HOLDERS, ZIPF_S, random);
    const balances = new Float64Array(HOLDERS);
    const senders = new Uint32Array(HOLDERS);
    const topics = Array.from({ length: HOLDERS }, (_, i) => topicOf(holderAddress(i)));
    const zeroTopic = topicOf(ZERO_ADDRESS);

    const totalBlocks = Math.ceil(TRANSFERS / LOGS_PER_BLOCK);
    let made = 0;
    let ingestMs = 0;
    let parseMs = 0;
    let pending: RpcLog[] = [];
    let headers = new Map<string, BlockRef>();
    let ingestCpuMs = 0;
    let responseBytes = 0;
    for (let first = 1; first <= totalBlocks; first += BLOCKS_PER_RESPONSE) {
      const last = Math.min(totalBlocks, first + BLOCKS_PER_RESPONSE - 1);
      const logs: RpcLog[] = [];
      for (let n = first; n <= last; n++) {
        for (let i = 0; i < LOGS_PER_BLOCK && made < TRANSFERS; i++, made++) {
          // The first transfer of every holder is a mint, so the supply grows with the holder base; later
          // ones move at most what the sender holds, so no balance ever goes negative.
          let from = -1;
          let to: number;
          let amount: number;
          if (made < HOLDERS) {
            to = made;
            amount = 1_000_000 + Math.floor(random() * 1_000_000);
          } else {
            from = zipf();
            do to = zipf();
            while (to === from);
            amount = Math.min(balances[from], 1 + Math.floor(random() * 10_000));
            if (amount === 0) {
              from = -1;
              amount = 1_000;
            }
          }
          if (from >= 0) {
            balances[from] -= amount;
            senders[from]++;
          }
          balances[to] += amount;
          logs.push({
            address: TOKEN,
            topics: [TRANSFER_TOPIC, from < 0 ? zeroTopic : topics[from], topics[to]],
            data: "0x" + amount.toString(16).padStart(64, "0"),
            blockNumber: "0x" + n.toString(16),
            blockHash: blockHash(n),
            transactionHash: hash32(0x7e, made),
            transactionIndex: "0x" + i.toString(16),
            logIndex: "0x" + i.toString(16),
            removed: false,
          });
        }
      }
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, result: logs });
      responseBytes += body.length;
      for (let n = first; n <= last; n++) headers.set(blockHash(n), blockRef(n));

      // Timed: what the indexer does with each response while catching up, batching like it does.
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const response = JSON.parse(body) as { result: RpcLog[] };
      for (const log of response.result) pending.push(log);
      const t1 = performance.now();
      if (pending.length >= INGEST_BATCH_LOGS || last === totalBlocks) {
        ingestLogRange(store, scope, pending, headers, blockRef(last));
        pending = [];
        headers = new Map();
      }
      const t2 = performance.now();
      parseMs += t1 - t0;
      ingestMs += t2 - t0;
      const cpu = process.cpuUsage(cpu0);
      ingestCpuMs += (cpu.user + cpu.system) / 1000;
    }

    const index = { store, scope, chainId: 31337 };
    const token = scope.tokens()[0];
    const head = store.cursor()!;
    const middle = store.block(Math.floor(head.number / 2))!;
    const cpuMs: Record<string, number> = {};
    const timed = <T>(name: string, run: () => T): [T, number] => {
      // Best of three: the first run also pays for SQLite's page cache warming up. CPU time is kept beside
      // wall time because the machine may be shared.
      let best = Infinity;
      let result!: T;
      for (let i = 0; i < 3; i++) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        result = run();
        const wall = performance.now() - t0;
        if (wall < best) {
          best = wall;
          const cpu = process.cpuUsage(cpu0);
          cpuMs[name] = (cpu.user + cpu.system) / 1000;
        }
      }
      return [result, best];
    };
    const [headTable, capTableHeadMs] = timed("capTableHead", () => {
      const built = buildCapTable(index, token, "", head, 100);
      renderReport(built.report, "json");
      return built;
    });
    const [, capTableHeadAllMs] = timed("capTableHeadAll", () => renderReport(buildCapTable(index, token, "", head).report, "csv"));
    const [midTable, capTableHistoricMs] = timed("capTableHistoric", () => {
      const built = buildCapTable(index, token, "", middle, 100);
      renderReport(built.report, "json");
      return built;
    });
    // The past cap table's worst case: the last block before a snapshot point, where the most movements
    // since the previous point have to be patched in (the middle block may sit right on a point).
    const nextPoint = db.prepare("SELECT min(block_number) FROM idx_snapshot_points WHERE block_number > ?").pluck().get(middle.number) as number | null;
    const worst = store.block(nextPoint === null ? middle.number : nextPoint - 1) ?? middle;
    const [worstTable, capTableHistoricWorstMs] = timed("capTableHistoricWorst", () => {
      const built = buildCapTable(index, token, "", worst, 100);
      renderReport(built.report, "json");
      return built;
    });
    // Both must agree with the per-holder read of every balance at that block.
    for (const [built, at] of [[midTable, middle], [worstTable, worst]] as const) {
      const every = store.holders(token.address, "", at.number);
      const sum = every.reduce((n, h) => n + h.balance, 0n);
      const same = built.holders.every((h, i) => h.holder === every[i].holder && h.balance === every[i].balance);
      if (!same || built.total !== sum || built.count !== every.length) throw new Error(`the cap table at block ${at.number} disagrees with the per-holder read`);
    }
    let heavy = 0;
    for (let i = 1; i < HOLDERS; i++) if (senders[i] > senders[heavy]) heavy = i;
    const heavyAccount = { name: holderAddress(heavy), address: holderAddress(heavy) };
    const [statement, statementMs] = timed("statement", () => {
      const built = buildStatement(index, heavyAccount, store.block(1) ?? blockRef(1), head);
      renderReport(built.report, "csv");
      return built;
    });

    const expectedHolders = balances.reduce((n, b) => n + (b > 0 ? 1 : 0), 0);
    const expectedSupply = balances.reduce((s, b) => s + b, 0);
    // The index must agree with what was generated: maintained totals, and the full list summed.
    const everyone = store.holders(token.address, "");
    const listed = everyone.reduce((s, h) => s + h.balance, 0n);
    const totals = store.totals(token.address, "");
    if (everyone.length !== expectedHolders || totals.holders !== expectedHolders || listed !== BigInt(expectedSupply) || totals.total !== listed || headTable.total !== listed) {
      throw new Error(`the index disagrees with the generator: ${everyone.length}/${totals.holders} holders, ${listed}/${totals.total} supply; expected ${expectedHolders}, ${expectedSupply}`);
    }
    const entries = (db.prepare("SELECT count(*) AS n FROM idx_entries").get() as { n: number }).n;
    db.pragma("wal_checkpoint(TRUNCATE)");
    const dbMb = statSync(dbFile).size / 1e6;
    const ingestLogsPerSec = Math.round(TRANSFERS / (ingestMs / 1000));
    const movements = statement.ledgers.reduce((n, l) => n + l.rows.length, 0);

    const rows: [string, string, string][] = [
      ["transfers ingested", String(TRANSFERS), ""],
      ["holders (non-zero at head)", String(everyone.length), ""],
      ["blocks", String(head.number), ""],
      ["eth_getLogs responses", `${Math.ceil(totalBlocks / BLOCKS_PER_RESPONSE)} (${(responseBytes / 1e6).toFixed(0)} MB)`, ""],
      ["entries (postings with balances)", String(entries), ""],
      ["database size", `${dbMb.toFixed(0)} MB`, ""],
      ["ingest (parse + decode + store)", `${ingestLogsPerSec} logs/s`, ">= 100000"],
      ["  CPU time of this process", `${(ingestCpuMs / 1000).toFixed(1)} s (${Math.round(TRANSFERS / (ingestCpuMs / 1000))} logs per CPU-second; load ${loadavg()[0].toFixed(1)} on ${cpus().length} cores)`, ""],
      [`  transactions of >= ${INGEST_BATCH_LOGS} logs; JSON.parse`, `${(parseMs / 1000).toFixed(1)} s of ${(ingestMs / 1000).toFixed(1)} s`, ""],
      ["cap table at head (top 100)", `${capTableHeadMs.toFixed(1)} ms (CPU ${cpuMs.capTableHead.toFixed(1)} ms)`, "<= 5"],
      ["cap table at head (all holders, CSV)", `${capTableHeadAllMs.toFixed(1)} ms (CPU ${cpuMs.capTableHeadAll.toFixed(0)} ms)`, ""],
      [`cap table at block ${middle.number} (top 100)`, `${capTableHistoricMs.toFixed(1)} ms (CPU ${cpuMs.capTableHistoric.toFixed(0)} ms, ${midTable.count} holders)`, "<= 50"],
      [`cap table at block ${worst.number} (top 100)`, `${capTableHistoricWorstMs.toFixed(1)} ms (CPU ${cpuMs.capTableHistoricWorst.toFixed(0)} ms, the block before a snapshot point)`, "<= 50"],
      [`statement of the heaviest account`, `${statementMs.toFixed(1)} ms (CPU ${cpuMs.statement.toFixed(0)} ms, ${movements} movements)`, "<= 200"],
    ];
    let system: SystemBenchResult | undefined;
    if (SYSTEM_TRANSFERS > 0) {
      system = benchSystemIndex(db, dbFile, SYSTEM_TRANSFERS, random, (n) => zipfSampler(n, ZIPF_S, random));
      rows.push(
        ["system-wide index: transfers", String(system.transfers), ""],
        ["  ingest", `${system.logsPerSec} logs/s (${system.seconds} s)`, "finishes"],
        ["  size", `${system.tokens} tokens, ${system.addresses} addresses, ${system.balances} balances; database now ${system.dbMb} MB`, ""],
      );
    }
    const width = Math.max(...rows.map((r) => r[0].length));
    const valueWidth = Math.max(...rows.map((r) => r[1].length));
    console.log(`${"metric".padEnd(width)}  ${"value".padEnd(valueWidth)}  target`);
    console.log(`${"-".repeat(width)}  ${"-".repeat(valueWidth)}  ------`);
    for (const [k, v, t] of rows) console.log(`${k.padEnd(width)}  ${v.padEnd(valueWidth)}  ${t}`);
    console.log(
      JSON.stringify({
        transfers: TRANSFERS,
        holders: HOLDERS,
        ingestLogsPerSec,
        capTableHeadMs: Number(capTableHeadMs.toFixed(1)),
        capTableHistoricMs: Number(capTableHistoricMs.toFixed(1)),
        capTableHistoricWorstMs: Number(capTableHistoricWorstMs.toFixed(1)),
        capTableHeadAllMs: Number(capTableHeadAllMs.toFixed(1)),
        statementMs: Number(statementMs.toFixed(1)),
        statementMovements: movements,
        ingestLogsPerCpuSec: Math.round(TRANSFERS / (ingestCpuMs / 1000)),
        entries,
        dbMb: Number(dbMb.toFixed(1)),
        ...(system ? { system } : {}),
      }),
    );
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
