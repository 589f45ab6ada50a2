import path from "node:path";
import pino from "pino";
import { parseConfig } from "../../../guardian/config/load-config";
import { readFileSync } from "node:fs";
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
