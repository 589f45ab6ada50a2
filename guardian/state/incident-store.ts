import type BetterSqlite3 from "better-sqlite3";
import type { IncidentRecord } from "../reports/incident-record";
import type { IncidentRecordStore } from "./store";
import { migrateSqlite } from "./sqlite-migrations";

/**
 * Incidents on the guardian's SQLite database: one row per incident, the whole record as JSON beside the
 * columns reviews query by (chain, breaker, status). The JSON and Markdown files under the reports folder are
 * rendered from these rows, so a restart never loses an incident that was opened.
 *
 * A trip decision that tripped nothing (a dry run, or a breaker another incident had already tripped) is not an
 * incident: governors have nothing to lift or ratify for it. It is kept apart in `trip_decisions`, for the operator
 * rehearsing a policy and for the audit trail, and never shown where incidents are.
 */
export class IncidentStore implements IncidentRecordStore {
  readonly #upsert: BetterSqlite3.Statement;
  readonly #get: BetterSqlite3.Statement;
  readonly #list: BetterSqlite3.Statement;
  readonly #db: BetterSqlite3.Database;
  readonly #settle: BetterSqlite3.Statement;
  readonly #dropIncident: BetterSqlite3.Statement;
  readonly #getDecision: BetterSqlite3.Statement;
  readonly #listDecisions: BetterSqlite3.Statement;

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    migrateSqlite(db);
    this.#upsert = db.prepare(`
      INSERT INTO incidents (id, chain_id, breaker, status, opened_at, updated_at, record)
      VALUES (@id, @chainId, @breaker, @status, @openedAt, @updatedAt, @record)
      ON CONFLICT(id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, record = excluded.record
    `);
    this.#get = db.prepare("SELECT record FROM incidents WHERE id = ?");
    this.#list = db.prepare("SELECT record FROM incidents ORDER BY opened_at");
    this.#settle = db.prepare(`
      INSERT OR REPLACE INTO trip_decisions (id, chain_id, breaker, status, decided_at, record)
      VALUES (@id, @chainId, @breaker, @status, @openedAt, @record)
    `);
    this.#dropIncident = db.prepare("DELETE FROM incidents WHERE id = ?");
    this.#getDecision = db.prepare("SELECT record FROM trip_decisions WHERE id = ?");
    this.#listDecisions = db.prepare("SELECT record FROM trip_decisions ORDER BY decided_at");
  }

  async get(id: string): Promise<IncidentRecord | undefined> {
    return this.#read(id);
  }

  async list(): Promise<IncidentRecord[]> {
    return this.listNow();
  }

  /** The same as list(), synchronously: for tools that hold the SQLite file themselves (the scenario lab). */
  listNow(): IncidentRecord[] {
    return (this.#list.all() as { record: string }[]).map((r) => JSON.parse(r.record) as IncidentRecord);
  }

  async save(record: IncidentRecord): Promise<void> {
    this.#write(record);
  }

  /**
   * Under SQLite's write lock (BEGIN IMMEDIATE): the guardian and `failsafe governance` share the file. `onSaved`
   * runs inside the transaction, so the report files follow the order of the commits.
   */
  async insert(record: IncidentRecord, onSaved?: (record: IncidentRecord) => void): Promise<boolean> {
    return this.#db
      .transaction(() => {
        if (this.#read(record.id)) return false;
        this.#write(record);
        onSaved?.(record);
        return true;
      })
      .immediate();
  }

  /** A read-modify-write under SQLite's write lock, so it never interleaves with another process's. */
  async update(id: string, change: (record: IncidentRecord) => boolean | void, onSaved?: (record: IncidentRecord) => void): Promise<IncidentRecord | undefined> {
    return this.#db
      .transaction(() => {
        const record = this.#read(id);
        if (!record) throw new Error(`no incident ${id}`);
        if (change(record) === false) return undefined;
        this.#write(record);
        onSaved?.(record);
        return record;
      })
      .immediate();
  }

  #read(id: string): IncidentRecord | undefined {
    const row = this.#get.get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as IncidentRecord) : undefined;
  }

  #write(record: IncidentRecord): void {
    this.#upsert.run({
      id: record.id,
      chainId: record.chainId,
      breaker: record.breaker,
      status: record.status,
      openedAt: record.openedAt,
      updatedAt: record.updatedAt,
      record: JSON.stringify(record),
    });
  }
  /** Records a decision that tripped nothing, taking it out of the incidents if it was opened as one. */
  async saveDecision(record: IncidentRecord): Promise<void> {
    this.#db
      .transaction(() => {
        this.#dropIncident.run(record.id);
        this.#settle.run({ id: record.id, chainId: record.chainId, breaker: record.breaker, status: record.status, openedAt: record.openedAt, record: JSON.stringify(record) });
      })
      .immediate();
  }

  async decision(id: string): Promise<IncidentRecord | undefined> {
    const row = this.#getDecision.get(id) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as IncidentRecord) : undefined;
  }

  async decisions(): Promise<IncidentRecord[]> {
    return this.decisionsNow();
  }

  /** The same as decisions(), synchronously: for the scenario lab, which holds the SQLite file itself. */
  decisionsNow(): IncidentRecord[] {
    return (this.#listDecisions.all() as { record: string }[]).map((r) => JSON.parse(r.record) as IncidentRecord);
  }
}
