import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { AlertStore } from "../../../guardian/state/alert-store";
import { openDatabase } from "../../../guardian/state/database";
import { GuardianStore } from "../../../guardian/state/guardian-store";
import { IncidentStore } from "../../../guardian/state/incident-store";
import { SQLITE_LATEST_VERSION, sqliteSchemaVersion } from "../../../guardian/state/sqlite-migrations";

const run = promisify(execFile);
const CLI = path.resolve(__dirname, "../../../bin/failsafe.cjs");

async function failsafe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("SQLite store schema: versions and migrations", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "failsafe-sqlite-migrations-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a new file is created at the latest version, once, whichever store opens it first", () => {
    const db = openDatabase(path.join(dir, "g.sqlite"));
    new IncidentStore(db);
    new GuardianStore(db);
    new AlertStore(db);
    expect(sqliteSchemaVersion(db)).to.equal(SQLITE_LATEST_VERSION);
    expect((db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as { version: number }[]).map((r) => r.version)).to.deep.equal([1, 2]);
    db.close();
  });

  it("a file written before versions (no claim columns, dry runs among incidents) is migrated in place by `failsafe store migrate`, then up to date", async () => {
    const file = path.join(dir, "old.sqlite");
    const old = new Database(file);
    old.exec(`
      CREATE TABLE incidents (id TEXT PRIMARY KEY, chain_id INTEGER NOT NULL, breaker TEXT NOT NULL, status TEXT NOT NULL, opened_at TEXT NOT NULL, updated_at TEXT NOT NULL, record TEXT NOT NULL);
      CREATE TABLE alert_messages (id TEXT PRIMARY KEY, incident_key TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE alert_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL REFERENCES alert_messages(id), notifier TEXT NOT NULL, recipient TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')), attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, updated_at INTEGER NOT NULL, UNIQUE (alert_id, notifier, recipient));
      INSERT INTO incidents VALUES ('0x01', 1, '0xb', 'tripped', '2026-12-01', '2026-12-01', '{"id":"0x01"}'), ('0x02', 1, '0xb', 'dry-run', '2026-12-02', '2026-12-02', '{"id":"0x02"}');
      INSERT INTO alert_messages VALUES ('a1', 'k', 'finding', 'high', '{}', 1);
      INSERT INTO alert_deliveries (alert_id, notifier, recipient, status, updated_at) VALUES ('a1', 'hook', '', 'pending', 1);
    `);
    old.close();
    const config = path.join(dir, "failsafe.yaml");
    writeFileSync(config, `chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\nstore:\n  path: ${file}\n`);
    const first = await failsafe(["store", "migrate", "-c", config]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.equal(`store ${file}: schema version 0 -> ${SQLITE_LATEST_VERSION} (applied 1, 2)\n`);
    const again = await failsafe(["store", "migrate", "-c", config]);
    expect(again.stdout).to.equal(`store ${file}: schema version ${SQLITE_LATEST_VERSION}, up to date\n`);

    const db = new Database(file, { readonly: true });
    const columns = (db.prepare("PRAGMA table_info(alert_deliveries)").all() as { name: string }[]).map((c) => c.name);
    expect(columns).to.include.members(["claimed_by", "claim_expires_at"]);
    expect(db.prepare("SELECT id FROM incidents").pluck().all()).to.deep.equal(["0x01"]);
    expect(db.prepare("SELECT id FROM trip_decisions").pluck().all()).to.deep.equal(["0x02"]);
    expect(db.prepare("SELECT status FROM alert_deliveries").pluck().all()).to.deep.equal(["pending"]);
    db.close();
  });

  it("refuses a file a newer build migrated, naming both versions, and never creates a missing one", async () => {
    const file = path.join(dir, "newer.sqlite");
    const db = openDatabase(file);
    new GuardianStore(db);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 'now')").run();
    db.close();
    const config = path.join(dir, "failsafe.yaml");
    writeFileSync(config, `chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\nstore:\n  path: ${file}\n`);
    const refused = await failsafe(["store", "migrate", "-c", config]);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.include(`has schema version 99, newer than this guardian's ${SQLITE_LATEST_VERSION}`);
    const reopened = openDatabase(file);
    expect(() => new IncidentStore(reopened)).to.throw(/newer than this guardian's/);
    reopened.close();

    writeFileSync(config, `chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\nstore:\n  path: ${path.join(dir, "typo.sqlite")}\n`);
    const missing = await failsafe(["store", "migrate", "-c", config]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/does not exist/);
  });
});
