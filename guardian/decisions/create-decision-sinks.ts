import path from "node:path";
import type { Logger } from "pino";
import { CircuitBreaker__factory } from "../../typechain-types";
import type { RpcClient } from "../chain/types";
import { formatPath } from "../config/load-config";
import { createRpcClient } from "../guardian";
import { IncidentRecorder } from "../reports/incident-record";
import { findResponder } from "../responders/registry";
import { RpcClientProvider } from "../responders/rpc-provider";
import { isTripResponder, type TripResponder } from "../responders/types";
import type { SinkDeps } from "../sinks";
import { IncidentStore } from "../state/incident-store";
import { DecisionSink, type ResolvedBreaker } from "./decision-sink";
import { checkTrip, type TripCheck } from "./trip-check";
import { TripMetrics } from "./trip-metrics";
import type { FindingSink } from "./types";

/** A policy that refers to something the config does not have; the message names the config path. */
export class PolicyConfigError extends Error {
  constructor(file: string, at: (string | number)[], message: string) {
    super(`${file}: ${formatPath(at)}: ${message}`);
    this.name = "PolicyConfigError";
  }
}

export interface TripPath {
  breakers: ResolvedBreaker[];
  recorder: IncidentRecorder;
  /** Sets who hears that incident report files cannot be written. */
  onReportError(hook: (err: Error, files: string[]) => void): void;
  isTripped(chainId: number, breaker: string): Promise<boolean>;
  checkTrip(chainId: number, breaker: string, txHash: string): Promise<TripCheck>;
}

/**
 * Builds the trip path from the config: resolves `policy.breakers` against `contracts` and
 * `responders`, starts one responder instance per (responder, chain) (keys load and relays are checked
 * here, so a misconfiguration stops the guardian at startup), and opens the incident store.
 */
export async function createTripPath({ loaded, db, stores, logger, metrics }: SinkDeps): Promise<TripPath> {
  const { config, file } = loaded;
  const policy = config.policy;
  const log = logger.child({ stage: "decisions" });
  const rpcs = new Map<number, RpcClient>();
  const rpcFor = (chainId: number): RpcClient => {
    let rpc = rpcs.get(chainId);
    if (!rpc) {
      const chain = config.chains.find((c) => c.id === chainId);
      if (!chain) throw new Error(`no chain ${chainId}`);
      rpc = createRpcClient(chain, { logger, metrics });
      rpcs.set(chainId, rpc);
    }
    return rpc;
  };
  const providers = new Map<number, RpcClientProvider>();
  const providerFor = (chainId: number) => {
    let p = providers.get(chainId);
    if (!p) {
      p = new RpcClientProvider(rpcFor(chainId));
      providers.set(chainId, p);
    }
    return p;
  };

  const tripResponderNames = Object.entries(config.responders)
    .filter(([, r]) => findResponder(r.type) !== undefined)
    .map(([name]) => name);
  const instances = new Map<string, TripResponder>();
  const breakers: ResolvedBreaker[] = [];
  for (const [i, entry] of policy.breakers.entries()) {
    const at = ["policy", "breakers", i];
    const contract = config.contracts.find((c) => c.name === entry.contract);
    if (!contract) {
      throw new PolicyConfigError(file, [...at, "contract"], `no contract named "${entry.contract}" (known: ${config.contracts.map((c) => c.name).join(", ") || "none"})`);
    }
    const responderName = entry.responder ?? (tripResponderNames.length === 1 ? tripResponderNames[0] : undefined);
    if (!responderName) {
      throw new PolicyConfigError(file, [...at, "responder"], tripResponderNames.length === 0 ? "no responder is configured under responders" : `name one of: ${tripResponderNames.join(", ")}`);
    }
    const responderConfig = config.responders[responderName];
    if (!responderConfig) throw new PolicyConfigError(file, [...at, "responder"], `no responder named "${responderName}" (known: ${Object.keys(config.responders).join(", ") || "none"})`);
    const key = `${responderName}@${contract.chain}`;
    let responder = instances.get(key);
    if (!responder) {
      const def = findResponder(responderConfig.type);
      if (!def) throw new PolicyConfigError(file, ["responders", responderName, "type"], `unknown responder type "${responderConfig.type}"`);
      const { type: _type, ...params } = responderConfig;
      const created = def.create(responderName, def.params.parse(params), {
        chainId: contract.chain,
        rpc: rpcFor(contract.chain),
        logger,
        baseDir: path.dirname(path.resolve(file)),
      });
      if (!isTripResponder(created)) throw new PolicyConfigError(file, [...at, "responder"], `responder "${responderName}" (${responderConfig.type}) cannot trip breakers`);
      responder = created;
      instances.set(key, responder);
    }
    breakers.push({
      chainId: contract.chain,
      contract: contract.address,
      contractName: contract.name,
      breaker: entry.breaker ?? contract.address,
      responder,
      ...(entry.timelock ? { timelock: entry.timelock } : {}),
    });
  }
  await Promise.all([...instances.values()].map((r) => r.start?.()));

  // Report-write failures become an alert once the decision sink (and its alert stage) exist.
  let onReportError: ((err: Error, files: string[]) => void) | undefined;
  const recorder = new IncidentRecorder({
    store: stores?.incidents ?? new IncidentStore(db),
    dir: path.resolve(policy.incidentReports),
    logger: log,
    provider: (chainId) => (config.chains.some((c) => c.id === chainId) ? providerFor(chainId) : undefined),
    breakerInfo: (chainId, breaker) => {
      const b = breakers.find((x) => x.chainId === chainId && x.breaker === breaker.toLowerCase());
      return b ? { name: b.contractName, ...(b.timelock ? { timelock: b.timelock } : {}) } : {};
    },
    ratifyForSeconds: config.governance.ratifyForSeconds,
    onReportError: (err, files) => {
      log.error({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code }, files }, "could not write incident report files; the store has the record and the write is retried");
      onReportError?.(err, files);
    },
  });
  const recovered = await recorder.recoverFromReports();
  if (recovered.length > 0) {
    log.fatal(
      { incidents: recovered.map((r) => ({ id: r.id, status: r.status })), dir: path.resolve(policy.incidentReports) },
      "the store lacked incidents that the reports folder has: the store was deleted or replaced; incidents recovered from their report files",
    );
  }
  log.info({ breakers: breakers.map((b) => ({ contract: b.contractName, breaker: b.breaker, responder: b.responder.name })), dry_run: policy.dryRun }, "trip path ready");
  return {
    breakers,
    recorder,
    onReportError: (hook) => (onReportError = hook),
    isTripped: (chainId, breaker) => CircuitBreaker__factory.connect(breaker, providerFor(chainId)).isTripped(),
    checkTrip: (chainId, breaker, txHash) => checkTrip(providerFor(chainId), breaker, txHash),
  };
}

/** The decision policy as the first sink of `failsafe guard`. */
export async function createDecisionSinks(deps: SinkDeps): Promise<FindingSink[]> {
  const tripPath = await createTripPath(deps);
  const policy = deps.loaded.config.policy;
  const sink = new DecisionSink({ policy, ...tripPath, metrics: new TripMetrics(deps.metrics.registry), logger: deps.logger.child({ stage: "decisions" }) as Logger });
  tripPath.onReportError((err, files) => sink.alertReportFailure(err, files));
  // Trips a stopped process left in flight are checked on-chain and finished, in the background: a start never waits on
  // it. On a shared store that is the elected leader's job, chain by chain (guard calls resume(chainId) on election):
  // a standby that resumed the leader's live trips would only race it.
  if (!deps.stores?.shared) sink.resume().catch((err: unknown) => deps.logger.error({ err }, "could not resume trips left in flight"));
  return [sink];
}
