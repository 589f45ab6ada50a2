import type { Db } from "./database";

/**
 * The SQLite store's schema as numbered migrations, the same numbers as the PostgreSQL store's (a store copied from
 * one to the other is at the same version). Each runs in its own transaction and is recorded in schema_migrations.
 * Version 1 is the schema as stores created it before there were versions (every statement `IF NOT EXISTS`), so a
 * file written by an earlier release is brought to version 1 without a change and then migrated like any other.
 * A migration, once released, is never edited: a change is a new one. The ledger's report index versions its own
 * tables (idx_meta).
 */
interface SqliteMigration {
  version: number;
  name: string;
  up(db: Db): void;
}

const V1 = `
CREATE TABLE IF NOT EXISTS guardian_chain_identity (chain_id INTEGER PRIMARY KEY, genesis_hash TEXT NOT NULL, bound_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS guardian_cursor (
  chain_id   INTEGER PRIMARY KEY,
  number     INTEGER NOT NULL,
  hash       TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS guardian_blocks (
  chain_id    INTEGER NOT NULL,
  number      INTEGER NOT NULL,
  hash        TEXT    NOT NULL,
  parent_hash TEXT    NOT NULL,
  timestamp   INTEGER NOT NULL,
  PRIMARY KEY (chain_id, number)
);
CREATE TABLE IF NOT EXISTS guardian_findings (
  id           TEXT PRIMARY KEY,
  chain_id     INTEGER NOT NULL,
  detector_id  TEXT    NOT NULL,
  severity     TEXT    NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash   TEXT    NOT NULL,
  tx_hash      TEXT,
  contract     TEXT,
  finding      TEXT    NOT NULL,
  seen_at      INTEGER NOT NULL,
  retracted_at INTEGER,
  delivered    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS guardian_findings_block ON guardian_findings (chain_id, block_number);
CREATE INDEX IF NOT EXISTS guardian_findings_undelivered ON guardian_findings (delivered) WHERE delivered = 0;
CREATE TABLE IF NOT EXISTS guardian_retractions (
  finding_id    TEXT    NOT NULL REFERENCES guardian_findings (id),
  chain_id      INTEGER NOT NULL,
  reorg_depth   INTEGER NOT NULL,
  ancestor_hash TEXT    NOT NULL,
  retracted_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS guardian_detector_state (
  chain_id     INTEGER NOT NULL,
  detector_key TEXT    NOT NULL,
  state        TEXT    NOT NULL,
  PRIMARY KEY (chain_id, detector_key)
);
CREATE TABLE IF NOT EXISTS guardian_detector_entries (
  chain_id     INTEGER NOT NULL,
  detector_key TEXT    NOT NULL,
  entry_key    TEXT    NOT NULL,
  value        TEXT    NOT NULL,
  PRIMARY KEY (chain_id, detector_key, entry_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  chain_id INTEGER NOT NULL,
  breaker TEXT NOT NULL,
  status TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_breaker_status ON incidents(chain_id, breaker, status);
CREATE TABLE IF NOT EXISTS alert_messages (
  id TEXT PRIMARY KEY,
  incident_key TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_messages_incident ON alert_messages(incident_key);
CREATE TABLE IF NOT EXISTS alert_findings (
  alert_id TEXT NOT NULL REFERENCES alert_messages(id),
  finding_id TEXT NOT NULL,
  retracted_by TEXT,
  PRIMARY KEY (alert_id, finding_id)
);
CREATE INDEX IF NOT EXISTS alert_findings_finding ON alert_findings(finding_id);
CREATE TABLE IF NOT EXISTS alert_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT NOT NULL REFERENCES alert_messages(id),
  notifier TEXT NOT NULL,
  recipient TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at INTEGER NOT NULL,
  claimed_by TEXT,
  claim_expires_at INTEGER,
  UNIQUE (alert_id, notifier, recipient)
);
CREATE INDEX IF NOT EXISTS alert_deliveries_status ON alert_deliveries(status);
CREATE TABLE IF NOT EXISTS alert_attempts (
  delivery_id INTEGER NOT NULL REFERENCES alert_deliveries(id),
  attempt INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  ok INTEGER NOT NULL DEFAULT 0,
  retryable INTEGER,
  error TEXT,
  PRIMARY KEY (delivery_id, attempt)
);
`;

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  { version: 1, name: "guardian state, incidents, alert log", up: (db) => db.exec(V1) },
  {
    version: 2,
    name: "trip decisions apart from incidents; delivery claims",
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS trip_decisions (
          id TEXT PRIMARY KEY,
          chain_id INTEGER NOT NULL,
          breaker TEXT NOT NULL,
          status TEXT NOT NULL,
          decided_at TEXT NOT NULL,
          record TEXT NOT NULL
        );
        INSERT OR REPLACE INTO trip_decisions (id, chain_id, breaker, status, decided_at, record)
          SELECT id, chain_id, breaker, status, opened_at, record FROM incidents WHERE status IN ('dry-run', 'already-tripped');
        DELETE FROM incidents WHERE status IN ('dry-run', 'already-tripped');
      `);
      // A delivery is claimed before it is sent (several guardians on one store; a restart takes its own back).
      const columns = new Set((db.prepare("PRAGMA table_info(alert_deliveries)").all() as { name: string }[]).map((c) => c.name));
      if (!columns.has("claimed_by")) db.exec("ALTER TABLE alert_deliveries ADD COLUMN claimed_by TEXT; ALTER TABLE alert_deliveries ADD COLUMN claim_expires_at INTEGER;");
    },
  },
];

export const SQLITE_LATEST_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;

/** Handles already brought to the latest version in this process: the stores of one file ask once. */
const migrated = new WeakSet<Db>();

export class SqliteSchemaError extends Error {
  override name = "SqliteSchemaError";
}

/** The schema version of the file (0: never migrated, i.e. a new file or one written before versions). */
export function sqliteSchemaVersion(db: Db): number {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (!table) return 0;
  return Number((db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null }).v ?? 0);
}

/**
 * Brings the file to the latest schema; returns the versions applied now. Under SQLite's write lock (BEGIN
 * IMMEDIATE), so two processes opening one file migrate it once. Refuses a file migrated by a newer build.
 */
export function migrateSqlite(db: Db): number[] {
  if (migrated.has(db)) return [];
  const applied = db
    .transaction(() => {
      db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
      const current = sqliteSchemaVersion(db);
      if (current > SQLITE_LATEST_VERSION) {
        throw new SqliteSchemaError(`the store ${db.name} has schema version ${current}, newer than this guardian's ${SQLITE_LATEST_VERSION}: upgrade this guardian`);
      }
      const done: number[] = [];
      for (const m of SQLITE_MIGRATIONS) {
        if (m.version <= current) continue;
        m.up(db);
        db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, new Date().toISOString());
        done.push(m.version);
      }
      return done;
    })
    .immediate();
  migrated.add(db);
  return applied;
}
