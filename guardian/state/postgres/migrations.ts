import type { PgDatabase } from "./pool";

/**
 * The PostgreSQL store's schema, as numbered migrations applied in order, each in its own transaction and recorded
 * in schema_migrations. Guardians starting together take an advisory lock first, so one migrates and the others
 * find the work done. A migration, once released, is never edited: a change is a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "guardian state, incidents, alert log",
    sql: `
      CREATE TABLE guardian_chain_identity (
        chain_id     BIGINT PRIMARY KEY,
        genesis_hash TEXT   NOT NULL,
        bound_at     BIGINT NOT NULL
      );
      CREATE TABLE guardian_cursor (
        chain_id   BIGINT PRIMARY KEY,
        number     BIGINT NOT NULL,
        hash       TEXT   NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE guardian_blocks (
        chain_id    BIGINT NOT NULL,
        number      BIGINT NOT NULL,
        hash        TEXT   NOT NULL,
        parent_hash TEXT   NOT NULL,
        timestamp   BIGINT NOT NULL,
        PRIMARY KEY (chain_id, number)
      );
      CREATE TABLE guardian_findings (
        id           TEXT PRIMARY KEY,
        chain_id     BIGINT  NOT NULL,
        detector_id  TEXT    NOT NULL,
        severity     TEXT    NOT NULL,
        block_number BIGINT  NOT NULL,
        block_hash   TEXT    NOT NULL,
        tx_hash      TEXT,
        contract     TEXT,
        finding      TEXT    NOT NULL,
        seen_at      BIGINT  NOT NULL,
        retracted_at BIGINT,
        delivered    BOOLEAN NOT NULL DEFAULT false
      );
      CREATE INDEX guardian_findings_block ON guardian_findings (chain_id, block_number);
      CREATE INDEX guardian_findings_undelivered ON guardian_findings (chain_id) WHERE NOT delivered;
      CREATE TABLE guardian_retractions (
        finding_id    TEXT   NOT NULL REFERENCES guardian_findings (id),
        chain_id      BIGINT NOT NULL,
        reorg_depth   INTEGER NOT NULL,
        ancestor_hash TEXT   NOT NULL,
        retracted_at  BIGINT NOT NULL
      );
      CREATE TABLE guardian_detector_state (
        chain_id     BIGINT NOT NULL,
        detector_key TEXT   NOT NULL,
        state        TEXT   NOT NULL,
        PRIMARY KEY (chain_id, detector_key)
      );
      CREATE TABLE guardian_detector_entries (
        chain_id     BIGINT NOT NULL,
        detector_key TEXT   NOT NULL,
        entry_key    TEXT   NOT NULL,
        value        TEXT   NOT NULL,
        PRIMARY KEY (chain_id, detector_key, entry_key)
      );
      CREATE TABLE incidents (
        id         TEXT PRIMARY KEY,
        chain_id   BIGINT NOT NULL,
        breaker    TEXT   NOT NULL,
        status     TEXT   NOT NULL,
        opened_at  TEXT   NOT NULL,
        updated_at TEXT   NOT NULL,
        record     TEXT   NOT NULL
      );
      CREATE INDEX incidents_breaker_status ON incidents (chain_id, breaker, status);
      CREATE TABLE alert_messages (
        seq          BIGSERIAL UNIQUE,
        id           TEXT PRIMARY KEY,
        incident_key TEXT   NOT NULL,
        kind         TEXT   NOT NULL,
        incident_id  TEXT,
        severity     TEXT   NOT NULL,
        message      TEXT   NOT NULL,
        created_at   BIGINT NOT NULL
      );
      CREATE INDEX alert_messages_incident ON alert_messages (incident_key);
      CREATE INDEX alert_messages_incident_id ON alert_messages (kind, incident_id);
      CREATE TABLE alert_findings (
        alert_id     TEXT NOT NULL REFERENCES alert_messages (id),
        finding_id   TEXT NOT NULL,
        retracted_by TEXT,
        PRIMARY KEY (alert_id, finding_id)
      );
      CREATE INDEX alert_findings_finding ON alert_findings (finding_id);
      CREATE TABLE alert_deliveries (
        id               BIGSERIAL PRIMARY KEY,
        alert_id         TEXT    NOT NULL REFERENCES alert_messages (id),
        notifier         TEXT    NOT NULL,
        recipient        TEXT    NOT NULL,
        status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_error       TEXT,
        updated_at       BIGINT  NOT NULL,
        claimed_by       TEXT,
        claim_expires_at BIGINT,
        UNIQUE (alert_id, notifier, recipient)
      );
      CREATE INDEX alert_deliveries_pending ON alert_deliveries (id) WHERE status = 'pending';
      CREATE TABLE alert_attempts (
        delivery_id BIGINT  NOT NULL REFERENCES alert_deliveries (id),
        attempt     INTEGER NOT NULL,
        started_at  BIGINT  NOT NULL,
        finished_at BIGINT,
        ok          BOOLEAN NOT NULL DEFAULT false,
        retryable   BOOLEAN,
        error       TEXT,
        PRIMARY KEY (delivery_id, attempt)
      );
    `,
  },
  {
    version: 2,
    name: "trip decisions apart from incidents; leader leases",
    sql: `
      CREATE TABLE trip_decisions (
        id         TEXT PRIMARY KEY,
        chain_id   BIGINT NOT NULL,
        breaker    TEXT   NOT NULL,
        status     TEXT   NOT NULL,
        decided_at TEXT   NOT NULL,
        record     TEXT   NOT NULL
      );
      INSERT INTO trip_decisions (id, chain_id, breaker, status, decided_at, record)
        SELECT id, chain_id, breaker, status, opened_at, record FROM incidents WHERE status IN ('dry-run', 'already-tripped');
      DELETE FROM incidents WHERE status IN ('dry-run', 'already-tripped');
      CREATE TABLE IF NOT EXISTS failsafe_leases (
        scope      TEXT PRIMARY KEY,
        holder     TEXT NOT NULL,
        token      BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        renewed_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
];

/** The newest schema version this build knows. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Any number will do, as long as no other application on the database takes the same advisory lock. */
const MIGRATION_LOCK = 0x46_53_4d_47; // "FSMG"

/**
 * Brings the database to the latest schema; returns the versions applied now (empty when it was up to date).
 * Refuses a database migrated by a newer build: its schema is not one this build knows how to use.
 */
export async function migrate(db: PgDatabase): Promise<number[]> {
  const client = await db.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
      );
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
      const done = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...done);
      if (newest > LATEST_VERSION) {
        throw new Error(`the PostgreSQL store ${db.where} has schema version ${newest}, newer than this guardian's ${LATEST_VERSION}: upgrade this guardian`);
      }
      const applied: number[] = [];
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw new Error(`migration ${m.version} (${m.name}) failed on ${db.where}: ${(err as Error).message}`);
        }
        applied.push(m.version);
      }
      return applied;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** The schema version the database is at (0: never migrated). */
export async function schemaVersion(db: PgDatabase): Promise<number> {
  const { rows: exists } = await db.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (!exists[0]?.t) return 0;
  const { rows } = await db.query<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations");
  return Number(rows[0]?.v ?? 0);
}
