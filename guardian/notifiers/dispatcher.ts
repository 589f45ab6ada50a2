import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { ReorgEvent } from "../chain/types";
import type { BlockContext } from "../context/types";
import type { FindingSink } from "../decisions/types";
import type { Finding, Severity } from "../detectors/types";
import type { DeliveryRow } from "../state/alert-store";
import type { AlertLogStore } from "../state/store";
import type { FindingHumanizer } from "./human-units";
import type { AlertMetrics } from "./alert-metrics";
import { AlertRouter, severityRank, type AlertsConfig, type AlertTarget } from "./alert-routes";
import { DeliveryError } from "./delivery-error";
import type { AlertFinding, AlertKind, AlertLink, AlertMessage, Notifier } from "./types";

/** What the responder (on a trip) or the governance side (on a lift) tells the dispatcher. */
export interface IncidentAlert {
  /** The incident id the breaker was tripped with (bytes32 hex). */
  incidentId: string;
  chainId: number;
  /** The CircuitBreaker's address. */
  breaker: string;
  /** The protected contract, when it is not the breaker itself. */
  contract?: string;
  /** Defaults to critical for a trip; a lift inherits the trip's. */
  severity?: Severity;
  /** The findings that caused the trip. */
  findings?: readonly Finding[];
  /** The trip's (or lift's) transaction. */
  txHash?: string;
  blockNumber?: number;
  /** Unix seconds at which the trip lapses on its own. */
  expiresAt?: number;
  /** Free text: why it was lifted, where the report is. */
  note?: string;
}

export interface AlertDispatcherDeps {
  store: AlertLogStore;
  logger: Logger;
  notifiers: ReadonlyMap<string, Notifier>;
  /** Protected contracts, so routes may name them and alerts show names. */
  contracts?: readonly { name: string; address: string }[];
  /** How long `close()` waits for deliveries in flight; the rest resume on the next start. */
  closeTimeoutMs?: number;
  /**
   * Resume the deliveries a previous run left pending (default). A one-shot command that shares the
   * guardian's store (`failsafe governance execute`) turns it off, so it never repeats the guardian's work.
   */
  resumePending?: boolean;
  metrics?: AlertMetrics;
  /** Titles in human units for the people alerted (token amounts with their symbol); base units without it. */
  humanize?: FindingHumanizer;
  /**
   * Who claims deliveries before sending them (see AlertLogStore.claimDelivery). One guardian per SQLite store keeps
   * the default, so its restart takes its own claims back at once; guardians sharing a PostgreSQL store each have their own.
   */
  claimant?: string;
  /** How long a claim holds without renewal (renewed before every attempt): a dead holder's deliveries wait this long. */
  claimTtlMs?: number;
  /**
   * A store shared by several guardians: every this many ms, pending deliveries nobody holds a live claim on (their
   * guardian died after claiming) are taken over and sent. Unset: only the start resumes pending deliveries.
   */
  sweepMs?: number;
}

/** Claims last a minute unless renewed: longer than any notifier's send. */
export const DEFAULT_CLAIM_TTL_MS = 60_000;

/** The in-memory side of one incident: cooldown and held findings. The store keeps the durable part. */
interface OpenIncident {
  key: string;
  group: string;
  chainId: number;
  contract?: string;
  lastSentAt: number;
  /** Highest severity sent since `lastSentAt`; a higher one breaks through the cooldown. */
  windowRank: number;
  held: Finding[];
  timer?: NodeJS.Timeout;
  tripped: boolean;
}

type Intake =
  | { kind: "resume" }
  | { kind: "findings"; findings: readonly Finding[] }
  | { kind: "retractions"; findings: readonly Finding[]; reorg: ReorgEvent }
  | { kind: "trip"; incident: IncidentAlert }
  | { kind: "lift"; incident: IncidentAlert };

function maxSeverity(severities: readonly Severity[], fallback: Severity): Severity {
  return severities.reduce((a, b) => (severityRank(b) > severityRank(a) ? b : a), severities[0] ?? fallback);
}

function newAlertId(kind: AlertKind): string {
  return `${kind}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

/** The most findings one alert lists; the rest are counted. */
const MAX_LISTED = 50;

/** The failsafe-watch detector reports the breaker's own events; a Tripped or Lifted one is a trip or a lift. */
const FAILSAFE_WATCH = "failsafe-watch";

function onChainIncident(f: Finding): { kind: "trip" | "lift"; incident: IncidentAlert } | undefined {
  if (f.detectorId !== FAILSAFE_WATCH || !f.contract) return undefined;
  const event = f.evidence.event;
  const args = (f.evidence.args ?? {}) as Record<string, unknown>;
  if ((event !== "Tripped" && event !== "Lifted") || typeof args.incidentId !== "string") return undefined;
  const base = { incidentId: args.incidentId, chainId: f.chainId, breaker: f.contract, findings: [f], blockNumber: f.blockNumber, ...(f.txHash ? { txHash: f.txHash } : {}) };
  if (event === "Lifted") {
    return { kind: "lift", incident: { ...base, ...(typeof args.liftedBy === "string" ? { note: `Lifted by ${args.liftedBy}.` } : {}) } };
  }
  const expiresAt = Number(args.expiresAt);
  return {
    kind: "trip",
    incident: {
      ...base,
      ...(Number.isFinite(expiresAt) && expiresAt > 0 ? { expiresAt } : {}),
      ...(typeof args.guardian === "string" ? { note: `Tripped by ${args.guardian}.` } : {}),
    },
  };
}

function toAlertFinding(f: Finding): AlertFinding {
  return {
    id: f.id,
    detectorId: f.detectorId,
    severity: f.severity,
    title: f.title,
    blockNumber: f.blockNumber,
    blockHash: f.blockHash,
    ...(f.txHash ? { txHash: f.txHash } : {}),
  };
}

/**
 * Turns findings, trips, retractions and lifts into alerts, and delivers them. It is a FindingSink that
 * never holds the pipeline: `onFindings` only queues, and all routing, storage and network I/O happens
 * afterwards, so the trip (registered before it) is never delayed by a slow mail server.
 *
 * Grouping: findings about one contract on one chain form one incident until it is lifted or fully
 * retracted. The first alert of an incident goes out at once; later findings within the cooldown are
 * held and sent as one digest when it ends, unless they raise the severity, which is sent at once.
 * Trips, lifts and retractions are never held.
 *
 * Ordering: deliveries to one (notifier, recipient) for one incident go strictly one after another,
 * retries included, so a retraction always arrives after the alert it retracts.
 */
export class AlertDispatcher implements FindingSink {
  readonly name = "alerts";
  readonly #config: AlertsConfig;
  readonly #deps: AlertDispatcherDeps;
  readonly #log: Logger;
  readonly #router: AlertRouter;
  readonly #incidents = new Map<string, OpenIncident>();
  readonly #names = new Map<string, string>();
  readonly #intake: Intake[] = [];
  #draining = false;
  /** Tail of each (notifier, recipient, incident) delivery chain. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #sleeps = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  /** No new alerts are accepted and no retry waits; first attempts still go out until `#stopped`. */
  #closing = false;
  /** close() gave up waiting: nothing more is attempted; what is left stays pending in the store. */
  #stopped = false;
  /** Deliveries this process has scheduled and not finished: a sweep does not schedule them twice. */
  readonly #scheduled = new Set<number>();
  readonly #claimant: string;
  #sweep?: NodeJS.Timeout;

  constructor(config: AlertsConfig, deps: AlertDispatcherDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#log = deps.logger.child({ stage: "alerts" });
    this.#router = new AlertRouter(config, deps.notifiers, deps.contracts);
    for (const c of deps.contracts ?? []) this.#names.set(c.address.toLowerCase(), c.name);
    this.#claimant = deps.claimant ?? "local";
    // Deliveries a previous run could not finish (crash, shutdown mid-retry) go out first.
    if (deps.resumePending !== false) {
      this.#accept({ kind: "resume" });
      if (deps.sweepMs !== undefined) {
        this.#sweep = setInterval(() => {
          if (!this.#draining && this.#intake.length === 0) this.#accept({ kind: "resume" });
        }, deps.sweepMs);
        this.#sweep.unref();
      }
    }
  }

  async onFindings(findings: Finding[], _block: BlockContext): Promise<void> {
    this.#accept({ kind: "findings", findings: [...findings] });
  }

  async onRetractions(retracted: Finding[], reorg: ReorgEvent): Promise<void> {
    this.#accept({ kind: "retractions", findings: [...retracted], reorg });
  }

  /** The breaker was tripped: an incident opened. Returns at once; delivery is asynchronous. */
  alertTrip(incident: IncidentAlert): void {
    this.#accept({ kind: "trip", incident });
  }

  /** The trip was lifted: the incident closed. Returns at once; delivery is asynchronous. */
  alertLift(incident: IncidentAlert): void {
    this.#accept({ kind: "lift", incident });
  }

  /** Resolves once everything accepted so far has been routed and every started delivery has finished. */
  async idle(): Promise<void> {
    await this.#routed();
    while (this.#inFlight.size > 0) {
      await Promise.all([...this.#inFlight]);
      await this.#routed();
    }
  }

  /** Everything accepted so far has been routed (deliveries may still be running). */
  async #routed(): Promise<void> {
    while (this.#draining || this.#intake.length > 0) await new Promise((r) => setImmediate(r));
  }

  /**
   * Sends held digests now, waits up to `closeTimeoutMs` for deliveries, and leaves whatever is still
   * retrying as pending in the store for the next start.
   */
  async close(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    await this.#routed();
    for (const incident of this.#incidents.values()) await this.#flushHeld(incident);
    this.#closing = true;
    for (const sleep of this.#sleeps) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, this.#deps.closeTimeoutMs ?? 10_000)));
    await Promise.race([Promise.all([...this.#inFlight]), deadline]);
    clearTimeout(timer);
    this.#stopped = true;
    await Promise.all([...this.#deps.notifiers.values()].map((n) => n.close?.().catch(() => undefined)));
  }

  #accept(item: Intake): void {
    if (this.#closing) {
      this.#log.warn({ kind: item.kind }, "alert dropped: dispatcher is closing");
      return;
    }
    this.#intake.push(item);
    if (!this.#draining) {
      this.#draining = true;
      setImmediate(() => void this.#drain());
    }
  }

  async #drain(): Promise<void> {
    try {
      for (let item = this.#intake.shift(); item; item = this.#intake.shift()) {
        try {
          if (this.#deps.humanize && (item.kind === "findings" || item.kind === "retractions")) {
            const raw = item.findings;
            item = { ...item, findings: await this.#deps.humanize([...raw]).catch(() => [...raw]) };
          }
          await this.#handle(item);
        } catch (err) {
          // Alerting must never take the guardian down; a failure here is logged and the next item goes on.
          this.#log.error({ err, kind: item.kind }, "alert handling failed");
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #handle(item: Intake): Promise<void> {
    switch (item.kind) {
      case "resume":
        return this.#resume();
      case "findings":
        return this.#handleFindings(item.findings);
      case "retractions":
        return this.#handleRetractions(item.findings, item.reorg);
      case "trip":
        return this.#handleTrip(item.incident);
      case "lift":
        return this.#handleLift(item.incident);
    }
  }

  #groupOf(chainId: number, contract: string | undefined): string {
    return `${chainId}:${contract ?? "chain"}`;
  }

  #label(contract: string | undefined, chainId: number): string {
    if (!contract) return `chain ${chainId}`;
    const name = this.#names.get(contract);
    return name ? `${name} (${contract})` : contract;
  }

  #incident(chainId: number, contract: string | undefined, firstAlertId: string): OpenIncident {
    const group = this.#groupOf(chainId, contract);
    let incident = this.#incidents.get(group);
    if (!incident) {
      // The incident is named after its first alert, so the key is unique even when the same contract
      // has another incident later.
      incident = { key: firstAlertId, group, chainId, contract, lastSentAt: -Infinity, windowRank: -1, held: [], tripped: false };
      this.#incidents.set(group, incident);
    }
    return incident;
  }

  /** Pending deliveries nobody else is sending (all of them on a store of its own) are scheduled here. */
  async #resume(): Promise<void> {
    const shared = this.#deps.sweepMs !== undefined;
    for (const { delivery, message } of await this.#deps.store.pendingDeliveries(shared ? Date.now() : undefined)) {
      if (!this.#scheduled.has(delivery.id)) this.#schedule(delivery, message);
    }
  }

  async #handleFindings(findings: readonly Finding[]): Promise<void> {
    const byGroup = new Map<string, Finding[]>();
    for (const f of findings) {
      const onChain = onChainIncident(f);
      if (onChain) {
        if (onChain.kind === "trip") await this.#handleTrip(onChain.incident);
        else await this.#handleLift(onChain.incident);
        continue;
      }
      const contract = f.contract?.toLowerCase();
      const group = this.#groupOf(f.chainId, contract);
      byGroup.set(group, [...(byGroup.get(group) ?? []), { ...f, contract }]);
    }
    const now = Date.now();
    for (const group of byGroup.values()) {
      const first = group[0];
      const id = newAlertId("finding");
      const incident = this.#incident(first.chainId, first.contract, id);
      const held = new Set(incident.held.map((f) => f.id));
      const fresh = group.filter((f) => !held.has(f.id));
      if (fresh.length === 0) continue;
      const rank = Math.max(...fresh.map((f) => severityRank(f.severity)));
      const cooling = now - incident.lastSentAt < this.#config.cooldownSeconds * 1000;
      if (cooling && rank <= incident.windowRank) {
        incident.held.push(...fresh);
        this.#armDigest(incident);
        continue;
      }
      const all = [...incident.held, ...fresh];
      this.#clearHeld(incident);
      await this.#sendFindings(incident, all, id, cooling ? "escalation" : "first");
    }
  }

  #armDigest(incident: OpenIncident): void {
    if (incident.timer) return;
    const due = incident.lastSentAt + this.#config.cooldownSeconds * 1000 - Date.now();
    incident.timer = setTimeout(() => {
      incident.timer = undefined;
      this.#flushHeld(incident).catch((err: unknown) => this.#log.error({ err, incident: incident.key }, "alert digest failed"));
    }, Math.max(0, due));
    incident.timer.unref();
  }

  #clearHeld(incident: OpenIncident): void {
    if (incident.timer) clearTimeout(incident.timer);
    incident.timer = undefined;
    incident.held = [];
  }

  async #flushHeld(incident: OpenIncident): Promise<void> {
    if (incident.held.length === 0) return;
    const findings = incident.held;
    this.#clearHeld(incident);
    await this.#sendFindings(incident, findings, newAlertId("finding"), "digest");
  }

  async #sendFindings(incident: OpenIncident, findings: Finding[], id: string, why: "first" | "escalation" | "digest"): Promise<void> {
    const severity = maxSeverity(
      findings.map((f) => f.severity),
      "info",
    );
    const detectorIds = [...new Set(findings.map((f) => f.detectorId))];
    const where = this.#label(incident.contract, incident.chainId);
    const title =
      findings.length === 1
        ? `${findings[0].title} on ${where}`
        : `${findings.length} ${why === "digest" ? "more " : ""}findings on ${where}`;
    const blocks = findings.map((f) => f.blockNumber);
    const message: Omit<AlertMessage, "findings"> = {
      id,
      kind: "finding",
      incidentKey: incident.key,
      severity,
      title,
      summary: `${severity} ${detectorIds.join(", ")} on ${where}, chain ${incident.chainId}, block${blocks.length > 1 ? "s" : ""} ${Math.min(...blocks)}${blocks.length > 1 ? `-${Math.max(...blocks)}` : ""}`,
      details:
        why === "digest"
          ? [`Held during the ${this.#config.cooldownSeconds} s cooldown after the previous alert of this incident.`]
          : why === "escalation"
            ? [`Sent during the cooldown because the severity rose to ${severity}.`]
            : [],
      chainId: incident.chainId,
      ...(incident.contract ? { contract: incident.contract } : {}),
      detectorIds,
      resolves: false,
      links: this.#txLinks(incident.chainId, findings.map((f) => f.txHash)),
      createdAt: new Date().toISOString(),
    };
    incident.windowRank = why === "first" ? severityRank(severity) : Math.max(incident.windowRank, severityRank(severity));
    incident.lastSentAt = Date.now();
    await this.#raise(message, findings, this.#router.targets(message));
  }

  async #handleRetractions(findings: readonly Finding[], reorg: ReorgEvent): Promise<void> {
    const retractedIds = new Set(findings.map((f) => f.id));
    // Held findings were never announced: dropping them is the whole retraction.
    for (const incident of this.#incidents.values()) {
      const before = incident.held.length;
      incident.held = incident.held.filter((f) => !retractedIds.has(f.id));
      if (before > 0 && incident.held.length === 0) this.#clearHeld(incident);
    }
    const perIncident = new Map<string, { alertIds: Set<string>; findings: Finding[] }>();
    for (const f of findings) {
      for (const live of await this.#deps.store.liveAlertsForFinding(f.id)) {
        const entry = perIncident.get(live.incidentKey) ?? { alertIds: new Set<string>(), findings: [] };
        entry.alertIds.add(live.alertId);
        if (!entry.findings.some((x) => x.id === f.id)) entry.findings.push(f);
        perIncident.set(live.incidentKey, entry);
      }
    }
    for (const [incidentKey, { alertIds, findings: gone }] of perIncident) {
      const id = newAlertId("retraction");
      await this.#deps.store.markRetracted(
        gone.map((f) => f.id),
        id,
      );
      const open = [...this.#incidents.values()].find((i) => i.key === incidentKey);
      const resolves = !open?.tripped && (await this.#deps.store.liveFindingCount(incidentKey)) === 0 && (open?.held.length ?? 0) === 0;
      const first = gone[0];
      const contract = first.contract?.toLowerCase();
      const where = this.#label(contract, first.chainId);
      const retracts = [...alertIds];
      const message: Omit<AlertMessage, "findings"> = {
        id,
        kind: "retraction",
        incidentKey,
        severity: maxSeverity(
          gone.map((f) => f.severity),
          "info",
        ),
        title: `Retracted ${gone.length} finding${gone.length > 1 ? "s" : ""} on ${where} after a reorg`,
        summary: `A reorg of depth ${reorg.depth} above block ${reorg.commonAncestor.number} orphaned the block${gone.length > 1 ? "s" : ""} these findings were seen in.`,
        details: [
          ...(gone.some((f) => onChainIncident(f)?.kind === "trip")
            ? ["The block that included the trip was orphaned: check that the trip is included again on the new branch."]
            : []),
          resolves
            ? "Nothing else stands in this incident: it is resolved."
            : open?.tripped
              ? "The breaker was already tripped for this incident; the trip stands until governance lifts it."
              : "Other findings of this incident still stand.",
          `Orphaned: ${reorg.orphaned.map((b) => `${b.number} ${b.hash}`).join(", ")}`,
        ],
        chainId: first.chainId,
        ...(contract ? { contract } : {}),
        detectorIds: [...new Set(gone.map((f) => f.detectorId))],
        retracts,
        resolves,
        links: [],
        createdAt: new Date().toISOString(),
      };
      // Exactly the people who saw the original alerts, whatever the routes say now.
      const targets = new Map<string, AlertTarget>();
      for (const alertId of retracts) {
        for (const t of await this.#deps.store.targetsOf(alertId)) targets.set(`${t.notifier}\n${t.recipient}`, t);
      }
      if (resolves && open) this.#forget(open);
      await this.#raise(message, gone, [...targets.values()]);
    }
  }

  async #handleTrip(input: IncidentAlert): Promise<void> {
    const contract = (input.contract ?? input.breaker).toLowerCase();
    const incidentId = input.incidentId.toLowerCase();
    // The responder announces its trip on inclusion and failsafe-watch then reports the Tripped event:
    // one alert per incident, with the on-chain record attached so a reorg of it is retracted too.
    const earlier = await this.#deps.store.incidentAlert("trip", incidentId);
    if (earlier) {
      await this.#deps.store.addFindings(
        earlier.id,
        (input.findings ?? []).map((f) => f.id),
      );
      return;
    }
    const id = newAlertId("trip");
    const incident = this.#incident(input.chainId, contract, id);
    incident.tripped = true;
    const findings = [...incident.held, ...(input.findings ?? []).filter((f) => !incident.held.some((h) => h.id === f.id))];
    this.#clearHeld(incident);
    const severity = input.severity ?? "critical";
    const where = this.#label(contract, input.chainId);
    const message: Omit<AlertMessage, "findings"> = {
      id,
      kind: "trip",
      incidentKey: incident.key,
      severity,
      title: `Breaker tripped on ${where}`,
      summary: `The circuit breaker ${input.breaker.toLowerCase()} was tripped on chain ${input.chainId} with incident ${incidentId}${input.blockNumber !== undefined ? ` in block ${input.blockNumber}` : ""}.`,
      details: [
        ...(input.expiresAt !== undefined
          ? [`The trip lapses at ${new Date(input.expiresAt * 1000).toISOString()} unless governance ratifies it.`]
          : []),
        ...(input.note ? [input.note] : []),
      ],
      chainId: input.chainId,
      contract,
      detectorIds: [...new Set(findings.map((f) => f.detectorId))],
      incidentId,
      resolves: false,
      links: this.#txLinks(input.chainId, [input.txHash, ...findings.map((f) => f.txHash)]),
      createdAt: new Date().toISOString(),
    };
    incident.lastSentAt = Date.now();
    incident.windowRank = Math.max(incident.windowRank, severityRank(severity));
    await this.#raise(message, findings, this.#router.targets(message));
  }

  async #handleLift(input: IncidentAlert): Promise<void> {
    const contract = (input.contract ?? input.breaker).toLowerCase();
    const incidentId = input.incidentId.toLowerCase();
    if (await this.#deps.store.incidentAlert("lift", incidentId)) return;
    const open = this.#incidents.get(this.#groupOf(input.chainId, contract));
    // After a restart the trip alert is only in the store; the lift must still close the same incident.
    const trip = await this.#deps.store.incidentAlert("trip", incidentId);
    const incidentKey = trip?.incidentKey ?? open?.key ?? newAlertId("lift");
    const severity = input.severity ?? trip?.severity ?? "critical";
    const where = this.#label(contract, input.chainId);
    const message: Omit<AlertMessage, "findings"> = {
      id: newAlertId("lift"),
      kind: "lift",
      incidentKey,
      severity,
      title: `Breaker lifted on ${where}`,
      summary: `The trip of ${input.breaker.toLowerCase()} (incident ${incidentId}) on chain ${input.chainId} was lifted${input.blockNumber !== undefined ? ` in block ${input.blockNumber}` : ""}; the protected operations are open again.`,
      details: input.note ? [input.note] : [],
      chainId: input.chainId,
      contract,
      detectorIds: trip?.detectorIds ?? [],
      incidentId,
      resolves: true,
      links: this.#txLinks(input.chainId, [input.txHash]),
      createdAt: new Date().toISOString(),
    };
    const targets = new Map<string, AlertTarget>();
    for (const t of this.#router.targets(message)) targets.set(`${t.notifier}\n${t.recipient}`, t);
    // Whoever was told of the trip hears that it is over, even if the routes changed since.
    if (trip) for (const t of await this.#deps.store.targetsOf(trip.id)) targets.set(`${t.notifier}\n${t.recipient}`, t);
    if (open) this.#forget(open);
    await this.#raise(message, input.findings ?? [], [...targets.values()]);
  }

  #forget(incident: OpenIncident): void {
    this.#clearHeld(incident);
    this.#incidents.delete(incident.group);
  }

  #txLinks(chainId: number, hashes: readonly (string | undefined)[]): AlertLink[] {
    const base = this.#config.explorers[String(chainId)];
    if (!base) return [];
    const unique = [...new Set(hashes.filter((h): h is string => !!h))].slice(0, 5);
    return unique.map((h) => ({ label: `tx ${h.slice(0, 10)}…`, url: `${base.replace(/\/+$/, "")}/tx/${h}` }));
  }

  /**
   * Records and sends an alert about `findings`. A message lists at most MAX_LISTED of them, so a flood
   * of findings (which an attacker can cause) cannot make alerts too large for their channels; the
   * alert log keeps every one, so each can still be retracted.
   */
  async #raise(draft: Omit<AlertMessage, "findings">, findings: readonly Finding[], targets: readonly AlertTarget[]): Promise<void> {
    const listed = findings.slice(0, MAX_LISTED);
    const message: AlertMessage = {
      ...draft,
      findings: listed.map(toAlertFinding),
      details: listed.length < findings.length ? [...draft.details, `…and ${findings.length - listed.length} more findings, all in the alert log.`] : draft.details,
    };
    const announced = draft.kind === "retraction" ? [] : findings.map((f) => f.id);
    const deliveries = await this.#deps.store.recordAlert(message, announced, targets, Date.now());
    if (!deliveries) {
      // Another process sharing the store announced this trip or lift first; its alert carries ours.
      const earlier = await this.#deps.store.incidentAlert(message.kind as "trip" | "lift", message.incidentId!);
      if (earlier) await this.#deps.store.addFindings(earlier.id, announced);
      this.#log.info({ alert_id: message.id, kind: message.kind, incident_id: message.incidentId }, "alert already raised for this incident");
      return;
    }
    this.#deps.metrics?.alerts.inc({ kind: message.kind, severity: message.severity });
    this.#log.info(
      { alert_id: message.id, kind: message.kind, severity: message.severity, incident: message.incidentKey, targets: deliveries.length },
      targets.length > 0 ? "alert raised" : "alert raised with no matching route",
    );
    for (const d of deliveries) this.#schedule(d, message);
  }

  #schedule(delivery: DeliveryRow, message: AlertMessage): void {
    const key = `${delivery.notifier}\n${delivery.recipient}\n${message.incidentKey}`;
    const tail = this.#chains.get(key) ?? Promise.resolve();
    this.#scheduled.add(delivery.id);
    const next = tail
      .then(() => this.#deliver(delivery, message))
      // Only the store can throw here (e.g. closed under a delivery that outlived close()); the delivery
      // then stays pending and resumes on the next start.
      .catch((err: unknown) => this.#log.error({ err, alert_id: message.id, notifier: delivery.notifier }, "alert delivery bookkeeping failed"));
    this.#chains.set(key, next);
    this.#inFlight.add(next);
    void next.finally(() => {
      this.#scheduled.delete(delivery.id);
      this.#inFlight.delete(next);
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
  }

  async #deliver(delivery: DeliveryRow, message: AlertMessage): Promise<void> {
    const { store } = this.#deps;
    const log = this.#log.child({ alert_id: message.id, notifier: delivery.notifier, delivery_id: delivery.id });
    const notifier = this.#deps.notifiers.get(delivery.notifier);
    if (!notifier) {
      await store.setStatus(delivery.id, "failed", `no notifier named "${delivery.notifier}" in the current config`, Date.now());
      log.error("alert delivery failed: its notifier is no longer configured");
      return;
    }
    const { maxAttempts } = this.#config.retry;
    const ttl = this.#deps.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS;
    // Attempts already made (by this process before, or by a guardian that died) count against maxAttempts.
    let attempt = delivery.attempts;
    while (!this.#stopped) {
      // Claimed (or the claim renewed) before every attempt: a delivery is sent only by its claim's holder.
      if (!(await store.claimDelivery(delivery.id, this.#claimant, Date.now(), ttl))) {
        log.info("delivery claimed by another guardian (or already finished); not sent from here");
        return;
      }
      attempt++;
      await store.startAttempt(delivery.id, attempt, Date.now());
      try {
        await notifier.send(message, delivery.recipient || undefined);
        await store.finishAttempt(delivery.id, attempt, { ok: true }, Date.now());
        await store.setStatus(delivery.id, "delivered", null, Date.now());
        this.#deps.metrics?.attempts.inc({ notifier: delivery.notifier, outcome: "delivered" });
        log.info({ attempt }, "alert delivered");
        return;
      } catch (err) {
        const failure =
          err instanceof DeliveryError ? err : new DeliveryError(`${notifier.type}: unexpected failure`, { retryable: false, cause: err });
        await store.finishAttempt(delivery.id, attempt, { ok: false, retryable: failure.retryable, error: failure.message }, Date.now());
        const givesUp = !failure.retryable || attempt >= maxAttempts;
        this.#deps.metrics?.attempts.inc({ notifier: delivery.notifier, outcome: givesUp ? "failed" : "retried" });
        if (givesUp) {
          await store.setStatus(delivery.id, "failed", failure.message, Date.now());
          log.error({ attempt, err: failure.message, retryable: failure.retryable }, "alert delivery failed");
          return;
        }
        if (this.#closing) {
          log.warn({ attempt, err: failure.message }, "alert delivery failed during shutdown; it resumes on the next start");
          await store.releaseDelivery(delivery.id, this.#claimant);
          return;
        }
        const delayMs = this.#backoff(attempt, failure.retryAfterMs);
        log.warn({ attempt, retry_in_ms: delayMs, err: failure.message }, "alert delivery failed, retrying");
        await this.#sleep(delayMs);
        if (this.#closing) {
          await store.releaseDelivery(delivery.id, this.#claimant);
          return;
        }
      }
    }
  }

  /** Exponential with jitter, honouring the service's Retry-After, never above maxDelayMs. */
  #backoff(attempt: number, retryAfterMs: number | undefined): number {
    const { initialDelayMs, maxDelayMs } = this.#config.retry;
    const exponential = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
    const jittered = exponential / 2 + Math.random() * (exponential / 2);
    return Math.min(maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#sleeps.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.#sleeps.add(entry);
    });
  }
}
