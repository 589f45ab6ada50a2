/**
 * `npm run bench:guardian -- --chains 5`: one guardian process following N anvil chains at 1-second blocks, each
 * with its own contracts, detectors and traffic (BENCH_MULTICHAIN_TXS per block, default 30), for
 * BENCH_MULTICHAIN_SECONDS (default 60). Head lag per chain is the time from the node announcing a block (newHeads,
 * received in this process like the guardian's own subscription) to the guardian committing it; a block the
 * guardian never committed between the first and the last it did is counted missed. Prints a table, then one
 * JSON line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { WebSocketProvider } from "ethers";
import { HttpRpcClient } from "../../guardian/chain/rpc";
import { parseConfig } from "../../guardian/config/load-config";
import { startGuardian } from "../../guardian/guardian";
import { startAnvil, type AnvilInstance } from "../../guardian/ops/anvil";
import { GuardianMetrics } from "../../guardian/ops/metrics";
import { renderTable } from "../../guardian/ops/table";
import { openDatabase } from "../../guardian/state/database";
import { blockTraffic, deploy, type Contracts } from "./guardian-traffic";

const SECONDS = Number(process.env.BENCH_MULTICHAIN_SECONDS ?? 60);
const TXS = Number(process.env.BENCH_MULTICHAIN_TXS ?? 30);
const SENDERS = 10;
const BLOCK_TIME_MS = 1_000;
const FIRST_CHAIN_ID = 31337;

interface Chain {
  id: number;
  anvil: AnvilInstance;
  rpc: HttpRpcClient;
  senders: string[];
  contracts: Contracts;
  /** When this process heard of each block (newHeads). */
  announced: Map<number, number>;
  /** When the guardian committed each block. */
  committed: Map<number, number>;
  /** Blocks announced before this one that the guardian had not committed yet, sampled at each announcement. */
  behind: number[];
  transactions: number;
}

function chainConfig(c: Chain): string {
  return `  - id: ${c.id}
    rpc: [${c.anvil.url}]
    ws: ${c.anvil.wsUrl}
    traces: parity
    pollIntervalMs: 250
    confirmations: 12
    maxReorgDepth: 64
    startBlock: latest
    detectors:
      reorg: { maxDepth: 2 }
      flash-loan: {}
`;
}

function contractsConfig(c: Chain): string {
  return `  - { name: token-${c.id}, chain: ${c.id}, address: "${c.contracts.token}", abi: MockERC20 }
  - name: vault-${c.id}
    chain: ${c.id}
    address: "${c.contracts.vault}"
    abi: GuardedERC4626Vault
    detectors:
      reentrancy: true
      outflow-spike: { windowBlocks: 20, assets: [{ asset: "${c.contracts.token}", maxShare: 0.5 }] }
      active-accounts: { warmupBlocks: 10 }
  - name: bank-${c.id}
    chain: ${c.id}
    address: "${c.contracts.bank}"
    abi: VulnerableBank
    detectors:
      reentrancy: true
`;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export async function multichain(count: number): Promise<void> {
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error(`--chains: expected a whole number from 1 to 16, got ${process.argv[process.argv.indexOf("--chains") + 1]}`);
  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-bench-multichain-"));
  const chains: Chain[] = [];
  const sockets: WebSocketProvider[] = [];
  let stopTraffic = false;
  try {
    for (let i = 0; i < count; i++) {
      const id = FIRST_CHAIN_ID + i;
      const anvil = await startAnvil({ chainId: id, blockTime: BLOCK_TIME_MS / 1000, accounts: SENDERS, balanceEth: 1_000_000, extraArgs: ["--gas-limit", "100000000"] });
      const rpc = new HttpRpcClient({ chainId: id, urls: [anvil.url], timeoutMs: 30_000 });
      const senders = (await rpc.request<string[]>("eth_accounts", [])).map((a) => a.toLowerCase());
      chains.push({ id, anvil, rpc, senders, contracts: await deploy(anvil, rpc, senders), announced: new Map(), committed: new Map(), behind: [], transactions: 0 });
    }
    const dbFile = path.join(dir, "guardian.sqlite");
    const text = `chains:\n${chains.map(chainConfig).join("")}contracts:\n${chains.map(contractsConfig).join("")}store:\n  path: ${dbFile}\nmetrics: { enabled: false }\nlogging: { level: warn }\n`;
    const file = path.join(dir, "guardian.yaml");
    writeFileSync(file, text);
    const byId = new Map(chains.map((c) => [c.id, c]));
    for (const c of chains) {
      const ws = new WebSocketProvider(c.anvil.wsUrl, c.id, { staticNetwork: true });
      sockets.push(ws);
      await ws.on("block", (n: number) => {
        if (!c.announced.has(n)) c.announced.set(n, performance.now());
        const last = Math.max(0, ...[...c.committed.keys()].slice(-1));
        // 0: the guardian had committed every block before this one.
        if (last > 0) c.behind.push(Math.max(0, n - 1 - last));
      });
    }
    const db = openDatabase(dbFile);
    const logger = pino({ level: "warn" }, pino.destination({ dest: path.join(dir, "guardian.log"), sync: false }));
    const guardian = await startGuardian({
      loaded: parseConfig(text, file),
      db,
      logger,
      metrics: new GuardianMetrics(),
      sinks: [],
      onBlockCommitted: (chainId, t) => {
        const c = byId.get(chainId)!;
        c.committed.set(t.number, performance.now());
        c.transactions += t.transactions;
      },
    });

    // Each chain's traffic goes into its mempool once per block time; the interval miner seals it.
    const traffic = chains.map(async (c) => {
      for (let salt = 0; !stopTraffic; salt++) {
        const started = performance.now();
        await c.rpc.batch(blockTraffic(c.senders, c.contracts, salt, TXS).map((params) => ({ method: "eth_sendTransaction", params: [params] })));
        await new Promise((r) => setTimeout(r, Math.max(0, BLOCK_TIME_MS - (performance.now() - started))));
      }
    });
    await new Promise((r) => setTimeout(r, SECONDS * 1_000));
    stopTraffic = true;
    await Promise.all(traffic);
    // Let the last announced blocks be committed (or not) before judging.
    await new Promise((r) => setTimeout(r, 2 * BLOCK_TIME_MS));
    await guardian.stop();
    db.close();

    const perChain: Record<string, { blocks: number; transactions: number; missedBlocks: number; p50LagMs: number; p99LagMs: number; maxLagMs: number; maxBlocksBehind: number }> = {};
    for (const c of chains) {
      const numbers = [...c.committed.keys()].sort((a, b) => a - b);
      const first = numbers[0] ?? 0;
      const last = numbers[numbers.length - 1] ?? -1;
      const lags = numbers.flatMap((n) => (c.announced.has(n) ? [Math.max(0, c.committed.get(n)! - c.announced.get(n)!)] : [])).sort((a, b) => a - b);
      perChain[c.id] = {
        blocks: numbers.length,
        transactions: c.transactions,
        missedBlocks: Math.max(0, last - first + 1 - numbers.length),
        p50LagMs: round(percentile(lags, 50)),
        p99LagMs: round(percentile(lags, 99)),
        maxLagMs: round(lags[lags.length - 1] ?? 0),
        maxBlocksBehind: Math.max(0, ...c.behind),
      };
    }
    const all = Object.values(perChain);
    const result = {
      bench: "guardian-multichain",
      chains: count,
      blockTimeMs: BLOCK_TIME_MS,
      seconds: SECONDS,
      txsPerBlock: TXS,
      perChain,
      maxP99LagMs: Math.max(...all.map((x) => x.p99LagMs)),
      maxLagMs: Math.max(...all.map((x) => x.maxLagMs)),
      missedBlocks: all.reduce((a, x) => a + x.missedBlocks, 0),
      loadAvg1m: round(loadavg()[0], 2),
      cores: cpus().length,
    };
    const rows = chains.map((c) => {
      const r = perChain[c.id];
      return [String(c.id), String(r.blocks), String(r.transactions), String(r.missedBlocks), String(r.p50LagMs), String(r.p99LagMs), String(r.maxLagMs), String(r.maxBlocksBehind)];
    });
    process.stdout.write(`one guardian, ${count} anvil chains at ${BLOCK_TIME_MS} ms blocks, ${TXS} txs per block, ${SECONDS} s; load ${result.loadAvg1m} on ${result.cores} cores\n`);
    process.stdout.write(renderTable(["CHAIN", "BLOCKS", "TXS", "MISSED", "P50 LAG MS", "P99 LAG MS", "MAX LAG MS", "MAX BEHIND"], rows, { right: [1, 2, 3, 4, 5, 6, 7], rule: true }));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    stopTraffic = true;
    for (const s of sockets) await s.destroy();
    for (const c of chains) await c.anvil.stop();
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}
