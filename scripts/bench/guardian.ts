/**
 * Guardian throughput and latency on anvil. Generates N blocks of ~100 transactions each (vault deposits
 * and withdrawals, ether transfers, bank deposits, and reverting calls), then in one run measures:
 *   - raw: fetching the same blocks, receipts and traces (trace_block) with no processing;
 *   - guardian: catching up over those blocks with every detector on (context, detectors, SQLite commit),
 *     timed from startGuardian (config parsed, database open) to the last block's commit;
 *   - head: per-block processing latency while following the head, one 100-tx block at a time.
 * Both use `trace_block`: anvil serves it from traces recorded at mining time, while its
 * debug_traceBlockByNumber re-executes the block once per transaction (quadratic; the table shows what one
 * 100-transaction block costs that way). Beside wall time it reports CPU time per block, of this process
 * (where the raw fetch or the guardian runs) and of anvil, read from /proc: the machine is shared, and
 * CPU time says what each side costs whatever else is running. Prints a table, then one JSON line.
 * Env: BENCH_BLOCKS (default 60), BENCH_TXS (default 100), BENCH_HEAD_BLOCKS (default 100), BENCH_ROUNDS (7).
 * `--soak` runs the soak instead: RSS and store size under 100k distinct senders (scripts/bench/guardian-soak.ts).
 * `--chains N` runs the multi-chain mode instead: one guardian on N anvil chains (scripts/bench/guardian-multichain.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { startAnvil, type AnvilInstance } from "../../guardian/ops/anvil";
import { HttpRpcClient } from "../../guardian/chain/rpc";
import { parseConfig } from "../../guardian/config/load-config";
import { openDatabase } from "../../guardian/state/database";
import { GuardianMetrics } from "../../guardian/ops/metrics";
import { startGuardian } from "../../guardian/guardian";
import { DEFAULT_PREFETCH, type BlockTiming } from "../../guardian/pipeline";
import { LookAhead } from "../../guardian/context/look-ahead";
import { soak } from "./guardian-soak";
import { multichain } from "./guardian-multichain";
import { deploy, mineTrafficBlock, type Contracts } from "./guardian-traffic";

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 60);
const TXS = Number(process.env.BENCH_TXS ?? 100);
const HEAD_BLOCKS = Number(process.env.BENCH_HEAD_BLOCKS ?? 100);
const SENDERS = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

function configText(anvil: AnvilInstance, c: Contracts, dbFile: string, startBlock: number | "latest", ws: boolean): string {
  return `chains:
  - id: 31337
    rpc: [${anvil.url}]
${ws ? `    ws: ${anvil.wsUrl}\n` : ""}    traces: parity
    pollIntervalMs: 50
    confirmations: 12
    maxReorgDepth: 64
    startBlock: ${startBlock}
    detectors:
      reorg: { maxDepth: 2 }
      flash-loan: {}
      invariant:
        invariants:
          - { name: vault-backed, expr: "vault.totalAssets() <= token.balanceOf(vault)" }
contracts:
  - name: token
    chain: 31337
    address: "${c.token}"
    abi: MockERC20
  - name: vault
    chain: 31337
    address: "${c.vault}"
    abi: GuardedERC4626Vault
    detectors:
      reentrancy: true
      outflow-spike: { windowBlocks: 20, assets: [{ asset: "${c.token}", maxShare: 0.5 }] }
      active-accounts: { warmupBlocks: 10 }
  - name: bank
    chain: 31337
    address: "${c.bank}"
    abi: VulnerableBank
    detectors:
      reentrancy: true
      outflow-spike: { windowBlocks: 20, assets: [{ asset: native, maxShare: 0.5 }] }
store:
  path: ${dbFile}
metrics: { enabled: false }
logging: { level: warn }
`;
}

async function rawFetch(rpc: HttpRpcClient, from: number, to: number): Promise<number> {
  const started = performance.now();
  const fetchOne = (n: number) => {
    const tag = `0x${n.toString(16)}`;
    return rpc.batch([
      { method: "eth_getBlockByNumber", params: [tag, true] },
      { method: "eth_getBlockReceipts", params: [tag] },
      { method: "trace_block", params: [tag] },
    ]);
  };
  // Same look-ahead as the guardian's pipeline, so the comparison is about processing, not concurrency.
  const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const blocks = new LookAhead(numbers, fetchOne, DEFAULT_PREFETCH);
  for (let i = 0; i < numbers.length; i++) await blocks.next();
  return (to - from + 1) / ((performance.now() - started) / 1000);
}

async function runGuardian(
  anvil: AnvilInstance,
  c: Contracts,
  dir: string,
  name: string,
  startBlock: number | "latest",
  ws: boolean,
  onBlock: (t: BlockTiming) => void,
  onStarting: () => void = () => undefined,
) {
  const dbFile = path.join(dir, `${name}.sqlite`);
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, configText(anvil, c, dbFile, startBlock, ws));
  const loaded = parseConfig(configText(anvil, c, dbFile, startBlock, ws), file);
  const db = openDatabase(dbFile);
  const logger = pino({ level: "warn" }, pino.destination({ dest: path.join(dir, `${name}.log`), sync: false }));
  onStarting();
  const guardian = await startGuardian({ loaded, db, logger, metrics: new GuardianMetrics(), sinks: [], onBlockCommitted: (_chain, t) => onBlock(t) });
  return {
    guardian,
    async stop() {
      await guardian.stop();
      db.close();
    },
  };
}

/**
 * CPU time spent so far, in ms: this process (the guardian runs in it) and the anvil child. The machine
 * is shared, so wall time alone mixes in whatever else is running; CPU time per block does not.
 */
interface CpuSample {
  self: number;
  node: number;
}

function cpuNow(anvil: AnvilInstance): CpuSample {
  const { user, system } = process.cpuUsage();
  // utime + stime of the anvil process, in clock ticks (USER_HZ, 100 on Linux).
  const fields = readFileSync(`/proc/${anvil.process.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return { self: (user + system) / 1000, node: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 };
}

function cpuSince(anvil: AnvilInstance, start: CpuSample, blocks: number): CpuSample {
  const now = cpuNow(anvil);
  return { self: (now.self - start.self) / blocks, node: (now.node - start.node) / blocks };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const anvil = await startAnvil({ noMining: true, accounts: SENDERS, balanceEth: 1_000_000, extraArgs: ["--gas-limit", "100000000"] });
  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-bench-guardian-"));
  try {
    const rpc = new HttpRpcClient({ chainId: 31337, urls: [anvil.url], timeoutMs: 60_000 });
    const senders = (await rpc.request<string[]>("eth_accounts", [])).map((a) => a.toLowerCase());
    const c = await deploy(anvil, rpc, senders);

    const genStart = performance.now();
    const first = Number(await rpc.request<string>("eth_blockNumber", [])) + 1;
    for (let b = 0; b < BLOCKS; b++) await mineTrafficBlock(rpc, senders, c, b, TXS);
    const last = Number(await rpc.request<string>("eth_blockNumber", []));
    const genSeconds = (performance.now() - genStart) / 1000;
    const sample = await rpc.request<{ transactions: string[] }>("eth_getBlockByNumber", [`0x${last.toString(16)}`, false]);
    const receipts = await rpc.request<{ status: string }[]>("eth_getBlockReceipts", [`0x${last.toString(16)}`]);
    const reverted = receipts.filter((r) => r.status === "0x0").length;
    const callTracerStart = performance.now();
    await rpc.request("debug_traceBlockByNumber", [`0x${last.toString(16)}`, { tracer: "callTracer" }]);
    const callTracerBlockMs = performance.now() - callTracerStart;

    // The machine is shared and noisy: a neighbour's burst can slow either side by a fifth. So each round
    // measures both sides back to back, in alternating order (raw first, then guardian first), and the
    // ratio is the median of the rounds' own ratios: each compares two runs made under the same load.
    const rawRuns: number[] = [];
    const guardianRuns: number[] = [];
    const rawCpu: CpuSample[] = [];
    const guardianCpu: CpuSample[] = [];
    let findings = 0;
    const measureRaw = async () => {
      const cpu = cpuNow(anvil);
      rawRuns.push(await rawFetch(rpc, first, last));
      rawCpu.push(cpuSince(anvil, cpu, last - first + 1));
    };
    const measureGuardian = async (round: number) => {
      let caughtUpAt = 0;
      let committed = 0;
      let cpu = cpuNow(anvil);
      let catchUpStart = performance.now();
      const catchUp = await runGuardian(anvil, c, dir, `catchup-${round}`, first, false, (t) => {
        committed++;
        if (t.number === last) caughtUpAt = performance.now();
      }, () => {
        // The clock starts with the guardian: the config file is parsed and the database opened.
        cpu = cpuNow(anvil);
        catchUpStart = performance.now();
      });
      while (caughtUpAt === 0) await new Promise((r) => setTimeout(r, 5));
      guardianRuns.push(committed / ((caughtUpAt - catchUpStart) / 1000));
      guardianCpu.push(cpuSince(anvil, cpu, committed));
      findings = (await catchUp.guardian.store.findings(31337)).length;
      await catchUp.stop();
    };
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        await measureRaw();
        await measureGuardian(round);
      } else {
        await measureGuardian(round);
        await measureRaw();
      }
    }
    const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
    const ratios = guardianRuns.map((g, i) => g / rawRuns[i]);
    const rawBlocksPerSec = median(rawRuns);
    const guardianBlocksPerSec = median(guardianRuns);

    // Following the head: one block at a time, the guardian woken by newHeads.
    const headTimings: BlockTiming[] = [];
    let seen = 0;
    const follow = await runGuardian(anvil, c, dir, "head", "latest", true, (t) => {
      if (t.transactions > 0) headTimings.push(t);
      seen = t.number;
    });
    const headCpu: number[] = [];
    for (let b = 0; b < HEAD_BLOCKS; b++) {
      await mineTrafficBlock(rpc, senders, c, BLOCKS + b, TXS);
      const cpu = process.cpuUsage();
      const target = Number(await rpc.request<string>("eth_blockNumber", []));
      while (seen < target) await new Promise((r) => setTimeout(r, 2));
      const used = process.cpuUsage(cpu);
      headCpu.push((used.user + used.system) / 1000);
    }
    await follow.stop();
    const sorted = (pick: (t: BlockTiming) => number) => headTimings.map(pick).sort((a, b) => a - b);
    const total = sorted((t) => t.ms);
    const rssMb = process.memoryUsage().rss / 2 ** 20;

    const result = {
      blocks: last - first + 1,
      txsPerBlock: sample.transactions.length,
      revertedPerBlock: reverted,
      guardianBlocksPerSec: round(guardianBlocksPerSec),
      rawBlocksPerSec: round(rawBlocksPerSec),
      ratio: round(median(ratios), 3),
      ratioMin: round(Math.min(...ratios), 3),
      ratioMax: round(Math.max(...ratios), 3),
      rounds: ROUNDS,
      findings,
      headBlocks: headTimings.length,
      p50BlockMs: round(percentile(total, 50)),
      p99BlockMs: round(percentile(total, 99)),
      p50ContextMs: round(percentile(sorted((t) => t.contextMs), 50)),
      p50DetectMs: round(percentile(sorted((t) => t.detectMs), 50)),
      p50CommitMs: round(percentile(sorted((t) => t.commitMs), 50)),
      p99ContextMs: round(percentile(sorted((t) => t.contextMs), 99)),
      p99DetectMs: round(percentile(sorted((t) => t.detectMs), 99)),
      p99CommitMs: round(percentile(sorted((t) => t.commitMs), 99)),
      // CPU per block (median over rounds): this process and anvil, for the raw fetch and the catch-up.
      rawCpuMsPerBlock: round(median(rawCpu.map((x) => x.self)), 2),
      guardianCpuMsPerBlock: round(median(guardianCpu.map((x) => x.self)), 2),
      rawNodeCpuMsPerBlock: round(median(rawCpu.map((x) => x.node)), 2),
      guardianNodeCpuMsPerBlock: round(median(guardianCpu.map((x) => x.node)), 2),
      p50HeadCpuMs: round(percentile([...headCpu].sort((a, b) => a - b), 50), 2),
      loadAvg1m: round(loadavg()[0], 2),
      rssMb: round(rssMb, 0),
    };
    const rows: [string, string][] = [
      ["traffic generated", `${result.blocks} blocks x ${result.txsPerBlock} txs (${reverted} reverted per block) in ${genSeconds.toFixed(1)} s`],
      ["raw fetch (block+receipts+trace_block)", `${result.rawBlocksPerSec} blocks/s (median of ${rawRuns.map((x) => round(x)).join(", ")})`],
      ["guardian catch-up, all detectors", `${result.guardianBlocksPerSec} blocks/s (median of ${guardianRuns.map((x) => round(x)).join(", ")}), ${findings} findings`],
      ["ratio guardian / raw, per round", ratios.map((x) => round(x, 3)).join(", ")],
      ["ratio guardian / raw, median", `${result.ratio} (target >= 0.8)`],
      ["CPU per block, raw: this process / anvil", `${result.rawCpuMsPerBlock} / ${result.rawNodeCpuMsPerBlock} ms (wall ${round(1000 / rawBlocksPerSec, 2)} ms)`],
      ["CPU per block, guardian: this process / anvil", `${result.guardianCpuMsPerBlock} / ${result.guardianNodeCpuMsPerBlock} ms (wall ${round(1000 / guardianBlocksPerSec, 2)} ms)`],
      ["following head, per block p50 / p99", `${result.p50BlockMs} / ${result.p99BlockMs} ms over ${result.headBlocks} blocks (target p99 <= 50)`],
      ["  p50 CPU of this process per head block", `${result.p50HeadCpuMs} ms`],
      ["  p50 of: context / detectors / commit", `${result.p50ContextMs} / ${result.p50DetectMs} / ${result.p50CommitMs} ms`],
      ["  p99 of: context / detectors / commit", `${result.p99ContextMs} / ${result.p99DetectMs} / ${result.p99CommitMs} ms`],
      ["RSS", `${result.rssMb} MB`],
      ["load average (1 min) at the end", `${result.loadAvg1m} on ${cpus().length} cores`],
      ["for reference: callTracer, one block", `${round(callTracerBlockMs)} ms (anvil re-executes per transaction)`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await anvil.stop();
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// `--soak`: per-account state under 100k distinct senders instead (see guardian-soak.ts); `--chains N`: one guardian
// following N anvil chains at 1-second blocks, head lag per chain (see guardian-multichain.ts).
const chainsArg = process.argv.indexOf("--chains");
(process.argv.includes("--soak") ? soak() : chainsArg > 0 ? multichain(Number(process.argv[chainsArg + 1])) : main()).catch((err: unknown) => {
  process.stderr.write(`bench:guardian failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

