import { existsSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "pino";
import { loadConfig, type LoadedConfig } from "../config/load-config";
import { checkChainId, createRpcClient } from "../guardian";
import { createLogger } from "../ops/logger";
import { GuardianMetrics } from "../ops/metrics";
import { IncidentRecorder, type IncidentRecord } from "../reports/incident-record";
import type { GovernorReportDeps } from "../reports/governor-report";
import { RpcClientProvider } from "../responders/rpc-provider";
import type { Db } from "../state/database";
import { IncidentStore } from "../state/incident-store";
import type { StoreConfig } from "../config/schema";
import { openStores, type Stores } from "../state/open-stores";
import { schemaVersion } from "../state/postgres/migrations";
import { PgDatabase } from "../state/postgres/pool";
import type { IncidentRecordStore } from "../state/store";
import { UsageError } from "./usage-error";

/** The incidents of a config's store, and what the governance commands need around them. */
export interface IncidentContext {
  loaded: LoadedConfig;
  db: Db;
  logger: Logger;
  recorder: IncidentRecorder;
  /** The incident named by a full id or a unique prefix of it. */
  resolve(idOrPrefix: string, option?: string): Promise<IncidentRecord>;
  /** A provider for the chain, checked to serve that chain id. */
  provider(chainId: number): Promise<RpcClientProvider>;
  /** Everything the governor report reads, for one incident. */
  reportDeps(record: IncidentRecord): Promise<GovernorReportDeps>;
  /** The PostgreSQL stores when the config shares one (alerts of governance actions go to its log). */
  stores?: Stores;
  close(): Promise<void>;
}

/**
 * Opens the guardian's store only if it is there: the commands that read incidents (and governance, which
 * adds to incidents the guardian opened) must never create one, or a mistyped store.path would make an
 * empty database and answer "no incidents".
 */
export function openExistingStore(file: string, configFile: string): Db {
  const resolved = path.resolve(file);
  if (file === ":memory:") throw new UsageError(`${configFile}: store.path is ":memory:": there is no guardian store to read incidents from`);
  if (!existsSync(resolved)) {
    throw new UsageError(`${configFile}: store.path ${resolved} does not exist: no guardian has run with this store (is the path mistyped?)`);
  }
  if (!statSync(resolved).isFile()) throw new UsageError(`${configFile}: store.path ${resolved} is not a file`);
  try {
    const db = new Database(resolved, { fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    return db;
  } catch (err) {
    throw new UsageError(`${configFile}: store.path ${resolved} cannot be opened as a guardian store: ${(err as Error).message}`);
  }
}

/**
 * The PostgreSQL store several guardians share, for the commands that read and add to its incidents: it must exist
 * and have been migrated by a guardian (or `failsafe store migrate`); these commands never create one.
 */
async function openSharedStore(config: StoreConfig & { backend: "postgres" }, configFile: string): Promise<Stores> {
  const pg = new PgDatabase(config.postgres.url, { max: 2, applicationName: "failsafe-cli" });
  let version: number;
  try {
    version = await schemaVersion(pg);
  } catch (err) {
    await pg.close().catch(() => undefined);
    throw new UsageError(`${configFile}: store.postgres ${pg.where} cannot be read: ${(err as Error).message}`);
  }
  await pg.close();
  if (version === 0) throw new UsageError(`${configFile}: store.postgres ${pg.where} holds no guardian store (never migrated): no guardian has run with it`);
  // In-memory SQLite stands in for the local file the PostgreSQL stores do not use.
  return openStores(config, new Database(":memory:"));
}

export async function openIncidents(configFile: string): Promise<IncidentContext> {
  const loaded = loadConfig(configFile);
  const { config } = loaded;
  const shared = config.store.backend === "postgres" ? await openSharedStore(config.store, loaded.file) : undefined;
  const db = shared ? new Database(":memory:") : openExistingStore(config.store.path, loaded.file);
  const { logger, flush } = createLogger({ level: config.logging.level === "info" ? "warn" : config.logging.level, destination: "stderr" });
  const metrics = new GuardianMetrics({ defaultMetrics: false });
  const clients = new Map<number, { rpc: ReturnType<typeof createRpcClient>; provider: RpcClientProvider }>();
  const ready = new Map<number, Promise<RpcClientProvider>>();

  const breakerEntry = (chainId: number, breaker: string) => {
    for (const entry of config.policy.breakers) {
      const contract = config.contracts.find((c) => c.name === entry.contract);
      if (contract && contract.chain === chainId && (entry.breaker ?? contract.address) === breaker.toLowerCase()) return { entry, contract };
    }
    return undefined;
  };
  const chainOf = (chainId: number) => {
    const chain = config.chains.find((c) => c.id === chainId);
    if (!chain) throw new UsageError(`${loaded.file}: the incident is on chain ${chainId}, which is not in chains`);
    return chain;
  };
  const connect = (chainId: number) => {
    let c = clients.get(chainId);
    if (!c) {
      const rpc = createRpcClient(chainOf(chainId), { logger, metrics });
      c = { rpc, provider: new RpcClientProvider(rpc) };
      clients.set(chainId, c);
    }
    return c;
  };
  const provider = (chainId: number): Promise<RpcClientProvider> => {
    let p = ready.get(chainId);
    if (!p) {
      const { rpc, provider: connected } = connect(chainId);
      p = checkChainId(rpc, chainOf(chainId)).then(() => connected);
      ready.set(chainId, p);
    }
    return p;
  };

  let store: IncidentRecordStore;
  try {
    store = shared ? shared.incidents : new IncidentStore(db);
  } catch (err) {
    db.close();
    flush();
    throw new UsageError(`${loaded.file}: store.path ${path.resolve(config.store.path)} is not a guardian store: ${(err as Error).message}`);
  }
  const recorder = new IncidentRecorder({
    store,
    dir: path.resolve(config.policy.incidentReports),
    logger,
    provider: (chainId) => (config.chains.some((c) => c.id === chainId) ? connect(chainId).provider : undefined),
    breakerInfo: (chainId, breaker) => {
      const found = breakerEntry(chainId, breaker);
      return found ? { name: found.contract.name, ...(found.entry.timelock ? { timelock: found.entry.timelock } : {}) } : {};
    },
    ratifyForSeconds: config.governance.ratifyForSeconds,
  });

  return {
    loaded,
    db,
    logger,
    recorder,
    async resolve(idOrPrefix, option = "<id>") {
      const wanted = idOrPrefix.toLowerCase().replace(/^0x/, "");
      if (!/^[0-9a-f]{4,64}$/.test(wanted)) throw new UsageError(`${option}: expected an incident id (0x + 64 hex digits, or a prefix of at least 4), got "${idOrPrefix}"`);
      const all = await recorder.list();
      const matches = all.filter((r) => r.id.toLowerCase().slice(2).startsWith(wanted));
      if (matches.length === 1) return matches[0];
      if (matches.length === 0) {
        throw new UsageError(`${option}: no incident ${idOrPrefix} in ${shared ? shared.where : config.store.path} (${all.length} incident${all.length === 1 ? "" : "s"}; see failsafe incident list)`);
      }
      throw new UsageError(`${option}: ${idOrPrefix} matches ${matches.length} incidents (${matches.map((r) => r.id.slice(0, 14)).join(", ")}); give more of the id`);
    },
    provider,
    async reportDeps(record) {
      const found = breakerEntry(record.chainId, record.breaker);
      return {
        provider: await provider(record.chainId),
        ...(found?.entry.timelock ? { timelock: found.entry.timelock } : {}),
        ...(found && found.contract.address !== record.breaker ? { contract: { address: found.contract.address, name: found.contract.name } } : {}),
        ...(config.alerts.explorers[String(record.chainId)] ? { explorerUrl: config.alerts.explorers[String(record.chainId)] } : {}),
        governance: config.governance,
        configFile: loaded.file,
      };
    },
    ...(shared ? { stores: shared } : {}),
    async close() {
      for (const c of clients.values()) c.provider.destroy();
      db.close();
      await shared?.close();
      flush();
    },
  };
}
