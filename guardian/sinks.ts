import type { Logger } from "pino";
import type { FindingSink } from "./decisions/types";
import type { LoadedConfig } from "./config/load-config";
import type { Db } from "./state/database";
import type { Stores } from "./state/open-stores";
import type { GuardianMetrics } from "./ops/metrics";
import { logFindingSink } from "./ops/log-sink";
import { createDecisionSinks } from "./decisions/create-decision-sinks";
import { createAlertSinks } from "./notifiers/create-alert-sinks";
import { AlertDispatcher } from "./notifiers/dispatcher";
import { DecisionSink } from "./decisions/decision-sink";

/** What a sink factory may use; each stage creates its own tables on `db`. */
export interface SinkDeps {
  loaded: LoadedConfig;
  db: Db;
  /** The configured stores (PostgreSQL or SQLite); without them, each stage uses SQLite on `db`. */
  stores?: Stores;
  logger: Logger;
  metrics: GuardianMetrics;
}

export type SinkFactory = (deps: SinkDeps) => FindingSink[] | Promise<FindingSink[]>;

/**
 * The sinks `failsafe guard` feeds, in order: the trip path (decision policy -> responders) first, then
 * alerts and reports, the log last. Each stage adds one line above the log sink.
 */
export const sinkFactories: SinkFactory[] = [
  createDecisionSinks,
  createAlertSinks,
  ({ logger }) => [logFindingSink(logger.child({ stage: "findings" }))],
];

export async function createSinks(deps: SinkDeps): Promise<FindingSink[]> {
  const sinks: FindingSink[] = [];
  for (const factory of sinkFactories) sinks.push(...(await factory(deps)));
  // Trips the decision sink lands are announced at inclusion, without waiting for failsafe-watch to see them.
  const alerts = sinks.find((s): s is AlertDispatcher => s instanceof AlertDispatcher);
  if (alerts) for (const s of sinks) if (s instanceof DecisionSink) s.announceTripsTo(alerts);
  return sinks;
}
