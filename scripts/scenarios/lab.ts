import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import pino, { type Logger } from "pino";
import { stringify } from "yaml";
import { deployFailsafe, type FailsafeDeployment } from "../../deploy/deploy-failsafe";
import localhost from "../../deploy/parameters/localhost.json";
import { loadConfig, type LoadedConfig } from "../../guardian/config/load-config";
import type { PendingContextWatcher } from "../../guardian/context/pending-context";
import type { DecisionSink } from "../../guardian/decisions/decision-sink";
import type { FindingSink } from "../../guardian/decisions/types";
import type { Finding } from "../../guardian/detectors/types";
import { startGuardian, type RunningGuardian } from "../../guardian/guardian";
import { anvilKey, startAnvil, type AnvilInstance } from "../../guardian/ops/anvil";
import { GuardianMetrics } from "../../guardian/ops/metrics";
import { startLocalRelay, type LocalRelay } from "../../guardian/relay/local-relay";
import type { IncidentRecord } from "../../guardian/reports/incident-record";
import { createSinks } from "../../guardian/sinks";
import { openDatabase, type Db } from "../../guardian/state/database";
import { IncidentStore } from "../../guardian/state/incident-store";

export const CHAIN_ID = 31337;

/**
 * How blocks are produced once the relay owns block production:
 * - `interval`: a block every `blockTimeMs`, whatever the guardian is doing (the demo and the benchmark);
 * - `guardian`: a slot of at most `maxSlotMs` that ends early once every guardian has handled the head
 *   and every trip in flight has its bundle waiting for the next block (the tests: the outcome then does
 *   not depend on how busy the machine is, and the measured milliseconds are still the guardian's own).
 */
export type Pacing = { mode: "interval"; blockTimeMs: number } | { mode: "guardian"; maxSlotMs: number };

export interface LabOptions {
  pacing: Pacing;
  /** Guardian addresses granted GUARDIAN_ROLE on the deployed vault. */
  guardians: string[];
  /** Overrides of deploy/parameters/localhost.json's FailsafeLocal section. */
  deploy?: Record<string, unknown>;
  /** Where configs, stores, logs and incident reports go; a temp dir (removed on stop) when omitted. */
  dir?: string;
  /** Guardian logs; a JSON-lines file in `dir` when omitted. */
  logger?: Logger;
  /** Told of every finding a guardian hands to its sinks (the demo prints them). */
  onFinding?: (guardian: string, finding: Finding, pending: boolean) => void;
}

/** One anvil, the Failsafe modules deployed on it with deploy/, the local relay and the guardians under test. */
export interface Lab {
  anvil: AnvilInstance;
  provider: JsonRpcProvider;
  deployment: FailsafeDeployment["addresses"] & { asset: string };
  dir: string;
  logger: Logger;
  relay?: LocalRelay;
  guardians: GuardianUnderTest[];
  /** anvil's default account `i`, nonce-managed so several transactions can wait in one block. */
  account(i: number): NonceManager;
  /** Hands block production to the local relay (deploy and set up with automine first). */
  startRelay(): Promise<LocalRelay>;
  /** Writes a guardian config as YAML into the lab's folder and returns its path. */
  writeConfig(name: string, config: unknown): string;
  startGuardian(name: string, configFile: string): Promise<GuardianUnderTest>;
  /** Waits for (interval) or builds (guardian pacing) the next block; returns its number. */
  mine(): Promise<number>;
  head(): Promise<number>;
  stop(): Promise<void>;
}

export interface GuardianUnderTest {
  name: string;
  loaded: LoadedConfig;
  running: RunningGuardian;
  db: Db;
  decisions: DecisionSink;
  /** Every finding handed to the sinks (mined and pending), and every retraction. */
  findings: Finding[];
  retracted: Finding[];
  /** Committed block hashes, so pacing knows when the guardian has handled the head. */
  committed: Map<number, string>;
  mempool?: PendingContextWatcher;
  incidents(): IncidentRecord[];
  /** Trip decisions that tripped nothing (dry runs, breakers already tripped): not incidents. */
  tripDecisions(): IncidentRecord[];
  stop(): Promise<void>;
}

/** Starts anvil (`--order fifo`, as the relay needs) and deploys FailsafeLocal through deploy/ while anvil automines. */
export async function startLab(options: LabOptions): Promise<Lab> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "failsafe-scenario-"));
  mkdirSync(dir, { recursive: true });
  const logger = options.logger ?? pino({ level: "debug" }, pino.destination({ dest: path.join(dir, "guardian.log"), sync: false, mkdir: true }));
  const anvil = await startAnvil({ chainId: CHAIN_ID, extraArgs: ["--order", "fifo"] });
  const provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 });
  const accounts = new Map<number, NonceManager>();
  const guardians: GuardianUnderTest[] = [];
  let relay: LocalRelay | undefined;

  let deployment: FailsafeDeployment;
  try {
    deployment = await deployFailsafe({
      rpcUrl: anvil.url,
      module: "FailsafeLocal",
      parameters: { FailsafeLocal: { ...localhost.FailsafeLocal, guardians: options.guardians, ...options.deploy } },
    });
  } catch (err) {
    provider.destroy();
    await anvil.stop();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const head = async () => provider.getBlockNumber();

  /** Guardian pacing: true once the head is handled and every trip in flight has a bundle for the next block. */
  const guardiansReady = async (): Promise<boolean> => {
    const block = await provider.getBlock("latest");
    if (!block || !relay) return false;
    for (const g of guardians) {
      if (g.committed.get(block.number) !== block.hash) return false;
      if ((await g.running.store.undeliveredFindings(CHAIN_ID)).length > 0) return false;
      if (g.mempool) await g.mempool.idle();
    }
    const tripping = guardians.flatMap((g) => g.incidents()).filter((r) => r.status === "tripping").length;
    return relay.pool.pendingFor(block.number + 1).length >= tripping;
  };

  const lab: Lab = {
    anvil,
    provider,
    deployment: { ...deployment.addresses, asset: deployment.addresses.asset as string },
    dir,
    logger,
    guardians,
    get relay() {
      return relay;
    },
    account(i) {
      let a = accounts.get(i);
      if (!a) accounts.set(i, (a = new NonceManager(new Wallet(anvilKey(i), provider))));
      return a;
    },
    async startRelay() {
      relay = await startLocalRelay({
        anvilUrl: anvil.url,
        chainId: CHAIN_ID,
        mining: options.pacing.mode === "interval" ? { mode: "interval", intervalMs: options.pacing.blockTimeMs } : { mode: "manual" },
        logger: logger.child({ stage: "relay" }),
      });
      return relay;
    },
    writeConfig(name, config) {
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(file, stringify(config));
      return file;
    },
    async startGuardian(name, configFile) {
      const g = await startGuardianUnderTest(name, configFile, logger.child({ guardian: name }), options.onFinding);
      guardians.push(g);
      return g;
    },
    async mine() {
      if (!relay) throw new Error("start the relay before mining");
      const before = await head();
      if (options.pacing.mode === "interval") {
        while ((await head()) <= before) await sleep(20);
        return before + 1;
      }
      const deadline = Date.now() + options.pacing.maxSlotMs;
      while (Date.now() < deadline && !(await guardiansReady())) await sleep(20);
      return (await relay.buildBlock()).number;
    },
    head,
    async stop() {
      for (const g of guardians.splice(0)) await g.stop().catch(() => undefined);
      await relay?.stop().catch(() => undefined);
      provider.destroy();
      await anvil.stop();
      if (!options.logger) await new Promise<void>((resolve) => logger.flush(() => resolve()));
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

/**
 * Runs the guardian as `failsafe guard` does (same loader, sinks, pipeline and mempool watch) in this process,
 * with one more sink that records what the guardian found.
 */
async function startGuardianUnderTest(name: string, configFile: string, logger: Logger, onFinding?: LabOptions["onFinding"]): Promise<GuardianUnderTest> {
  const loaded = loadConfig(configFile);
  const db = openDatabase(loaded.config.store.path);
  const metrics = new GuardianMetrics();
  const findings: Finding[] = [];
  const retracted: Finding[] = [];
  const committed = new Map<number, string>();
  const recorder: FindingSink = {
    name: "scenario-recorder",
    async onFindings(found, block) {
      findings.push(...found);
      for (const f of found) onFinding?.(name, f, block.pending === true);
    },
    async onRetractions(gone) {
      retracted.push(...gone);
    },
  };
  let sinks: FindingSink[] = [];
  let running: RunningGuardian;
  try {
    sinks = await createSinks({ loaded, db, logger, metrics });
    if (!sinks.some((s) => s.name === "decisions")) throw new Error(`${configFile}: no decision sink (configure policy.breakers and a trip responder)`);
    running = await startGuardian({ loaded, db, logger, metrics, sinks: [...sinks, recorder], onBlockCommitted: (_chain, t) => committed.set(t.number, t.hash) });
  } catch (err) {
    for (const sink of sinks) await sink.close?.().catch(() => undefined);
    db.close();
    throw err;
  }
  const decisions = sinks.find((s) => s.name === "decisions") as DecisionSink;

  const store = new IncidentStore(db);
  return {
    name,
    loaded,
    running,
    db,
    decisions,
    findings,
    retracted,
    committed,
    mempool: running.mempool.get(CHAIN_ID),
    incidents: () => store.listNow(),
    tripDecisions: () => store.decisionsNow(),
    async stop() {
      await running.stop();
      db.close();
    },
  };
}

/** The guardian config the scenarios share; each adds its contracts, detectors and policy. */
export function guardianConfig(lab: Lab, options: {
  name: string;
  keyEnv: string;
  contracts: { name: string; address: string; abi: string; detectors?: Record<string, unknown> }[];
  chainDetectors?: Record<string, unknown>;
  policy: Record<string, unknown>;
  startBlock: number;
  /** Watch the mempool too (over the websocket). */
  mempool?: boolean;
}): unknown {
  if (!lab.relay) throw new Error("start the relay before writing guardian configs (they point at it)");
  return {
    chains: [
      {
        id: CHAIN_ID,
        name: "anvil",
        rpc: [lab.anvil.url],
        ws: lab.anvil.wsUrl,
        confirmations: 4,
        maxReorgDepth: 16,
        pollIntervalMs: 50,
        rpcTimeoutMs: 5_000,
        startBlock: options.startBlock,
        ...(options.mempool ? { mempool: { mode: "subscribe" } } : {}),
        detectors: { reorg: { maxDepth: 3 }, ...options.chainDetectors },
      },
    ],
    contracts: options.contracts.map((c) => ({ chain: CHAIN_ID, ...c, detectors: c.detectors ?? {} })),
    store: { path: path.join(lab.dir, `${options.name}.sqlite`) },
    metrics: { enabled: false },
    responders: {
      trip: {
        type: "flashbots-trip",
        relays: [{ name: "local-relay", url: lab.relay.url }],
        signer: { keyEnv: options.keyEnv },
        targetBlocks: 3,
        maxBlocks: 10,
        pollIntervalMs: 25,
        fees: { priorityFeeGwei: 2, maxPriorityFeeGwei: 500, maxFeeGwei: 1000 },
      },
    },
    policy: { incidentReports: path.join(lab.dir, "incidents", options.name), ...options.policy },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}
