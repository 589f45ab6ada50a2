import type { Command } from "commander";
import { loadConfig } from "../config/load-config";
import { LATEST_VERSION, migrate, schemaVersion } from "../state/postgres/migrations";
import { PgDatabase } from "../state/postgres/pool";
import { configOption } from "./config-option";
import { renderTable } from "../ops/table";
import { copySqliteToPostgres, StoreCopyError } from "../state/copy-store";
import { openExistingStore } from "./incident-context";
import { UsageError } from "./usage-error";
import { migrateSqlite, SQLITE_LATEST_VERSION, SqliteSchemaError, sqliteSchemaVersion } from "../state/sqlite-migrations";

export function register(program: Command): void {
  const store = program.command("store").description("the guardian's store: schema migrations of the PostgreSQL backend, and moving a SQLite store to it");
  store
    .command("migrate")
    .description("bring the configured store (PostgreSQL, or an existing SQLite file) to this build's schema; guard also does it on start")
    .addOption(configOption("guardian YAML config"))
    .action(async (o: { config: string }) => {
      const { config } = loadConfig(o.config);
      if (config.store.backend !== "postgres") {
        // The guardian migrates its file when it opens it; this does it ahead (a file nobody has created is not made).
        const db = openExistingStore(config.store.path, o.config);
        try {
          const before = sqliteSchemaVersion(db);
          const applied = migrateSqlite(db);
          process.stdout.write(
            applied.length === 0
              ? `store ${config.store.path}: schema version ${before}, up to date\n`
              : `store ${config.store.path}: schema version ${before} -> ${SQLITE_LATEST_VERSION} (applied ${applied.join(", ")})\n`,
          );
        } catch (err) {
          throw err instanceof SqliteSchemaError ? new UsageError(err.message) : err;
        } finally {
          db.close();
        }
        return;
      }
      const db = new PgDatabase(config.store.postgres.url, { max: 1, applicationName: "failsafe-store-migrate" });
      try {
        const before = await schemaVersion(db);
        const applied = await migrate(db);
        process.stdout.write(
          applied.length === 0
            ? `store ${db.where}: schema version ${before}, up to date\n`
            : `store ${db.where}: schema version ${before} -> ${LATEST_VERSION} (applied ${applied.join(", ")})\n`,
        );
      } finally {
        await db.close();
      }
    });
  store
    .command("copy")
    .description("copy a single guardian's SQLite store (cursor, findings, detector state, incidents, alert log) into a new, empty PostgreSQL store, in one transaction")
    .requiredOption("--from <sqlite:path>", "the SQLite store to copy, e.g. sqlite:.failsafe/guardian.sqlite (read only)")
    .requiredOption("--to <postgres:ENV_NAME>", "the environment variable that holds the PostgreSQL URL, e.g. postgres:FAILSAFE_POSTGRES_URL")
    .action(async (o: { from: string; to: string }) => {
      const from = /^sqlite:(.+)$/.exec(o.from)?.[1];
      if (!from) throw new UsageError(`--from: expected sqlite:<path>, got "${o.from}"`);
      if (/^postgres(ql)?:\/\//i.test(o.to)) throw new UsageError("--to: give the name of an environment variable that holds the URL (postgres:NAME), not the URL itself: it may hold a password, and command lines are visible to every user of the machine");
      const name = /^postgres:([A-Za-z_][A-Za-z0-9_]*)$/.exec(o.to)?.[1];
      if (!name) throw new UsageError(`--to: expected postgres:<ENV_NAME>, got "${o.to}"`);
      const url = process.env[name];
      if (!url) throw new UsageError(`--to: the environment variable ${name} is not set`);
      const sqlite = openExistingStore(from, "--from");
      const pg = new PgDatabase(url, { max: 1, applicationName: "failsafe-store-copy" });
      try {
        const copied = await copySqliteToPostgres(sqlite, pg).catch((err: unknown) => {
          throw err instanceof StoreCopyError ? new UsageError(`--to: ${err.message}`) : err;
        });
        process.stdout.write(renderTable(["TABLE", "ROWS"], [...copied].map(([t, n]) => [t, String(n)]), { right: [1], rule: true }));
        process.stdout.write(`copied ${from} into ${pg.where}; point the guardians' store.postgres at it and start them\n`);
      } finally {
        sqlite.close();
        await pg.close();
      }
    });
}
