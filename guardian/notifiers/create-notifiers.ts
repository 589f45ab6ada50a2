import { AlertConfigError, type AlertConfigIssue } from "./alert-routes";
import { findNotifier } from "./registry";
import type { Notifier, NotifierDeps } from "./types";

/**
 * Builds the named notifiers of the config's `notifiers` section (`name: { type, ...params }`). Params
 * are parsed here, so `{ env: NAME }` secrets are read from the environment at load, and any problem is
 * reported with its config path.
 */
export function createNotifiers(section: Record<string, { type: string; [param: string]: unknown }>, deps: NotifierDeps): Map<string, Notifier> {
  const problems: AlertConfigIssue[] = [];
  const notifiers = new Map<string, Notifier>();
  for (const [name, entry] of Object.entries(section)) {
    const def = findNotifier(entry.type);
    if (!def) {
      problems.push({ path: `notifiers.${name}.type`, message: `unknown notifier type "${entry.type}"` });
      continue;
    }
    const { type: _type, ...params } = entry;
    const parsed = def.params.safeParse(params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ path: configPath(["notifiers", name, ...issue.path]), message: issue.message });
      continue;
    }
    notifiers.set(name, def.create(name, parsed.data, { logger: deps.logger.child({ notifier: name }) }));
  }
  if (problems.length > 0) throw new AlertConfigError(problems);
  return notifiers;
}

/** `notifiers.sms.to[0]`, as the rest of the config errors read. */
function configPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
