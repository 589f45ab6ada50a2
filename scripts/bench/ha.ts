/**
 * `npm run bench:ha`: three guardians on one PostgreSQL store (started here, embedded, on 127.0.0.1), anvil with the
 * local relay building a block every second, and 20 kill -9s of the leader at random points of a reentrancy attack
 * (plus one SIGSTOP), as scripts/ha/chaos.ts runs them. Reports how long each failover took (signal to the next
 * leader's lease) and what was missed or doubled, then the cost of one block's commit on PostgreSQL beside SQLite.
 * Prints a table, then one JSON line. Env: BENCH_HA_KILLS (20), BENCH_HA_BLOCK_MS (1000), BENCH_HA_LEASE_MS (1500).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import type { Finding } from "../../guardian/detectors/types";
import { renderTable } from "../../guardian/ops/table";
import { openDatabase } from "../../guardian/state/database";
import { GuardianStore } from "../../guardian/state/guardian-store";
import { PgGuardianStore } from "../../guardian/state/postgres/guardian-store";
import { migrate } from "../../guardian/state/postgres/migrations";
import { PgDatabase } from "../../guardian/state/postgres/pool";
import type { GuardianStateStore } from "../../guardian/state/store";
import { createTestDatabase, stopTestPostgres } from "../../test/support/postgres";
import { runChaos } from "../ha/chaos";

const KILLS = Number(process.env.BENCH_HA_KILLS ?? 20);
const BLOCK_MS = Number(process.env.BENCH_HA_BLOCK_MS ?? 1000);
const LEASE_MS = Number(process.env.BENCH_HA_LEASE_MS ?? 1500);
const COMMITS = 300;

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;

/** One block's commit as the pipeline makes it: the block, two findings and a detector's state, timed per call. */
async function commitCost(store: GuardianStateStore): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  await store.bindChain(1, "0xgenesis");
  for (let n = 1; n <= COMMITS; n++) {
    const hash = `0x${n.toString(16).padStart(64, "0")}`;
    const findings: Finding[] = [0, 1].map((i) => ({ id: `0x${(n * 2 + i).toString(16).padStart(64, "f")}`, detectorId: "bench", severity: "low", title: "bench", chainId: 1, blockNumber: n, blockHash: hash, evidence: { i } }));
    const started = performance.now();
    await store.commitBlock(1, {
      block: { number: n, hash, parentHash: `0x${(n - 1).toString(16).padStart(64, "0")}`, timestamp: n },
      findings,
      detectorStates: new Map([["bench", { n, window: Array.from({ length: 20 }, (_, i) => i * n) }]]),
      pruneBelow: n - 64,
    });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: round(percentile(times, 50), 2), p99: round(percentile(times, 99), 2) };
}

async function main(): Promise<void> {
  const url = await createTestDatabase("bench_ha");
  const result = await runChaos({ url, kills: KILLS, blockMs: BLOCK_MS, leaseMs: LEASE_MS, claimMs: 5_000, seed: Number(process.env.BENCH_HA_SEED ?? Date.now() % 2 ** 31), log: (l) => process.stderr.write(`${l}\n`) });

  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-bench-ha-"));
  const db = openDatabase(path.join(dir, "commit.sqlite"));
  const sqlite = await commitCost(new GuardianStore(db));
  db.close();
  rmSync(dir, { recursive: true, force: true });
  const pg = new PgDatabase(await createTestDatabase("bench_ha_commit"));
  await migrate(pg);
  const postgres = await commitCost(new PgGuardianStore(pg));
  await pg.close();

  const json = {
    bench: "ha",
    guardians: 3,
    blockTimeMs: BLOCK_MS,
    leaseMs: LEASE_MS,
    kills: result.kills,
    failoverP50Ms: result.failoverP50Ms,
    failoverMaxMs: result.failoverMaxMs,
    failoverWithinTwoBlocks: result.failoverMaxMs <= 2 * BLOCK_MS,
    missedTrips: result.missedTrips,
    duplicateTrips: result.duplicateTrips,
    duplicateIncidents: result.duplicateIncidents,
    duplicateAlerts: result.duplicateAlerts,
    undeliveredAlerts: result.undeliveredAlerts,
    missedBlocks: result.missedBlocks,
    commitMsSqliteP50: sqlite.p50,
    commitMsSqliteP99: sqlite.p99,
    commitMsPostgresP50: postgres.p50,
    commitMsPostgresP99: postgres.p99,
    loadAvg1m: round(loadavg()[0], 2),
    cores: cpus().length,
  };
  const byPoint = new Map<string, number[]>();
  for (const r of result.rounds) byPoint.set(r.point, [...(byPoint.get(r.point) ?? []), r.failoverMs]);
  process.stdout.write(`three guardians, one PostgreSQL, ${BLOCK_MS} ms blocks, lease ${LEASE_MS} ms; load ${json.loadAvg1m} on ${json.cores} cores\n`);
  process.stdout.write(
    renderTable(
      ["KILL POINT", "ROUNDS", "FAILOVER P50 MS", "FAILOVER MAX MS"],
      [...byPoint].map(([point, ms]) => {
        const s = [...ms].sort((a, b) => a - b);
        return [point, String(ms.length), String(percentile(s, 50)), String(s[s.length - 1])];
      }),
      { right: [1, 2, 3], rule: true },
    ),
  );
  process.stdout.write(
    renderTable(
      ["FIGURE", "VALUE", "TARGET"],
      [
        ["missed trips", String(json.missedTrips), "0"],
        ["duplicate incidents", String(json.duplicateIncidents), "0"],
        ["duplicate alerts", String(json.duplicateAlerts), "0"],
        ["undelivered alerts", String(json.undeliveredAlerts), "0"],
        ["missed blocks", String(json.missedBlocks), "0"],
        ["failover max", `${json.failoverMaxMs} ms`, `<= ${2 * BLOCK_MS} ms (2 blocks)`],
        ["block commit, SQLite p50 / p99", `${sqlite.p50} / ${sqlite.p99} ms`, ""],
        ["block commit, PostgreSQL p50 / p99", `${postgres.p50} / ${postgres.p99} ms`, ""],
      ],
      { rule: true },
    ),
  );
  if (result.undelivered.length > 0) process.stdout.write(`undelivered: ${result.undelivered.join("; ")}\n`);
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench:ha failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopTestPostgres());
