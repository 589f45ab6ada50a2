import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { JsonRpcProvider, NonceManager, Wallet, parseEther } from "ethers";
import { stringify } from "yaml";
import { ReentrancyAttacker__factory, VulnerableBreakerBank__factory, type VulnerableBreakerBank } from "../../../typechain-types";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { startLocalRelay, type LocalRelay } from "../../../guardian/relay/local-relay";
import type { IncidentRecord } from "../../../guardian/reports/incident-record";

const ROOT = path.resolve(__dirname, "../../..");
export const CHAIN_ID = 31337;
export const KEY_ENV = "FAILSAFE_TRIP_LAB_GUARDIAN_KEY";
const GUARDIAN_KEY = anvilKey(1);

/** One `failsafe guard` child process and its log. */
export interface GuardProcess {
  child: ChildProcess;
  logFile: string;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The JSON log lines written so far. */
  log(): Record<string, unknown>[];
}

export interface GuardFiles {
  dir: string;
  file: string;
  dbFile: string;
  reports: string;
}

/**
 * anvil (`--order fifo`) with the local relay building blocks on demand, a VulnerableBreakerBank the guardian may
 * trip and a ReentrancyAttacker aimed at it: the real `failsafe guard` runs as a child process against both, so a
 * test can kill it at any point of a trip and look at what the chain, the relay and the store show.
 */
export interface TripLab {
  anvil: AnvilInstance;
  provider: JsonRpcProvider;
  relay: LocalRelay;
  bank: VulnerableBreakerBank;
  bankAddress: string;
  dir: string;
  /** Sends one attack transaction to the pool (mined by the next `mine`). */
  attack(): Promise<string>;
  /** Builds the next block through the relay (bundles first); returns its number. */
  mine(): Promise<number>;
  /** Mines `n` blocks straight on anvil, past the relay: pending bundles are never included (a builder that dropped them). */
  mineWithoutBundles(n: number): Promise<number>;
  /**
   * Governance (the deployer here) lifts the bank's trip, if any, and the chain waits out the breaker's trip
   * cooldown, so the next case starts with a bank a guardian can trip.
   */
  resetBreaker(): Promise<void>;
  head(): Promise<number>;
  writeConfig(options?: { reports?: string; dbFile?: string; policy?: Record<string, unknown>; metricsPort?: number; startBlock?: number; rpc?: string[]; chain?: Record<string, unknown>; extra?: Record<string, unknown> }): Promise<GuardFiles>;
  guard(configFile: string, logFile?: string): GuardProcess;
  /** Pending bundles the relay holds for the next block. */
  pendingBundles(): Promise<number>;
  stop(): Promise<void>;
}

export async function startTripLab(): Promise<TripLab> {
  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-trip-lab-"));
  const anvil = await startAnvil({ chainId: CHAIN_ID, extraArgs: ["--order", "fifo"] });
  const provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 });
  const deployer = new NonceManager(new Wallet(anvilKey(0), provider));
  const guardianAddress = new Wallet(GUARDIAN_KEY).address;
  const bank = await new VulnerableBreakerBank__factory(deployer).deploy(await deployer.getAddress(), [guardianAddress], 3600);
  await bank.waitForDeployment();
  const bankAddress = (await bank.getAddress()).toLowerCase();
  await (await bank.connect(new NonceManager(new Wallet(anvilKey(5), provider))).deposit({ value: parseEther("50") })).wait();
  const thief = new NonceManager(new Wallet(anvilKey(9), provider));
  const attacker = await new ReentrancyAttacker__factory(thief).deploy(bankAddress);
  await attacker.waitForDeployment();
  const relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });
  const children: ChildProcess[] = [];
  let configs = 0;

  const lab: TripLab = {
    anvil,
    provider,
    relay,
    bank,
    bankAddress,
    dir,
    async attack() {
      const tx = await attacker.attack(3, 0, { value: parseEther("1"), gasLimit: 1_000_000n });
      return tx.hash.toLowerCase();
    },
    async mine() {
      return (await relay.buildBlock()).number;
    },
    async mineWithoutBundles(n) {
      await provider.send("anvil_mine", [`0x${n.toString(16)}`]);
      return provider.getBlockNumber();
    },
    async resetBreaker() {
      if (await bank.isTripped()) {
        await bank.lift((await bank.incident()).incidentId);
        await relay.buildBlock();
      }
      const wait = Number(await bank.nextTripAt()) - (await provider.getBlock("latest"))!.timestamp;
      if (wait > 0) {
        await provider.send("evm_increaseTime", [wait]);
        await provider.send("anvil_mine", ["0x1"]);
      }
    },
    head: () => provider.getBlockNumber(),
    async writeConfig(options = {}) {
      const n = ++configs;
      const dbFile = options.dbFile ?? path.join(dir, `guardian-${n}.sqlite`);
      const reports = options.reports ?? path.join(dir, `incidents-${n}`);
      const config = {
        chains: [
          {
            id: CHAIN_ID,
            rpc: options.rpc ?? [anvil.url],
            confirmations: 2,
            maxReorgDepth: 16,
            pollIntervalMs: 50,
            rpcTimeoutMs: 5_000,
            startBlock: options.startBlock ?? (await provider.getBlockNumber()),
            detectors: {},
            ...options.chain,
          },
        ],
        contracts: [{ name: "bank", chain: CHAIN_ID, address: bankAddress, abi: "VulnerableBreakerBank", detectors: { reentrancy: true } }],
        store: { path: dbFile },
        metrics: { enabled: options.metricsPort !== undefined, port: options.metricsPort ?? 0 },
        logging: { level: "debug", destination: "stdout" },
        responders: {
          trip: {
            type: "flashbots-trip",
            relays: [{ name: "local-relay", url: relay.url }],
            signer: { keyEnv: KEY_ENV },
            targetBlocks: 3,
            maxBlocks: 20,
            pollIntervalMs: 25,
            fees: { priorityFeeGwei: 2, maxPriorityFeeGwei: 500, maxFeeGwei: 1000 },
          },
        },
        policy: { incidentReports: reports, breakers: [{ contract: "bank" }], ...options.policy },
        ...options.extra,
      };
      const file = path.join(dir, `guardian-${n}.yaml`);
      writeFileSync(file, stringify(config));
      return { dir, file, dbFile, reports };
    },
    guard(configFile, logFile = `${configFile}.log`) {
      const out = openSync(logFile, "a");
      const child = spawn(process.execPath, [path.join(ROOT, "bin/failsafe.cjs"), "guard", "--config", configFile], {
        cwd: ROOT,
        stdio: ["ignore", out, out],
        env: { ...process.env, [KEY_ENV]: GUARDIAN_KEY },
      });
      closeSync(out);
      children.push(child);
      return {
        child,
        logFile,
        exited: () => exited(child),
        log: () => readLog(logFile),
      };
    },
    async pendingBundles() {
      const head = await provider.getBlockNumber();
      return relay.pool.pendingFor(head + 1).length;
    },
    async stop() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await Promise.all(children.map((c) => exited(c)));
      await relay.stop().catch(() => undefined);
      provider.destroy();
      await anvil.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

export function readLog(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { unparsed: l };
      }
    });
}

/** The store as an operator would read it while the guardian may be writing: cursor and incidents. */
export function readGuardStore(dbFile: string): { cursor?: number; incidents: IncidentRecord[] } {
  if (!existsSync(dbFile)) return { incidents: [] };
  let db: Database.Database | undefined;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    const hasTable = (name: string) => db!.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    const cursor = hasTable("guardian_cursor") ? (db.prepare("SELECT number FROM guardian_cursor WHERE chain_id = ?").get(CHAIN_ID) as { number: number } | undefined) : undefined;
    const incidents = hasTable("incidents") ? (db.prepare("SELECT record FROM incidents ORDER BY opened_at").all() as { record: string }[]).map((r) => JSON.parse(r.record) as IncidentRecord) : [];
    return { cursor: cursor?.number, incidents };
  } catch {
    return { incidents: [] };
  } finally {
    db?.close();
  }
}
