import path from "node:path";
import pino from "pino";
import { parseConfig } from "../../../guardian/config/load-config";
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { openDatabase } from "../../../guardian/state/database";
import { GuardianMetrics } from "../../../guardian/ops/metrics";
import { startGuardian, type RunningGuardian } from "../../../guardian/guardian";
import type { FindingSink } from "../../../guardian/decisions/types";
import type { ReorgEvent } from "../../../guardian/chain/types";
import type { Finding } from "../../../guardian/detectors/types";
import type { Db } from "../../../guardian/state/database";

/** A sink that remembers everything the pipeline told it, in order. */
export class RecordingSink implements FindingSink {
  readonly name = "recording";
  readonly findings: Finding[] = [];
  readonly retractions: { retracted: Finding[]; reorg: ReorgEvent }[] = [];
  async onFindings(findings: Finding[]): Promise<void> {
    this.findings.push(...findings);
  }
  async onRetractions(retracted: Finding[], reorg: ReorgEvent): Promise<void> {
    this.retractions.push({ retracted, reorg });
  }
}

export interface Harness {
  guardian: RunningGuardian;
  sink: RecordingSink;
  metrics: GuardianMetrics;
  db: Db;
  logFile: string;
  /** Every block number committed, in order (a reorg's new branch shows up again). */
  committed: number[];
  stop(): Promise<void>;
}

/** Runs the real guardian in-process on a config file, logging JSON lines to a file next to it. */
export async function startHarness(configFile: string, dbFile: string): Promise<Harness> {
  const loaded = parseConfig(readFileSync(configFile, "utf8"), configFile);
  const logFile = path.join(path.dirname(configFile), "guardian.log");
  const logger = pino({ level: "debug" }, pino.destination({ dest: logFile, sync: true }));
  const metrics = new GuardianMetrics();
  const db = openDatabase(dbFile);
  const sink = new RecordingSink();
  const committed: number[] = [];
  const guardian = await startGuardian({ loaded, db, logger, metrics, sinks: [sink], onBlockCommitted: (_chain, t) => committed.push(t.number) });
  return {
    guardian,
    sink,
    metrics,
    db,
    logFile,
    committed,
    async stop() {
      await guardian.stop();
      db.close();
    },
  };
}

/** Polls until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `failsafe guard --config <file>` as a child process, its JSON log lines read back from a file. */
export interface GuardProcess {
  child: ChildProcess;
  /** Every JSON log line written so far. */
  lines<T = Record<string, unknown>>(): T[];
  /** Resolves once /healthz on `port` is 200 and the first chain's cursor is at or past `block`. */
  healthyAt(port: number, block: number): Promise<true>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function spawnGuard(configFile: string): GuardProcess {
  const root = path.resolve(__dirname, "../../..");
  const logFile = path.join(path.dirname(configFile), "guard.log");
  const out = openSync(logFile, "w");
  const child = spawn(process.execPath, [path.join(root, "bin/failsafe.cjs"), "guard", "--config", configFile], { cwd: root, stdio: ["ignore", out, out] });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  return {
    child,
    lines: <T>() =>
      readFileSync(logFile, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as T),
    healthyAt: (port, block) =>
      waitFor(`a healthy guardian at block ${block}`, async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!res || res.status !== 200) return undefined;
        const body = (await res.json()) as { chains: { cursor: number }[] };
        return body.chains[0].cursor >= block ? (true as const) : undefined;
      }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
