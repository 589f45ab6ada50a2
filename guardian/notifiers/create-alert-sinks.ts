import { ConfigError } from "../config/load-config";
import type { FindingSink } from "../decisions/types";
import type { SinkDeps } from "../sinks";
import { AlertStore } from "../state/alert-store";
import { AlertMetrics } from "./alert-metrics";
import { AlertConfigError } from "./alert-routes";
import { createNotifiers } from "./create-notifiers";
import { AlertDispatcher, type AlertDispatcherDeps } from "./dispatcher";
import { findingHumanizer } from "./human-units";
import { createRpcClient } from "../guardian";
import { RpcClientProvider } from "../responders/rpc-provider";

/**
 * The alert stage for `failsafe guard`: the config's notifiers, its `alerts` routes, and the alert log
 * on the guardian's database. Config mistakes surface as a ConfigError naming the file and path, so
 * the CLI prints them without a stack trace. No notifiers and no routes means no alert sink.
 */
export function createAlertSinks(
  { loaded, db, stores, logger, metrics }: SinkDeps,
  options: Pick<AlertDispatcherDeps, "resumePending" | "closeTimeoutMs"> = {},
): FindingSink[] {
  const { config } = loaded;
  if (Object.keys(config.notifiers).length === 0 && config.alerts.routes.length === 0) return [];
  try {
    const notifiers = createNotifiers(config.notifiers, { logger: logger.child({ stage: "notifiers" }) });
    const contracts = [...loaded.contracts.values()].flat().map((c) => ({ name: c.name, address: c.address }));
    const alertMetrics = new AlertMetrics(metrics.registry);
    // Token symbols and decimals for titles in human units, read through the chain's own RPC settings.
    const providers = new Map<number, RpcClientProvider>();
    const humanize = findingHumanizer((chainId) => {
      let p = providers.get(chainId);
      if (!p) {
        const chain = config.chains.find((c) => c.id === chainId);
        if (!chain) throw new Error(`no chain ${chainId}`);
        p = new RpcClientProvider(createRpcClient(chain, { logger, metrics }));
        providers.set(chainId, p);
      }
      return p;
    });
    // Guardians sharing a PostgreSQL store claim each delivery before sending it and take over those of a dead one.
    const claimMs = config.store.backend === "postgres" ? config.store.postgres.deliveryClaimMs : 60_000;
    const sharing = stores?.shared ? { claimant: stores.claimant, claimTtlMs: claimMs, sweepMs: Math.min(15_000, Math.max(250, Math.floor(claimMs / 4))) } : {};
    return [new AlertDispatcher(config.alerts, { store: stores?.alerts ?? new AlertStore(db), ...sharing, logger, notifiers, contracts, metrics: alertMetrics, humanize, ...options })];
  } catch (err) {
    if (err instanceof AlertConfigError) throw new ConfigError(loaded.file, err.issues);
    throw err;
  }
}
