import os from "node:os";
import { randomBytes } from "node:crypto";
import type { StoreConfig } from "../config/schema";
import { AlertStore } from "./alert-store";
import type { Db } from "./database";
import { GuardianStore } from "./guardian-store";
import { IncidentStore } from "./incident-store";
import { PgAlertStore } from "./postgres/alert-store";
import { PgGuardianStore } from "./postgres/guardian-store";
import { PgIncidentStore } from "./postgres/incident-store";
import { migrate } from "./postgres/migrations";
import { PgDatabase } from "./postgres/pool";
import type { AlertLogStore, GuardianStateStore, IncidentRecordStore } from "./store";

/** The guardian's stores on the configured backend. */
export interface Stores {
  backend: StoreConfig["backend"];
  /** Where, for logs: the SQLite file, or host:port/database (never a password). */
  where: string;
  guardian: GuardianStateStore;
  incidents: IncidentRecordStore;
  alerts: AlertLogStore;
  /** Several guardians may share it: alert deliveries are swept for dead claimants. */
  shared: boolean;
  /** Who this process is when it claims alert deliveries (and, later, leases). */
  claimant: string;
  /** The PostgreSQL connection, when that is the backend. */
  postgres?: PgDatabase;
  close(): Promise<void>;
}

/**
 * Opens the configured backend. SQLite: the stores on the local file `db` (already open). PostgreSQL: a pool,
 * migrated to the latest schema before anything reads it; `db` stays for what is not in PostgreSQL yet.
 */
export async function openStores(config: StoreConfig, db: Db): Promise<Stores> {
  if (config.backend === "sqlite") {
    return {
      backend: "sqlite",
      where: config.path,
      guardian: new GuardianStore(db),
      incidents: new IncidentStore(db),
      alerts: new AlertStore(db),
      shared: false,
      claimant: "local",
      async close() {},
    };
  }
  const pg = new PgDatabase(config.postgres.url, { max: config.postgres.poolSize });
  try {
    await migrate(pg);
  } catch (err) {
    await pg.close().catch(() => undefined);
    throw new Error(`store.postgres (${pg.where}): ${(err as Error).message}`);
  }
  return {
    backend: "postgres",
    where: pg.where,
    guardian: new PgGuardianStore(pg),
    incidents: new PgIncidentStore(pg),
    alerts: new PgAlertStore(pg),
    shared: true,
    claimant: `${os.hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`,
    postgres: pg,
    close: () => pg.close(),
  };
}
