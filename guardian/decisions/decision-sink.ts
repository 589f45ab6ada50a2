import { keccak256, toUtf8Bytes } from "ethers";
import type { Logger } from "pino";
import type { ReorgEvent } from "../chain/types";
import type { BlockContext } from "../context/types";
import type { Finding } from "../detectors/types";
import type { IncidentAlert } from "../notifiers/dispatcher";
import type { IncidentRecord, IncidentRecorder } from "../reports/incident-record";
import type { TripProgress, TripRequest, TripResponder } from "../responders/types";
import { breakerContractsOf, decide } from "./policy";
import type { PolicyConfig } from "./policy-config";
import { tripInForce, type TripCheck } from "./trip-check";
import type { TripMetrics } from "./trip-metrics";
import type { FindingSink } from "./types";

/** The alert stage, told of each trip as it lands. */
export interface TripAlerts {
  alertTrip(incident: IncidentAlert): void;
  /** The alert stage's intake for the guardian's own findings (report files not written, ...). */
  onFindings?(findings: Finding[], block: BlockContext): Promise<void>;
}

/** A policy breaker entry resolved against the config: where it lives and who trips it. */
export interface ResolvedBreaker {
  chainId: number;
  /** The protected contract (lowercase) whose findings trip this breaker. */
  contract: string;
  contractName: string;
  breaker: string;
  responder: TripResponder;
  timelock?: string;
}

export interface DecisionSinkDeps {
  policy: Pick<PolicyConfig, "dryRun" | "rules" | "tripSeverity"> & Partial<Pick<PolicyConfig, "shutdownGraceMs">>;
  breakers: ResolvedBreaker[];
  recorder: IncidentRecorder;
  /** Reads whether a breaker is tripped now (to attach later findings to the incident that tripped it). */
  isTripped(chainId: number, breaker: string): Promise<boolean>;
  /** Reads on the canonical chain whether a trip transaction is included and the breaker tripped (`checkTrip`). */
  checkTrip(chainId: number, breaker: string, txHash: string): Promise<TripCheck>;
  logger: Logger;
  metrics?: TripMetrics;
  /** Where landed trips are announced; see `announceTripsTo`. */
  alerts?: TripAlerts;
  /** Wall clock, replaceable in tests. */
  now?: () => number;
}

interface ActiveTrip {
  incidentId: string;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The trip path: applies the decision policy to every finding and hands trips to the responders
 * without waiting for them to land, so the pipeline (and the alert sinks after this one) move on at
 * once. One incident per breaker at a time: findings for a breaker whose trip is in flight, or that is
 * already tripped by our incident, join that incident instead of starting another.
 */
export class DecisionSink implements FindingSink {
  readonly name = "decisions";
  private readonly active = new Map<string, ActiveTrip>();
  /** The last incident that tripped each breaker (key: chain:breaker). */
  private readonly lastTripped = new Map<string, string>();
  private readonly log: Logger;
  private readonly now: () => number;
  private alerts?: TripAlerts;
  private closed = false;
  private resumeTimer?: NodeJS.Timeout;
  /** The incidents that tripped each breaker, read from the store once on start. */
  private readonly ready: Promise<void>;
  /** Tail of each breaker's decisions in progress (see startTrip). */
  private readonly starting = new Map<string, Promise<void>>();

  constructor(private readonly deps: DecisionSinkDeps) {
    this.log = deps.logger;
    this.now = deps.now ?? Date.now;
    this.alerts = deps.alerts;
    // After a restart, later findings still join the incident that tripped their breaker.
    this.ready = deps.recorder.list().then((records) => {
      for (const r of records) if (r.status === "tripped" && !this.lastTripped.has(keyOf(r.chainId, r.breaker))) this.lastTripped.set(keyOf(r.chainId, r.breaker), r.id);
    });
    this.ready.catch((err: unknown) => this.log.error({ err }, "could not read the incidents from the store"));
  }

  /**
   * Announces every trip this sink lands to the alert stage, at inclusion. The alert stage is created after
   * this sink (the trip path comes first), hence a setter. failsafe-watch reports the same trip from its
   * Tripped event; the alert log keeps one trip alert per incident id, whichever comes first.
   */
  announceTripsTo(alerts: TripAlerts): void {
    this.alerts = alerts;
  }

  async onFindings(findings: Finding[], block: BlockContext): Promise<void> {
    const detectedAt = this.now();
    await this.ready;
    if (!block.pending) for (const f of findings) await this.recordLifted(f);
    const groups = new Map<string, { target: ResolvedBreaker; findings: Finding[] }>();
    for (const finding of findings) {
      const contracts = breakerContractsOf(finding);
      const targets = this.deps.breakers
        .filter((b) => b.chainId === finding.chainId && contracts.includes(b.contract))
        .sort((a, b) => contracts.indexOf(a.contract) - contracts.indexOf(b.contract));
      // Rules name the finding's own contract; a breaker reached through the contract read lends no name.
      const decision = decide(finding, this.deps.policy, targets.find((b) => b.contract === finding.contract?.toLowerCase())?.contractName);
      this.log.info(
        { finding_id: finding.id, detector_id: finding.detectorId, severity: finding.severity, contract: finding.contract, action: decision.action, rule: decision.rule, pending: block.pending === true },
        "decision",
      );
      if (decision.action !== "trip") continue;
      if (targets.length === 0) {
        this.log.warn({ finding_id: finding.id, contract: finding.contract }, "finding calls for a trip but its contract has no breaker in policy.breakers; alerting only");
        continue;
      }
      for (const target of targets) {
        const key = keyOf(target.chainId, target.breaker);
        const group = groups.get(key) ?? { target, findings: [] };
        group.findings.push(finding);
        groups.set(key, group);
      }
    }
    for (const { target, findings: grouped } of groups.values()) await this.startTrip(target, grouped, block, detectedAt);
  }

  /**
   * Marks the findings of orphaned blocks retracted (calling off trips still in flight whose findings are all
   * gone), then checks every trip the reorg touched against the new branch (see `onReorg`).
   */
  async onRetractions(retracted: Finding[], reorg: ReorgEvent): Promise<void> {
    await this.ready;
    for (const f of retracted) {
      const lifted = liftedEvent(f);
      if (lifted && (await this.deps.recorder.reopenAfterReorg(lifted.incidentId, f.txHash!, reorg.depth))) {
        this.log.warn({ incident_id: lifted.incidentId, tx_hash: f.txHash }, "the block that lifted an incident was orphaned: the incident is open again until the lift is seen on the new branch");
      }
    }
    const ids = retracted.map((f) => f.id);
    const shape = { depth: reorg.depth, commonAncestor: reorg.commonAncestor.number };
    const trippedAndRetracted: string[] = [];
    for (const incident of await this.deps.recorder.list()) {
      const record = await this.deps.recorder.retract(incident.id, ids, shape);
      if (!record) continue;
      const allRetracted = record.findings.every((f) => f.retracted);
      const active = [...this.active.values()].find((a) => a.incidentId === record.id);
      this.log.warn({ incident_id: record.id, status: record.status, all_retracted: allRetracted, in_flight: active !== undefined }, "findings behind an incident were retracted by a reorg");
      if (allRetracted && active) active.controller.abort();
      if (allRetracted && record.status === "tripped") trippedAndRetracted.push(record.id);
    }
    await this.checkTripsAfterReorg(reorg, trippedAndRetracted);
  }

  /**
   * Every reorg, whether or not it retracted findings: a trip included in an orphaned block may be missing
   * from the new branch, so each such incident is checked on the canonical chain. The trip stands if the new
   * branch re-included it (the new block is recorded); otherwise it is resubmitted with the same incident id
   * while findings stand, or the incident is aborted once every finding was retracted. Checking twice for one
   * reorg (from `onRetractions` and here) is harmless: a checked incident no longer points at an orphaned block.
   */
  async onReorg(reorg: ReorgEvent): Promise<void> {
    await this.ready;
    await this.checkTripsAfterReorg(reorg, []);
  }

  private async checkTripsAfterReorg(reorg: ReorgEvent, retractedIds: string[]): Promise<void> {
    const orphaned = new Set(reorg.orphaned.map((b) => b.hash.toLowerCase()));
    for (const record of await this.deps.recorder.list()) {
      if (record.chainId !== reorg.chainId || record.status !== "tripped" || !record.trip) continue;
      const tripOrphaned = orphaned.has(record.trip.blockHash.toLowerCase());
      if (!tripOrphaned && !retractedIds.includes(record.id)) continue;
      try {
        await this.checkTrip(record, reorg, tripOrphaned);
      } catch (err) {
        this.log.error({ err, incident_id: record.id, trip_block: record.trip.blockNumber }, "could not check the trip on the new branch after a reorg; it is checked again on the next reorg");
      }
    }
  }

  private async checkTrip(record: IncidentRecord, reorg: ReorgEvent, tripOrphaned: boolean): Promise<void> {
    const trip = record.trip!;
    const check = await this.deps.checkTrip(record.chainId, record.breaker, trip.txHash);
    const allRetracted = record.findings.length > 0 && record.findings.every((f) => f.retracted);
    const standing = tripInForce(check, record.id) && check.inclusion !== undefined;
    const verdict = standing || !tripOrphaned ? "stands" : allRetracted ? "abort" : "resubmit";
    const target = this.deps.breakers.find((b) => b.chainId === record.chainId && b.breaker === record.breaker);
    if (verdict === "resubmit" && !target) {
      this.log.error({ incident_id: record.id, breaker: record.breaker }, "trip reorged out but its breaker is no longer in policy.breakers; cannot resubmit");
      return;
    }
    const shape = { depth: reorg.depth, commonAncestor: reorg.commonAncestor.number };
    const updated = await this.deps.recorder.recordReorgCheck(record.id, { reorg: shape, tripOrphaned, check, verdict });
    this.log.warn(
      { incident_id: record.id, trip_tx: trip.txHash, old_block: trip.blockNumber, new_block: check.inclusion?.blockNumber, breaker_tripped: check.breakerTripped, breaker_incident: check.breakerIncident, all_retracted: allRetracted, verdict },
      verdict === "stands" ? "trip checked on the new branch: it stands" : verdict === "resubmit" ? "trip reorged out while its findings stand: resubmitting" : "trip reorged out and every finding retracted: incident aborted",
    );
    if (verdict === "stands") return;
    const key = keyOf(record.chainId, record.breaker);
    if (this.lastTripped.get(key) === record.id) this.lastTripped.delete(key);
    if (verdict === "resubmit") {
      const detectedAt = Date.parse(updated.timeline[0]?.at ?? new Date(this.now()).toISOString());
      this.launch(target!, { incidentId: record.id, breaker: target!.breaker, detectedAt, detectedBlock: updated.findings[0]?.blockNumber, dryRun: record.dryRun }, true);
    }
  }

  /**
   * Incident report files cannot be written (disk full, folder not writable): a critical `guardian-ops` finding to
   * the alert stage, once per episode. The trip never waited on the files; the store has every record.
   */
  alertReportFailure(err: Error, files: string[]): void {
    this.deps.recorder
      .list()
      .then((records) => this.reportFailureFinding(err, files, records))
      .catch((e: unknown) => this.log.error({ err: e }, "could not raise the report-write alert"));
  }

  private reportFailureFinding(err: Error, files: string[], records: IncidentRecord[]): void {
    const latest = records[records.length - 1];
    const chainId = latest?.chainId ?? this.deps.breakers[0]?.chainId ?? 0;
    const anchor = latest?.findings[0];
    const at = this.now();
    const finding: Finding = {
      id: keccak256(toUtf8Bytes(`guardian-ops:report-write:${at}`)),
      detectorId: "guardian-ops",
      severity: "critical",
      title: `Incident report files cannot be written (${(err as NodeJS.ErrnoException).code ?? err.message}); the store has the records and the write is retried`,
      chainId,
      blockNumber: anchor?.blockNumber ?? 0,
      blockHash: anchor?.blockHash ?? ZERO_TX,
      evidence: { kind: "report-write-failed", code: (err as NodeJS.ErrnoException).code ?? null, files: files.slice(0, 4), incidents: records.filter((r) => files.includes(r.files.json)).map((r) => r.id) },
    };
    const block: BlockContext = { chainId, number: finding.blockNumber, hash: finding.blockHash, parentHash: "", timestamp: Math.floor(at / 1000), transactions: [] };
    this.alerts?.onFindings?.([finding], block).catch((e: unknown) => this.log.error({ err: e }, "could not hand the report-write alert to the alert stage"));
  }

  /** What /healthz must show about the trip path: incident reports that could not be written. */
  problems(): string[] {
    const unwritten = this.deps.recorder.unwrittenReports;
    return unwritten > 0 ? [`${unwritten} incident report(s) could not be written (the store has them; retrying)`] : [];
  }

  /** Resolves when every trip started so far has settled and been recorded. */
  async settled(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  /**
   * Shutdown: trips in flight get `policy.shutdownGraceMs` to land; then the responders stop resubmitting without
   * cancelling anything (the trips stay `sent` and the next start resumes them). Resolves once every outcome is
   * committed, so the caller may close the store after it.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    const grace = this.deps.policy.shutdownGraceMs ?? 0;
    if (this.active.size > 0 && grace > 0) {
      this.log.info({ in_flight: [...this.active.values()].map((a) => a.incidentId), grace_ms: grace }, "shutdown: waiting for trips in flight to land");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.settled(), new Promise<void>((resolve) => (timer = setTimeout(resolve, grace)))]);
      clearTimeout(timer);
    }
    const responders = new Set(this.deps.breakers.map((b) => b.responder));
    await Promise.all([...responders].map((r) => r.close?.()));
    await this.settled();
    this.deps.recorder.close();
  }

  /**
   * On start (or, with several guardians on one store, when this one is elected for `chainId`): every incident whose
   * trip was in flight when the last process (or leader) stopped (status `tripping`) is checked
   * on-chain (the breaker and each trip transaction it signed) and then recorded as included, superseded or
   * aborted, or sent again with the same incident id. A failed check is retried, never dropped.
   */
  async resume(chainId?: number): Promise<void> {
    await this.ready;
    const records = (await this.deps.recorder.list()).filter((r) => chainId === undefined || r.chainId === chainId);
    // Elected for a chain on a shared store: the incidents the previous leader tripped are the ones later findings join.
    for (const r of records) if (r.status === "tripped") this.lastTripped.set(keyOf(r.chainId, r.breaker), r.id);
    const open = records.filter((r) => r.status === "tripping" && !r.dryRun);
    let failed = false;
    for (const record of open) {
      if (this.closed) return;
      if ([...this.active.values()].some((a) => a.incidentId === record.id)) continue;
      try {
        await this.resumeOne(record);
      } catch (err) {
        failed = true;
        this.log.error({ err, incident_id: record.id }, "could not check an interrupted trip on-chain; retrying");
      }
    }
    if (failed && !this.closed) {
      this.resumeTimer = setTimeout(() => void this.resume(chainId), 2_000);
      this.resumeTimer.unref();
    }
  }

  private async resumeOne(record: IncidentRecord): Promise<void> {
    const target = this.deps.breakers.find((b) => b.chainId === record.chainId && b.breaker === record.breaker);
    const known = record.tripState?.txHashes ?? [];
    const key = keyOf(record.chainId, record.breaker);
    // The breaker's state and each signed version's receipt, at one head each.
    let landed: { check: TripCheck; txHash: string } | undefined;
    let lastCheck: TripCheck | undefined;
    for (const txHash of known) {
      const check = await this.deps.checkTrip(record.chainId, record.breaker, txHash);
      lastCheck = check;
      if (check.inclusion?.succeeded && tripInForce(check, record.id)) {
        landed = { check, txHash };
        break;
      }
    }
    if (!lastCheck) lastCheck = await this.deps.checkTrip(record.chainId, record.breaker, ZERO_TX);
    const phase = record.tripState?.phase ?? "decided";
    if (landed) {
      const updated = await this.deps.recorder.recordResume(record.id, { check: landed.check, txHash: landed.txHash, verdict: "included" });
      this.log.warn({ incident_id: record.id, phase, tx_hash: landed.txHash, block_number: landed.check.inclusion?.blockNumber }, "resumed trip: it landed while the guardian was down");
      this.lastTripped.set(key, record.id);
      this.alerts?.alertTrip({ incidentId: record.id, chainId: record.chainId, breaker: record.breaker, ...(target && target.contract !== target.breaker ? { contract: target.contract } : {}), findings: updated.findings, txHash: landed.txHash, blockNumber: landed.check.inclusion?.blockNumber });
      return;
    }
    if (lastCheck.breakerTripped && !tripInForce(lastCheck, record.id)) {
      await this.deps.recorder.recordResume(record.id, { check: lastCheck, verdict: "superseded", trippedBy: { incidentId: lastCheck.breakerIncident, guardian: "" } });
      this.log.warn({ incident_id: record.id, phase, breaker_incident: lastCheck.breakerIncident }, "resumed trip: the breaker was tripped for another incident meanwhile");
      return;
    }
    const allRetracted = record.findings.length > 0 && record.findings.every((f) => f.retracted);
    if (allRetracted || !target) {
      await this.deps.recorder.recordResume(record.id, { check: lastCheck, verdict: "aborted" });
      this.log.warn({ incident_id: record.id, phase, all_retracted: allRetracted, breaker_configured: target !== undefined }, "resumed trip: aborted");
      return;
    }
    if (tripInForce(lastCheck, record.id)) {
      // Tripped for this incident by a version whose receipt the node no longer serves: the trip stands.
      await this.deps.recorder.recordResume(record.id, { check: lastCheck, txHash: known[known.length - 1], verdict: "included" });
      this.lastTripped.set(key, record.id);
      return;
    }
    await this.deps.recorder.recordResume(record.id, { check: lastCheck, ...(known.length > 0 ? { txHash: known[known.length - 1] } : {}), verdict: "resend" });
    this.log.warn({ incident_id: record.id, phase, known_txs: known.length }, "resumed trip: nothing landed while the guardian was down; sending it again");
    const detectedAt = Date.parse(record.timeline[0]?.at ?? record.openedAt);
    this.launch(target, { incidentId: record.id, breaker: target.breaker, detectedAt, detectedBlock: record.findings[0]?.blockNumber, dryRun: false, knownTxHashes: known }, true);
  }

  /** A lift seen on chain closes the incident it names (and ours that it beat), whoever executed it. */
  private async recordLifted(f: Finding): Promise<void> {
    const lifted = liftedEvent(f);
    if (!lifted) return;
    const records = (await this.deps.recorder.list()).filter((r) => r.id === lifted.incidentId || r.trippedBy?.incidentId.toLowerCase() === lifted.incidentId);
    for (const r of records) await this.deps.recorder.recordLift(r.id, { txHash: f.txHash!, blockNumber: f.blockNumber, ...(lifted.liftedBy ? { liftedBy: lifted.liftedBy } : {}) });
  }

  /**
   * One decision per breaker at a time: the store is read and written (asynchronously) between "is a trip running?"
   * and launching one, so concurrent findings for one breaker wait here and then join the trip the first launched.
   */
  private startTrip(target: ResolvedBreaker, findings: Finding[], block: BlockContext, detectedAt: number): Promise<void> {
    const key = keyOf(target.chainId, target.breaker);
    const next = (this.starting.get(key) ?? Promise.resolve()).then(() => this.startTripNow(target, findings, block, detectedAt));
    const tail = next.catch(() => undefined);
    this.starting.set(key, tail);
    void tail.then(() => {
      if (this.starting.get(key) === tail) this.starting.delete(key);
    });
    return next;
  }

  private async startTripNow(target: ResolvedBreaker, findings: Finding[], block: BlockContext, detectedAt: number): Promise<void> {
    const key = keyOf(target.chainId, target.breaker);
    const running = this.active.get(key);
    if (running) {
      await this.deps.recorder.addFindings(running.incidentId, findings);
      return;
    }
    const previous = this.lastTripped.get(key);
    if (previous && (await this.deps.isTripped(target.chainId, target.breaker))) {
      await this.deps.recorder.addFindings(previous, findings);
      this.log.info({ incident_id: previous, breaker: target.breaker, findings: findings.map((f) => f.id) }, "breaker already tripped by this incident; findings added to it");
      return;
    }

    const incidentId = keccak256(toUtf8Bytes(`failsafe:${target.chainId}:${target.breaker}:${findings[0].id}`));
    const decided = await this.deps.recorder.decision(incidentId);
    if (decided) {
      // The same finding seen again (a restart, a replay): its decision (a dry run, or already tripped) stands.
      this.log.info({ incident_id: incidentId, status: decided.status }, "finding of a trip decision already settled; no second trip");
      return;
    }
    const existing = await this.deps.recorder.get(incidentId);
    if (existing && existing.status !== "tripping" && existing.status !== "aborted" && existing.status !== "failed") {
      // The same finding seen again (a store rebuilt from the reports, a replay): the incident's outcome stands.
      await this.deps.recorder.addFindings(incidentId, findings);
      this.log.warn({ incident_id: incidentId, status: existing.status }, "finding of an incident already decided; findings added, no second trip");
      return;
    }
    // Committed ("decided") before the trip is launched; the report files are written after it.
    await this.deps.recorder.open({ id: incidentId, chainId: target.chainId, breaker: target.breaker, findings, dryRun: this.deps.policy.dryRun }, { deferFiles: true });
    this.launch(target, {
      incidentId,
      breaker: target.breaker,
      detectedAt,
      detectedBlock: block.number,
      dryRun: this.deps.policy.dryRun,
      ...(block.pending ? { frontRun: attackerFee(findings, block) } : {}),
    });
  }

  /** Hands the trip to the responder without waiting; `resumed`: a resubmission after a reorg orphaned the first trip. */
  private launch(target: ResolvedBreaker, trip: Omit<TripRequest, "signal">, resumed = false): void {
    const key = keyOf(target.chainId, target.breaker);
    const { incidentId } = trip;
    const controller = new AbortController();
    const journal = async (progress: TripProgress): Promise<void> => {
      try {
        await this.deps.recorder.recordTripProgress(incidentId, progress, { resumed });
      } catch (err) {
        // The trip goes on: losing the journal costs a resume after a crash, stopping would cost the funds.
        this.log.fatal({ err, incident_id: incidentId, phase: progress.phase, tx_hash: progress.txHash }, "could not commit the trip's progress to the store; the trip continues");
      }
    };
    const request: TripRequest = { ...trip, signal: controller.signal, ...(trip.dryRun ? {} : { journal }) };
    const done = target.responder
      .trip(request)
      .then(async (outcome) => {
        this.deps.metrics?.record(target.chainId, outcome);
        const record = await this.deps.recorder.recordOutcome(incidentId, outcome, { resumed });
        const winner = outcome.trippedBy?.incidentId.toLowerCase();
        // Our trip lost to an incident this store has: later findings for the breaker join that incident.
        if (outcome.status === "already-tripped" && winner && (await this.deps.recorder.get(winner))?.status === "tripped") this.lastTripped.set(key, winner);
        if (outcome.status !== "included") return;
        this.lastTripped.set(key, incidentId);
        this.alerts?.alertTrip({
          incidentId,
          chainId: target.chainId,
          breaker: target.breaker,
          ...(target.contract !== target.breaker ? { contract: target.contract } : {}),
          findings: record.findings,
          ...(record.trip ? { txHash: record.trip.txHash, blockNumber: record.trip.blockNumber } : {}),
        });
      })
      .catch((err: unknown) => this.log.error({ err, incident_id: incidentId }, "trip responder failed"))
      .finally(() => this.active.delete(key));
    this.active.set(key, { incidentId, controller, done });
  }
}

/** The incident a failsafe-watch `Lifted` finding names, and who lifted it. */
function liftedEvent(f: Finding): { incidentId: string; liftedBy?: string } | undefined {
  if (f.detectorId !== "failsafe-watch" || f.evidence.event !== "Lifted" || !f.txHash) return undefined;
  const args = (f.evidence.args ?? {}) as Record<string, unknown>;
  if (typeof args.incidentId !== "string") return undefined;
  return { incidentId: args.incidentId.toLowerCase(), ...(typeof args.liftedBy === "string" ? { liftedBy: args.liftedBy } : {}) };
}

/** A hash no transaction has: checkTrip then reads only the breaker. */
const ZERO_TX = `0x${"00".repeat(32)}`;

function keyOf(chainId: number, breaker: string): string {
  return `${chainId}:${breaker.toLowerCase()}`;
}

/** The fee of the pending transaction a finding is about, for the trip to outbid. */
function attackerFee(findings: Finding[], block: BlockContext): TripRequest["frontRun"] {
  for (const f of findings) {
    const tx = block.transactions.find((t) => t.hash.toLowerCase() === f.txHash?.toLowerCase());
    if (!tx) continue;
    // For a pending EIP-1559 transaction the node reports its max fee as gasPrice.
    return tx.maxPriorityFeePerGas !== undefined
      ? { txHash: tx.hash, maxPriorityFeePerGas: tx.maxPriorityFeePerGas, maxFeePerGas: tx.gasPrice }
      : { txHash: tx.hash, maxPriorityFeePerGas: tx.gasPrice };
  }
  return undefined;
}
