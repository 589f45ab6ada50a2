import type { IncidentRecord } from "../../reports/incident-record";
import type { IncidentRecordStore } from "../store";
import type { PgDatabase, Queryable } from "./pool";

/**
 * Incidents on PostgreSQL. An incident id is opened once across every guardian sharing the database (INSERT ...
 * ON CONFLICT DO NOTHING); updates read the row FOR UPDATE, so two guardians' changes to one incident serialise.
 * Within this process the writes also run one at a time, so `onSaved` (the report files) follows the commit order.
 */
export class PgIncidentStore implements IncidentRecordStore {
  #tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: PgDatabase) {}

  async get(id: string): Promise<IncidentRecord | undefined> {
    const { rows } = await this.db.query<{ record: string }>("SELECT record FROM incidents WHERE id = $1", [id]);
    return rows[0] ? (JSON.parse(rows[0].record) as IncidentRecord) : undefined;
  }

  async list(): Promise<IncidentRecord[]> {
    const { rows } = await this.db.query<{ record: string }>("SELECT record FROM incidents ORDER BY opened_at, id");
    return rows.map((r) => JSON.parse(r.record) as IncidentRecord);
  }

  async save(record: IncidentRecord): Promise<void> {
    await this.#serial(() => upsert(this.db, record, true));
  }

  insert(record: IncidentRecord, onSaved?: (record: IncidentRecord) => void): Promise<boolean> {
    return this.#serial(async () => {
      const inserted = await upsert(this.db, record, false);
      if (inserted) onSaved?.(record);
      return inserted;
    });
  }

  update(id: string, change: (record: IncidentRecord) => boolean | void, onSaved?: (record: IncidentRecord) => void): Promise<IncidentRecord | undefined> {
    return this.#serial(async () => {
      const updated = await this.db.transaction(async (tx) => {
        const { rows } = await tx.query<{ record: string }>("SELECT record FROM incidents WHERE id = $1 FOR UPDATE", [id]);
        if (!rows[0]) throw new Error(`no incident ${id}`);
        const record = JSON.parse(rows[0].record) as IncidentRecord;
        if (change(record) === false) return undefined;
        await upsert(tx, record, true);
        return record;
      });
      if (updated) onSaved?.(updated);
      return updated;
    });
  }

  async saveDecision(record: IncidentRecord): Promise<void> {
    await this.#serial(() =>
      this.db.transaction(async (tx) => {
        await tx.query("DELETE FROM incidents WHERE id = $1", [record.id]);
        await tx.query(
          `INSERT INTO trip_decisions (id, chain_id, breaker, status, decided_at, record) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record`,
          [record.id, record.chainId, record.breaker, record.status, record.openedAt, JSON.stringify(record)],
        );
      }),
    );
  }

  async decision(id: string): Promise<IncidentRecord | undefined> {
    const { rows } = await this.db.query<{ record: string }>("SELECT record FROM trip_decisions WHERE id = $1", [id]);
    return rows[0] ? (JSON.parse(rows[0].record) as IncidentRecord) : undefined;
  }

  async decisions(): Promise<IncidentRecord[]> {
    const { rows } = await this.db.query<{ record: string }>("SELECT record FROM trip_decisions ORDER BY decided_at, id");
    return rows.map((r) => JSON.parse(r.record) as IncidentRecord);
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(run);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

async function upsert(db: Queryable, record: IncidentRecord, replace: boolean): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO incidents (id, chain_id, breaker, status, opened_at, updated_at, record) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO ${replace ? "UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, record = EXCLUDED.record" : "NOTHING"}`,
    [record.id, record.chainId, record.breaker, record.status, record.openedAt, record.updatedAt, JSON.stringify(record)],
  );
  return rowCount === 1;
}
