import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { AlertMessage } from "../../../../guardian/notifiers/types";
import type { IncidentRecord } from "../../../../guardian/reports/incident-record";
import { AlertStore } from "../../../../guardian/state/alert-store";
import { openDatabase } from "../../../../guardian/state/database";
import { GuardianStore } from "../../../../guardian/state/guardian-store";
import { IncidentStore } from "../../../../guardian/state/incident-store";
import { PgAlertStore } from "../../../../guardian/state/postgres/alert-store";
import { PgGuardianStore } from "../../../../guardian/state/postgres/guardian-store";
import { PgIncidentStore } from "../../../../guardian/state/postgres/incident-store";
import { PgDatabase } from "../../../../guardian/state/postgres/pool";
import type { AlertLogStore, GuardianStateStore, IncidentRecordStore } from "../../../../guardian/state/store";
import { createTestDatabase } from "../../../support/postgres";

const run = promisify(execFile);
const CLI = path.resolve(__dirname, "../../../../bin/failsafe.cjs");
const URL_ENV = "FAILSAFE_TEST_COPY_URL";

async function failsafe(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const record = (id: string, status: IncidentRecord["status"]): IncidentRecord =>
  ({ id, chainId: 1, breaker: "0xbreaker", status, dryRun: status === "dry-run", openedAt: `2026-12-0${id.length % 9}T00:00:00.000Z`, updatedAt: "2026-12-05T00:00:00.000Z", findings: [], timeline: [], bundleHashes: [], governance: [], notes: [id], files: { json: "x.json", markdown: "x.md" } }) as unknown as IncidentRecord;
const alert = (id: string, kind: AlertMessage["kind"], incidentId?: string): AlertMessage =>
  ({ id, kind, incidentKey: "inc-1", severity: "high", title: id, summary: "", details: [], chainId: 1, detectorIds: [], findings: [], resolves: false, links: [], createdAt: "", ...(incidentId ? { incidentId } : {}) }) as AlertMessage;

/** What a guardian resumes from, read through the store interface: equal on both sides means nothing was lost. */
async function snapshot(s: { guardian: GuardianStateStore; incidents: IncidentRecordStore; alerts: AlertLogStore }) {
  return {
    cursor: await s.guardian.cursor(1),
    window: await s.guardian.unfinalizedBlocks(1),
    states: [...(await s.guardian.detectorStates(1))],
    findings: (await s.guardian.findings(1, { includeRetracted: true })).map((f) => [f.id, f.retracted]),
    undelivered: (await s.guardian.undeliveredFindings(1)).map((f) => f.id),
    incidents: await s.incidents.list(),
    decisions: await s.incidents.decisions(),
    alerts: (await s.alerts.alerts("inc-1")).map((m) => [m.id, m.kind]),
    pending: (await s.alerts.pendingDeliveries()).map((p) => [p.delivery.notifier, p.message.id]),
  };
}

describe("failsafe store copy: one guardian's SQLite store into a shared PostgreSQL store", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), "failsafe-store-copy-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("moves the cursor, window, findings, detector state, incidents, decisions and alert log; a second copy into it is refused", async () => {
    const file = path.join(dir, "guardian.sqlite");
    const db = openDatabase(file);
    const sqlite = { guardian: new GuardianStore(db), incidents: new IncidentStore(db), alerts: new AlertStore(db) };
    await sqlite.guardian.bindChain(1, "0xgenesis");
    for (let n = 1; n <= 5; n++) {
      const hash = `0xb${n}`;
      await sqlite.guardian.commitBlock(1, {
        block: { number: n, hash, parentHash: `0xb${n - 1}`, timestamp: n },
        findings: [{ id: `0xf${n}`, detectorId: "reentrancy", severity: "critical", title: `f${n}`, chainId: 1, blockNumber: n, blockHash: hash, evidence: { drained: 10n ** 18n } }],
        detectorStates: new Map([["outflow@vault", { window: [n, n * 2] }]]),
        pruneBelow: 0,
      });
    }
    await sqlite.guardian.markDelivered(["0xf1", "0xf2"]);
    await sqlite.incidents.insert(record("0xaa", "tripped"));
    await sqlite.incidents.saveDecision(record("0xbb", "dry-run"));
    await sqlite.alerts.recordAlert(alert("trip-1", "trip", "0xaa"), ["0xf1"], [{ notifier: "hook", recipient: "" }], 1);
    const [pending] = (await sqlite.alerts.recordAlert(alert("find-1", "finding"), ["0xf3"], [{ notifier: "mail", recipient: "sec@example.org" }], 2))!;
    const [sent] = (await sqlite.alerts.deliveries("trip-1"))!;
    await sqlite.alerts.setStatus(sent.id, "delivered", null, 3);
    expect(pending.status).to.equal("pending");
    const before = await snapshot(sqlite);
    db.close();

    const url = await createTestDatabase("store_copy");
    const copy = await failsafe(["store", "copy", "--from", `sqlite:${file}`, "--to", `postgres:${URL_ENV}`], { [URL_ENV]: url });
    expect(copy.code, copy.stderr).to.equal(0);
    expect(copy.stdout).to.match(/guardian_findings\s+5/);
    expect(copy.stdout).to.not.include(new URL(url).password);

    const pg = new PgDatabase(url);
    try {
      const shared = { guardian: new PgGuardianStore(pg), incidents: new PgIncidentStore(pg), alerts: new PgAlertStore(pg) };
      expect(await snapshot(shared)).to.deep.equal(before);
      // The serial ids moved past the copied ones: a new alert's delivery does not collide with a copied one.
      const [next] = (await shared.alerts.recordAlert(alert("find-2", "finding"), [], [{ notifier: "hook", recipient: "" }], 4))!;
      expect(next.id).to.be.greaterThan(pending.id);
    } finally {
      await pg.close();
    }

    const again = await failsafe(["store", "copy", "--from", `sqlite:${file}`, "--to", `postgres:${URL_ENV}`], { [URL_ENV]: url });
    expect(again.code).to.equal(2);
    expect(again.stderr).to.match(/is not empty/);
    const literal = await failsafe(["store", "copy", "--from", `sqlite:${file}`, "--to", url]);
    expect(literal.code).to.equal(2);
    expect(literal.stderr).to.match(/name of an environment variable/);
    expect(literal.stderr).to.not.include(new URL(url).password);
    const missing = await failsafe(["store", "copy", "--from", `sqlite:${path.join(dir, "nope.sqlite")}`, "--to", `postgres:${URL_ENV}`], { [URL_ENV]: url });
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/does not exist/);
  });
});
