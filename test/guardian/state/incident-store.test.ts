import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "../../../guardian/state/database";
import { IncidentStore } from "../../../guardian/state/incident-store";
import type { IncidentRecord, IncidentStatus } from "../../../guardian/reports/incident-record";

function record(id: string, status: IncidentStatus, openedAt: string): IncidentRecord {
  return {
    id,
    chainId: 31337,
    breaker: "0x" + "ab".repeat(20),
    status,
    dryRun: status === "dry-run",
    openedAt,
    updatedAt: openedAt,
    findings: [],
    timeline: [],
    bundleHashes: [],
    governance: [],
    notes: [],
    files: { json: `/nowhere/${id}.json`, markdown: `/nowhere/${id}.md` },
  };
}

describe("IncidentStore", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "failsafe-incident-store-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("moves the dry runs and already-tripped decisions an older store kept among its incidents, once, and keeps every record", async () => {
    const file = path.join(dir, "guardian.sqlite");
    // What the previous release wrote: every trip decision in `incidents`, whatever its outcome.
    const old = openDatabase(file);
    old.exec(`CREATE TABLE incidents (id TEXT PRIMARY KEY, chain_id INTEGER NOT NULL, breaker TEXT NOT NULL, status TEXT NOT NULL,
      opened_at TEXT NOT NULL, updated_at TEXT NOT NULL, record TEXT NOT NULL)`);
    const rows = [record("0x01", "tripped", "2026-12-01T00:00:00.000Z"), record("0x02", "dry-run", "2026-12-02T00:00:00.000Z"), record("0x03", "already-tripped", "2026-12-03T00:00:00.000Z"), record("0x04", "lifted", "2026-12-04T00:00:00.000Z")];
    const insert = old.prepare("INSERT INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const r of rows) insert.run(r.id, r.chainId, r.breaker, r.status, r.openedAt, r.updatedAt, JSON.stringify(r));
    old.close();

    for (let open = 0; open < 2; open++) {
      const db = openDatabase(file);
      const store = new IncidentStore(db);
      expect((await store.list()).map((r) => [r.id, r.status])).to.deep.equal([["0x01", "tripped"], ["0x04", "lifted"]]);
      expect((await store.decisions()).map((r) => [r.id, r.status])).to.deep.equal([["0x02", "dry-run"], ["0x03", "already-tripped"]]);
      expect(await store.decision("0x03")).to.deep.equal(rows[2]);
      expect(await store.get("0x03")).to.equal(undefined);
      db.close();
    }
  });

  it("takes a decision out of the incidents in one transaction", async () => {
    const db = openDatabase(path.join(dir, "guardian.sqlite"));
    const store = new IncidentStore(db);
    const r = record("0x05", "tripping", "2026-12-05T00:00:00.000Z");
    await store.save(r);
    await store.saveDecision({ ...r, status: "already-tripped", trippedBy: { incidentId: "0x01", guardian: "0x" + "cd".repeat(20) } });
    expect(await store.list()).to.deep.equal([]);
    expect((await store.decision("0x05"))?.trippedBy?.incidentId).to.equal("0x01");
    db.close();
  });
});
