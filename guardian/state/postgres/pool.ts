import { Pool, type PoolClient, type QueryResultRow } from "pg";

/** The part of a pg client the stores use: a pooled query, or one inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * The guardian's connection pool to its PostgreSQL store. The URL (which may hold a password) is never logged nor
 * put in an error: errors name the host and database only.
 */
export class PgDatabase {
  readonly pool: Pool;
  /** host:port/database, for messages. */
  readonly where: string;

  constructor(url: string, options: { max?: number; applicationName?: string } = {}) {
    this.where = describePostgresUrl(url);
    this.pool = new Pool({
      connectionString: url,
      max: options.max ?? 4,
      application_name: options.applicationName ?? "failsafe-guardian",
      // A database that does not answer must not hang a block commit forever: the chain loop retries it.
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client that loses its connection must not crash the process; the next query reconnects.
    this.pool.on("error", () => undefined);
  }

  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    return this.pool.query<R>(text, values);
  }

  /** Runs `fn` in one transaction (BEGIN ... COMMIT, ROLLBACK on any error) on one connection. */
  async transaction<T>(fn: (tx: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** `host:port/database` of a postgres URL: what messages may show (never the user's password). */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname || "/"}`;
  } catch {
    return "(unparseable postgres URL)";
  }
}

/** BIGINT columns come back as strings (pg does not narrow them): block numbers and times fit in a double. */
export function num(value: unknown): number {
  return typeof value === "number" ? value : Number(value);
}
