import { z } from "zod";
import type { Severity } from "../detectors/types";
import { alertSubject, truncate } from "./format";
import { DEFAULT_TIMEOUT_MS, httpPost } from "./http";
import { envSecretMatching, type Secret } from "./secret";
import type { AlertMessage, Notifier, NotifierDefinition } from "./types";

const params = z
  .object({
    baseUrl: z.string().url().default("https://events.pagerduty.com"),
    /** The Events API v2 integration key of the service. */
    routingKey: envSecretMatching({ test: (v) => /^[A-Za-z0-9]{32}$/.test(v), message: "expected a 32-character integration key" }),
    /** `payload.source`: which guardian raised it. */
    source: z.string().min(1).default("failsafe-guardian"),
    timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
  })
  .strict();

type PagerDutyParams = z.infer<typeof params>;

/** PagerDuty has four severities. */
const PD_SEVERITY: Record<Severity, "critical" | "error" | "warning" | "info"> = {
  critical: "critical",
  high: "error",
  medium: "warning",
  low: "info",
  info: "info",
};

/** One PagerDuty incident per Failsafe incident: every alert of it triggers or resolves the same key. */
export function pagerDutyDedupKey(message: AlertMessage): string {
  return truncate(`failsafe:${message.incidentKey}`, 255);
}

class PagerDutyNotifier implements Notifier {
  readonly type = "pagerduty";
  readonly defaultRecipients = null;
  readonly #routingKey: Secret;

  constructor(
    readonly name: string,
    private readonly params: PagerDutyParams,
  ) {
    this.#routingKey = params.routingKey;
  }

  async send(message: AlertMessage): Promise<void> {
    const base = { routing_key: this.#routingKey.reveal(), dedup_key: pagerDutyDedupKey(message) };
    // A lift, or a retraction that leaves nothing standing, closes the PagerDuty incident; anything
    // else (including a partial retraction) re-triggers the same key, which updates it.
    const event = message.resolves
      ? { ...base, event_action: "resolve" }
      : {
          ...base,
          event_action: "trigger",
          client: "Failsafe guardian",
          payload: {
            summary: truncate(alertSubject(message), 1024),
            source: this.params.source,
            severity: PD_SEVERITY[message.severity],
            timestamp: message.createdAt,
            component: message.contract ?? `chain ${message.chainId}`,
            group: `chain-${message.chainId}`,
            class: message.kind,
            custom_details: {
              alert_id: message.id,
              summary: message.summary,
              details: message.details,
              detectors: message.detectorIds,
              findings: message.findings,
              incident_id: message.incidentId,
              retracts: message.retracts,
            },
          },
          links: message.links.map((l) => ({ href: l.url, text: l.label })),
        };
    await httpPost({
      service: "pagerduty",
      url: `${this.params.baseUrl.replace(/\/+$/, "")}/v2/enqueue`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event),
      timeoutMs: this.params.timeoutMs,
    });
  }
}

export const pagerDutyNotifier: NotifierDefinition<PagerDutyParams, Notifier> = {
  type: "pagerduty",
  description: "PagerDuty Events API v2: trigger per incident (dedup_key), resolve on lift.",
  params,
  create: (name, p) => new PagerDutyNotifier(name, p),
};
