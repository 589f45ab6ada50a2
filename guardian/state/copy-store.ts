import type { Db } from "./database";
import { migrate } from "./postgres/migrations";
import type { PgDatabase } from "./postgres/pool";

/**
 * Every table of the guardian's store, parents before children: the two backends share table and column names, so a
 * single guardian's SQLite file moves to a shared PostgreSQL store row for row (the ledger's index stays local).
 */
export const COPIED_TABLES = [
  "guardian_chain_identity",
  "guardian_cursor",
  "guardian_blocks",
  "guardian_findings",
  "guardian_retractions",
  "guardian_detector_state",
  "guardian_detector_entries",
  "incidents",
  "trip_decisions",
  "alert_messages",
  "alert_findings",
  "alert_deliveries",
  "alert_attempts",
] as const;

/** Serial columns PostgreSQL numbers itself: moved past the copied ids, so the next row never collides. */
const SERIALS: [table: string, column: string][] = [
  ["alert_messages", "seq"],
  ["alert_deliveries", "id"],
];

export class StoreCopyError extends Error {
  override name = "StoreCopyError";
}

/**
 * Copies a SQLite store into an empty PostgreSQL store (migrated first), in one transaction: either every row is
 * there and the counts match, or nothing is. Refuses a target that already holds a cursor or incidents, so a copy
 * never merges into a store other guardians are using. Returns the rows copied per table.
 */
export async function copySqliteToPostgres(sqlite: Db, pg: PgDatabase): Promise<Map<string, number>> {
  await migrate(pg);
  const copied = new Map<string, number>();
  await pg.transaction(async (tx) => {
    const { rows: used } = await tx.query<{ n: string }>("SELECT (SELECT count(*) FROM guardian_cursor) + (SELECT count(*) FROM incidents) + (SELECT count(*) FROM alert_messages) AS n");
    if (Number(used[0].n) > 0) throw new StoreCopyError(`the PostgreSQL store ${pg.where} is not empty (it has a cursor, incidents or alerts): copy into a new database`);
    for (const table of COPIED_TABLES) {
      const exists = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      if (!exists) {
        copied.set(table, 0);
        continue;
      }
      const sqliteColumns = new Set((sqlite.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
      const { rows: pgColumns } = await tx.query<{ column_name: string; data_type: string }>(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        [table],
      );
      const columns = pgColumns.filter((c) => sqliteColumns.has(c.column_name));
      const booleans = new Set(columns.filter((c) => c.data_type === "boolean").map((c) => c.column_name));
      const rows = sqlite.prepare(`SELECT ${columns.map((c) => `"${c.column_name}"`).join(", ")} FROM ${table}`).raw().all() as unknown[][];
      const batch = Math.max(1, Math.floor(30_000 / Math.max(1, columns.length)));
      for (let i = 0; i < rows.length; i += batch) {
        const chunk = rows.slice(i, i + batch);
        const values: unknown[] = [];
        const tuples = chunk.map((row) => {
          const cells = row.map((v, j) => {
            values.push(booleans.has(columns[j].column_name) && v !== null ? Boolean(v) : typeof v === "bigint" ? v.toString() : v);
            return `$${values.length}`;
          });
          return `(${cells.join(", ")})`;
        });
        await tx.query(`INSERT INTO ${table} (${columns.map((c) => `"${c.column_name}"`).join(", ")}) VALUES ${tuples.join(", ")}`, values);
      }
      const { rows: counted } = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      if (Number(counted[0].n) !== rows.length) throw new StoreCopyError(`${table}: copied ${rows.length} rows but PostgreSQL holds ${counted[0].n}`);
      copied.set(table, rows.length);
    }
    for (const [table, column] of SERIALS) {
      await tx.query(`SELECT setval(pg_get_serial_sequence('${table}', '${column}'), GREATEST((SELECT max(${column}) FROM ${table}), 1), (SELECT count(*) FROM ${table}) > 0)`);
    }
  });
  return copied;
}
