import type { Command } from "commander";
import { loadConfig } from "../config/load-config";
import { LATEST_VERSION, migrate, schemaVersion } from "../state/postgres/migrations";
import { PgDatabase } from "../state/postgres/pool";
import { configOption } from "./config-option";

export function register(program: Command): void {
  const store = program.command("store").description("the guardian's store: schema migrations of the PostgreSQL backend");
  store
    .command("migrate")
    .description("bring the configured PostgreSQL store to this build's schema (guard also does it on start); a SQLite store migrates itself when opened")
    .addOption(configOption("guardian YAML config"))
    .action(async (o: { config: string }) => {
      const { config } = loadConfig(o.config);
      if (config.store.backend !== "postgres") {
        process.stdout.write(`store ${config.store.path} is SQLite: its tables are created and upgraded when the guardian opens it; nothing to do\n`);
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
}
