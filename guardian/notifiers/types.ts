import type { z } from "zod";
import type { Logger } from "pino";
import type { Severity } from "../detectors/types";

/** What happened: a detector fired, the breaker tripped, a finding was orphaned by a reorg, the trip was lifted. */
export type AlertKind = "finding" | "trip" | "retraction" | "lift";

/** A finding as an alert carries it: enough for a person to look it up, without the raw evidence. */
export interface AlertFinding {
  id: string;
  detectorId: string;
  severity: Severity;
  title: string;
  blockNumber: number;
  blockHash: string;
  txHash?: string;
}

export interface AlertLink {
  label: string;
  url: string;
}

/**
 * One alert, rendered once by the dispatcher and handed unchanged to every channel and every retry, so a
 * receiver can deduplicate on `id`.
 */
export interface AlertMessage {
  /** Unique per alert and stable across retries. */
  id: string;
  kind: AlertKind;
  /**
   * The incident this alert belongs to. Every alert of one incident shares it: it is PagerDuty's
   * dedup_key, the email thread, and what receivers group on.
   */
  incidentKey: string;
  severity: Severity;
  title: string;
  /** One line, for SMS and chat previews. */
  summary: string;
  /** Further lines of plain text. */
  details: string[];
  chainId: number;
  /** The protected contract (lowercase), where there is one. */
  contract?: string;
  detectorIds: string[];
  /** At most 50; `details` counts the rest, which the alert log keeps. */
  findings: AlertFinding[];
  /** The trip's incident id (bytes32 hex) for trip and lift alerts. */
  incidentId?: string;
  /** For a retraction: the ids of the alerts it retracts, which were delivered before it. */
  retracts?: string[];
  /** True when this alert closes the incident (a lift, or a retraction that leaves nothing standing). */
  resolves: boolean;
  links: AlertLink[];
  /** ISO-8601. */
  createdAt: string;
}

/** Passed to every notifier; nothing is imported as a singleton. */
export interface NotifierDeps {
  logger: Logger;
}

/**
 * A notifier delivers one rendered alert to one channel. The dispatcher (routing, grouping, cooldown,
 * retries, delivery log) is separate, so a notifier file only speaks its service's protocol.
 */
export interface Notifier {
  readonly name: string;
  readonly type: string;
  /**
   * Recipients used when a route names none. `null` means the channel has no per-alert recipients (a
   * webhook URL or an integration key already says where the alert goes), so routes may not give any.
   */
  readonly defaultRecipients: readonly string[] | null;
  /** Returns a problem description if `recipient` cannot be an address of this channel. */
  checkRecipient?(recipient: string): string | undefined;
  /**
   * Delivers `message` (to `recipient` where the channel has recipients). Resolves once the service
   * accepted it; throws a `DeliveryError` whose `retryable` says whether trying again can help.
   */
  send(message: AlertMessage, recipient?: string): Promise<void>;
  close?(): Promise<void>;
}

/** One file per notifier type exports one of these; `registry.ts` lists them. */
export interface NotifierDefinition<P = unknown, N extends Notifier = Notifier> {
  type: string;
  description: string;
  /** zod schema for this notifier's parameters under `notifiers.<name>` in the YAML config. */
  params: z.ZodType<P, z.ZodTypeDef, unknown>;
  create(name: string, params: P, deps: NotifierDeps): N;
}
