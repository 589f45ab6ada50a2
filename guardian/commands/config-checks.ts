import { accessSync, constants, existsSync, statSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load-config";
import type { RpcClient } from "../chain/types";
import { createDetectors } from "../guardian";
import { AlertConfigError, AlertRouter } from "../notifiers/alert-routes";
import { createNotifiers } from "../notifiers/create-notifiers";
import { findResponder } from "../responders/registry";
import { GuardianKeyError, keySourceSchema, loadGuardianKey, type KeySource } from "../responders/guardian-key";

/** One check `failsafe config check` ran, with where in the config it looked and what it found. */
export interface ConfigCheck {
  check: string;
  /** The config path it concerns (`policy.breakers[0].contract`), or "" for the whole file. */
  path: string;
  ok: boolean;
  message: string;
}

/** Detectors are built offline here: creating one must not touch the network, so this RPC refuses. */
function offlineRpc(chainId: number): RpcClient {
  return { chainId, request: () => Promise.reject(new Error("config check runs offline")) };
}

/** The nearest folder that exists on the way up to `target`, and whether this process may write in it. */
function writable(target: string): { ok: boolean; message: string } {
  const resolved = path.resolve(target);
  if (existsSync(resolved)) {
    const isDir = statSync(resolved).isDirectory();
    try {
      accessSync(resolved, constants.W_OK);
      return { ok: true, message: `${resolved}: ${isDir ? "folder" : "file"} is writable` };
    } catch {
      return { ok: false, message: `${resolved}: not writable by this user` };
    }
  }
  let dir = path.dirname(resolved);
  while (!existsSync(dir)) dir = path.dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return statSync(dir).isDirectory() ? { ok: true, message: `${resolved}: will be created under ${dir}` } : { ok: false, message: `${resolved}: ${dir} is a file, not a folder` };
  } catch {
    return { ok: false, message: `${resolved}: cannot be created: ${dir} is not writable by this user` };
  }
}

async function keyCheck(check: string, where: string, source: KeySource, baseDir: string, what: string): Promise<ConfigCheck> {
  try {
    const wallet = await loadGuardianKey(source, { baseDir });
    return { check, path: where, ok: true, message: `${what} loads: ${wallet.address}` };
  } catch (err) {
    if (err instanceof GuardianKeyError) return { check, path: where, ok: false, message: err.message.replace("(guardian key)", `(${what})`) };
    throw err;
  }
}

/**
 * Everything `failsafe guard` checks before it touches the network, each as its own result: detectors
 * (and invariant expressions against the contracts' ABIs), breakers naming configured contracts and
 * responders, signer keys loadable from their variables or keystores, notifiers and alert routes, and the
 * folders the guardian writes. What needs a network (RPC chain ids, relays) is left to `guard`'s start.
 */
export async function runConfigChecks(loaded: LoadedConfig, logger: Logger): Promise<ConfigCheck[]> {
  const { config } = loaded;
  const baseDir = path.dirname(path.resolve(loaded.file));
  const out: ConfigCheck[] = [{ check: "schema", path: "", ok: true, message: "schema, environment references and ABIs are valid" }];

  config.chains.forEach((chain, i) => {
    const where = `chains[${i}]`;
    const contracts = loaded.contracts.get(chain.id) ?? [];
    try {
      const detectors = createDetectors(config, chain, contracts, { rpc: offlineRpc(chain.id), logger });
      out.push({
        check: "detectors",
        path: where,
        ok: true,
        message: `chain ${chain.id}${chain.name ? ` (${chain.name})` : ""}: ${chain.rpc.length} rpc url${chain.rpc.length === 1 ? "" : "s"}${chain.ws ? " + websocket" : ""}, ${contracts.length} contract${contracts.length === 1 ? "" : "s"}, detectors: ${detectors.map((d) => d.key).join(", ") || "none"}`,
      });
    } catch (err) {
      out.push({ check: "detectors", path: where, ok: false, message: (err as Error).message.split("\n")[0] });
    }
  });

  // policy.breakers: the same resolution the trip path does at start, without starting the responders.
  const tripResponders = Object.entries(config.responders).filter(([, r]) => findResponder(r.type) !== undefined).map(([name]) => name);
  for (const [name, responder] of Object.entries(config.responders)) {
    const where = `responders.${name}`;
    const def = findResponder(responder.type);
    if (!def) {
      out.push({ check: "responder", path: `${where}.type`, ok: false, message: `unknown responder type "${responder.type}"` });
      continue;
    }
    const { type: _type, ...params } = responder;
    const parsed = def.params.safeParse(params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) out.push({ check: "responder", path: [where, ...issue.path].join("."), ok: false, message: issue.message });
      continue;
    }
    out.push({ check: "responder", path: where, ok: true, message: `${responder.type} responder parameters are valid` });
    const data = parsed.data as { signer?: unknown; authKeyEnv?: string };
    const signer = keySourceSchema.safeParse(data.signer);
    if (signer.success) out.push(await keyCheck("signer", `${where}.signer`, signer.data, baseDir, "guardian key"));
    if (data.authKeyEnv) out.push(await keyCheck("signer", `${where}.authKeyEnv`, { keyEnv: data.authKeyEnv }, baseDir, "relay auth key"));
  }
  config.policy.breakers.forEach((entry, i) => {
    const where = `policy.breakers[${i}]`;
    const contract = config.contracts.find((c) => c.name === entry.contract);
    if (!contract) {
      out.push({ check: "breaker", path: `${where}.contract`, ok: false, message: `no contract named "${entry.contract}" (known: ${config.contracts.map((c) => c.name).join(", ") || "none"})` });
      return;
    }
    const responder = entry.responder ?? (tripResponders.length === 1 ? tripResponders[0] : undefined);
    if (!responder) {
      out.push({ check: "breaker", path: `${where}.responder`, ok: false, message: tripResponders.length === 0 ? "no responder is configured under responders" : `name one of: ${tripResponders.join(", ")}` });
      return;
    }
    if (!config.responders[responder]) {
      out.push({ check: "breaker", path: `${where}.responder`, ok: false, message: `no responder named "${responder}" (known: ${Object.keys(config.responders).join(", ") || "none"})` });
      return;
    }
    out.push({ check: "breaker", path: where, ok: true, message: `${entry.contract} (${entry.breaker ?? contract.address}) trips through ${responder}${entry.timelock ? `, governed by ${entry.timelock}` : ", no timelock: incidents will have no governance payloads"}` });
  });

  try {
    const notifiers = createNotifiers(config.notifiers, { logger });
    new AlertRouter(config.alerts, notifiers, [...loaded.contracts.values()].flat().map((c) => ({ name: c.name, address: c.address })));
    out.push({ check: "alerts", path: "alerts", ok: true, message: `${notifiers.size} notifier${notifiers.size === 1 ? "" : "s"} (${[...notifiers.keys()].join(", ") || "none"}), ${config.alerts.routes.length} route${config.alerts.routes.length === 1 ? "" : "s"}` });
  } catch (err) {
    if (!(err instanceof AlertConfigError)) throw err;
    for (const issue of err.issues) out.push({ check: "alerts", path: issue.path, ok: false, message: issue.message });
  }

  if (config.governance.signer) out.push(await keyCheck("signer", "governance.signer", config.governance.signer, baseDir, "governance key"));

  const paths: [string, string][] = [
    ["store.path", config.store.path],
    ["policy.incidentReports", config.policy.incidentReports],
    ...(config.governance.payloads ? ([["governance.payloads", config.governance.payloads]] as [string, string][]) : []),
    ...(!["stdout", "stderr"].includes(config.logging.destination) ? ([["logging.destination", config.logging.destination]] as [string, string][]) : []),
  ];
  for (const [where, target] of paths) {
    if (target === ":memory:") continue;
    out.push({ check: "path", path: where, ...writable(target) });
  }
  return out;
}
