import { z } from "zod";
import { SEVERITIES, type Severity } from "../detectors/types";
import type { AlertKind, AlertMessage, Notifier } from "./types";

const severity = z.enum(SEVERITIES as [Severity, ...Severity[]]);
const ALERT_KINDS = ["finding", "trip", "retraction", "lift"] as const satisfies readonly AlertKind[];

const target = z.union([
  z.string().min(1),
  z
    .object({
      notifier: z.string().min(1),
      /** Overrides the notifier's default recipients (emails, E.164 numbers, chat ids). */
      to: z.array(z.string().min(1)).min(1).optional(),
    })
    .strict(),
]);

const route = z
  .object({
    name: z.string().min(1).optional(),
    match: z
      .object({
        /** Alerts at or above this severity. */
        minSeverity: severity.default("info"),
        /** Any of these detectors contributed a finding; omit for all. */
        detectors: z.array(z.string().min(1)).min(1).optional(),
        /** Protected contracts by address or by their name in `contracts`; omit for all. */
        contracts: z.array(z.string().min(1)).min(1).optional(),
        /** Which events; omit for all. Retractions always go where the retracted alert went. */
        kinds: z.array(z.enum(ALERT_KINDS)).min(1).optional(),
      })
      .strict()
      .default({}),
    notify: z.array(target).min(1),
  })
  .strict();

/** The `alerts` section of the guardian config. */
export const alertsConfigSchema = z
  .object({
    /** After an alert, further findings of the same incident are held and sent as one digest when this ends. */
    cooldownSeconds: z.number().min(0).default(300),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(20).default(6),
        initialDelayMs: z.number().int().min(0).default(1_000),
        maxDelayMs: z.number().int().min(0).default(60_000),
      })
      .strict()
      .default({}),
    /** Explorer base URL per chain id, for transaction links: `{ "1": "https://etherscan.io" }`. */
    explorers: z.record(z.string().regex(/^[0-9]+$/, "expected a chain id"), z.string().url()).default({}),
    routes: z.array(route).default([]),
  })
  .strict();

export type AlertsConfig = z.infer<typeof alertsConfigSchema>;

export interface AlertTarget {
  notifier: string;
  /** Empty for channels without recipients. */
  recipient: string;
}

interface CompiledRoute {
  minRank: number;
  detectors?: ReadonlySet<string>;
  contracts?: ReadonlySet<string>;
  kinds?: ReadonlySet<AlertKind>;
  targets: AlertTarget[];
}

export interface AlertConfigIssue {
  /** Config path, e.g. `alerts.routes[1].notify[0]`. */
  path: string;
  message: string;
}

/** Config mistakes found while wiring routes to notifiers and contracts, each with its config path. */
export class AlertConfigError extends Error {
  readonly problems: string[];

  constructor(readonly issues: AlertConfigIssue[]) {
    const problems = issues.map((i) => `${i.path}: ${i.message}`);
    super(problems.join("\n"));
    this.name = "AlertConfigError";
    this.problems = problems;
  }
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/**
 * Routes checked against the notifiers and contracts that actually exist, so a typo fails at load with
 * its path (`alerts.routes[1].notify[0]: no notifier named "pagr"`), never silently drops alerts.
 */
export class AlertRouter {
  readonly #routes: CompiledRoute[];

  constructor(
    config: AlertsConfig,
    notifiers: ReadonlyMap<string, Notifier>,
    contracts: readonly { name: string; address: string }[] = [],
  ) {
    const problems: AlertConfigIssue[] = [];
    const byName = new Map(contracts.map((c) => [c.name, c.address.toLowerCase()]));
    this.#routes = config.routes.map((r, i) => {
      const path = `alerts.routes[${i}]`;
      const targets: AlertTarget[] = [];
      r.notify.forEach((t, j) => {
        const name = typeof t === "string" ? t : t.notifier;
        const notifier = notifiers.get(name);
        if (!notifier) {
          problems.push({ path: `${path}.notify[${j}]`, message: `no notifier named "${name}" (known: ${[...notifiers.keys()].join(", ") || "none"})` });
          return;
        }
        const to = typeof t === "string" ? undefined : t.to;
        if (notifier.defaultRecipients === null) {
          if (to) problems.push({ path: `${path}.notify[${j}].to`, message: `notifier "${name}" (${notifier.type}) has no recipients` });
          targets.push({ notifier: name, recipient: "" });
          return;
        }
        const recipients = to ?? notifier.defaultRecipients;
        if (recipients.length === 0) problems.push({ path: `${path}.notify[${j}]`, message: `notifier "${name}" has no default recipients; give "to"` });
        recipients.forEach((recipient, k) => {
          const problem = notifier.checkRecipient?.(recipient);
          if (problem) problems.push({ path: `${path}.notify[${j}].to[${k}]`, message: `${problem}, got "${recipient}"` });
          else targets.push({ notifier: name, recipient });
        });
      });
      const resolved = r.match.contracts?.map((c, k) => {
        if (/^0x[0-9a-fA-F]{40}$/.test(c)) return c.toLowerCase();
        const address = byName.get(c);
        if (!address) problems.push({ path: `${path}.match.contracts[${k}]`, message: `"${c}" is neither an address nor a protected contract's name` });
        return address ?? c;
      });
      return {
        minRank: severityRank(r.match.minSeverity),
        detectors: r.match.detectors ? new Set(r.match.detectors) : undefined,
        contracts: resolved ? new Set(resolved) : undefined,
        kinds: r.match.kinds ? new Set(r.match.kinds) : undefined,
        targets,
      };
    });
    if (problems.length > 0) throw new AlertConfigError(problems);
  }

  /** Every target of every matching route, each (notifier, recipient) once. */
  targets(message: Pick<AlertMessage, "kind" | "severity" | "detectorIds" | "contract">): AlertTarget[] {
    const seen = new Map<string, AlertTarget>();
    for (const r of this.#routes) {
      if (severityRank(message.severity) < r.minRank) continue;
      if (r.kinds && !r.kinds.has(message.kind)) continue;
      if (r.detectors && !message.detectorIds.some((d) => r.detectors?.has(d))) continue;
      if (r.contracts && !(message.contract && r.contracts.has(message.contract))) continue;
      for (const t of r.targets) seen.set(`${t.notifier}\n${t.recipient}`, t);
    }
    return [...seen.values()];
  }
}
