import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { Provider } from "ethers";
import { CircuitBreaker__factory, TimelockController__factory } from "../../typechain-types";
import type { Finding } from "../detectors/types";
import type { TimelineEntry, TripOutcome, TripProgress } from "../responders/types";
import { IncidentFileWriter, preserveOtherIncarnation, type RenderedFile } from "./incident-files";
import { fenceFor, markdownInline, stripControl } from "../notifiers/neutralise";
import type { IncidentRecordStore } from "../state/store";
import { describeTripCheck, tripInForce, type TripCheck } from "../decisions/trip-check";
import { buildGovernancePayload, ratifyExpiry, type GovernanceDecision, type GovernancePayload } from "./governance-payloads";

export type IncidentStatus = "tripping" | "tripped" | "already-tripped" | "dry-run" | "failed" | "aborted" | "lifted";

/** A governance step taken on the incident: a decision scheduled through the timelock, or executed. */
export interface GovernanceLogEntry {
  decision: GovernanceDecision;
  step: "scheduled" | "executed";
  at: string;
  /** The timelock operation (hashOperation of the call below). */
  operationId: string;
  timelock: string;
  /** The exact call the timelock executes, so `failsafe governance execute` repeats what was scheduled. */
  call: { to: string; data: string; predecessor: string; salt: string };
  txHash: string;
  blockNumber: number;
  /** For `scheduled`: unix seconds from which it can execute. */
  readyAt?: number;
}

/**
 * The trip as a persisted state machine: decided -> signed -> sent -> included | superseded | aborted. Each
 * transition is committed to the store before the side effect that follows it (signing, sending), so after any
 * stop the next start knows whether a transaction may be out there and checks the chain before doing anything.
 */
export type TripPhase = "decided" | "signed" | "sent" | "included" | "superseded" | "aborted";

export interface TripState {
  phase: TripPhase;
  /** Every trip transaction signed for this incident (every fee version): any of them may land. */
  txHashes: string[];
  nonce?: number;
  updatedAt: string;
}

export interface IncidentFinding extends Finding {
  /** Set when a reorg orphaned the block the finding was seen in. */
  retracted?: { at: string; reorgDepth: number; commonAncestor: number };
}

/** Everything known about one trip decision; rendered to `<reports>/incident-<id>.{json,md}`. */
export interface IncidentRecord {
  /** The bytes32 incident id passed to `trip`. */
  id: string;
  chainId: number;
  breaker: string;
  breakerName?: string;
  status: IncidentStatus;
  dryRun: boolean;
  /** Where the trip is in its state machine (live trips only). */
  tripState?: TripState;
  openedAt: string;
  updatedAt: string;
  findings: IncidentFinding[];
  timeline: TimelineEntry[];
  bundleHashes: string[];
  trip?: { txHash: string; blockNumber: number; blockHash: string; via: "bundle" | "public" };
  /** For `already-tripped`: the trip that beat ours. */
  trippedBy?: { incidentId: string; guardian: string };
  /** Milliseconds from detection to inclusion, when the trip landed. */
  detectToIncludeMs?: number;
  error?: string;
  /**
   * Ready-made payloads to lift or ratify the trip (timelock calldata, Governor proposal, Safe batches),
   * built when the trip lands; the governor report rebuilds all four decisions from the chain's state.
   */
  governance: GovernancePayload[];
  /** What governance has scheduled and executed about this incident. */
  governanceLog?: GovernanceLogEntry[];
  /** Set once the trip was lifted (status `lifted`), by whoever executed it. */
  lift?: { txHash: string; blockNumber: number; liftedBy?: string; at: string };
  notes: string[];
  files: { json: string; markdown: string };
}

export interface IncidentRecorderDeps {
  store: IncidentRecordStore;
  /** The reports folder; created with the first incident. */
  dir: string;
  logger: Logger;
  /** A provider for the chain, to read the breaker's incident and the timelock's delay. */
  provider(chainId: number): Provider | undefined;
  /** The configured name and governing timelock of a breaker. */
  breakerInfo(chainId: number, breaker: string): { name?: string; timelock?: string };
  /** How long the recorded ratification payload extends the trip (default 7 days, at most 30). */
  ratifyForSeconds?: number;
  /** Told when report files cannot be written (they are retried; the store keeps the record). Logs when unset. */
  onReportError?(err: Error, files: string[]): void;
}

const STATUS_OF: Record<TripOutcome["status"], IncidentStatus> = {
  included: "tripped",
  "already-tripped": "already-tripped",
  "dry-run": "dry-run",
  failed: "failed",
  aborted: "aborted",
  // Shutdown while the trip waited: still in flight, resumed on the next start.
  interrupted: "tripping",
};

const PHASE_OF: Partial<Record<TripOutcome["status"], TripPhase>> = {
  included: "included",
  "already-tripped": "superseded",
  failed: "aborted",
  aborted: "aborted",
};

/**
 * Opens and updates incidents: each trip decision is one incident, kept in SQLite and rewritten as JSON
 * and Markdown on every change (atomically, so a reader never sees half a file).
 */
export class IncidentRecorder {
  readonly #files: IncidentFileWriter;
  /** Dry runs in flight: kept in memory until their outcome is recorded as a decision (never an incident). */
  readonly #rehearsals = new Map<string, IncidentRecord>();

  constructor(private readonly deps: IncidentRecorderDeps) {
    this.#files = new IncidentFileWriter({
      onError: (err, files) => {
        if (deps.onReportError) deps.onReportError(err, files);
        else deps.logger.error({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code }, files }, "could not write incident report files; the store has the record and the write is retried");
      },
      onRecovered: () => deps.logger.info({ dir: deps.dir }, "incident report files written again"),
    });
  }

  /** Incidents whose report files are not written yet (the folder is not writable). */
  get unwrittenReports(): number {
    return this.#files.pending;
  }

  /** Tries the pending report writes now; true when every report is on disk. */
  flushReports(): boolean {
    return this.#files.flush();
  }

  close(): void {
    this.#files.flush();
    this.#files.close();
  }

  /**
   * Imports incident records found in the reports folder that the store does not have: the store was deleted or
   * replaced, and the report files are the only evidence left. Returns the recovered records.
   */
  async recoverFromReports(): Promise<IncidentRecord[]> {
    if (!existsSync(this.deps.dir)) return [];
    const recovered: IncidentRecord[] = [];
    for (const name of readdirSync(this.deps.dir)) {
      if (!/^incident-[0-9a-f]{12}\.json$/.test(name)) continue;
      let record: IncidentRecord;
      try {
        record = JSON.parse(readFileSync(path.join(this.deps.dir, name), "utf8")) as IncidentRecord;
      } catch {
        continue;
      }
      if (typeof record.id !== "string" || (await this.deps.store.get(record.id))) continue;
      record.notes = [...(record.notes ?? []), `Recovered from ${name} at ${new Date().toISOString()}: the guardian's store did not have this incident (deleted or replaced).`];
      // Only where no guardian sharing the store has it meanwhile.
      if (await this.deps.store.insert(record)) recovered.push(record);
    }
    return recovered;
  }

  async get(id: string): Promise<IncidentRecord | undefined> {
    return (await this.deps.store.get(id)) ?? this.#rehearsals.get(id);
  }

  /** Incidents: trips that landed, are in flight, failed or were aborted. */
  list(): Promise<IncidentRecord[]> {
    return this.deps.store.list();
  }

  /** A settled decision that tripped nothing (dry run, or already tripped by another incident), if `id` is one. */
  decision(id: string): Promise<IncidentRecord | undefined> {
    return this.deps.store.decision(id);
  }

  /** Every settled decision that tripped nothing, oldest first. */
  decisions(): Promise<IncidentRecord[]> {
    return this.deps.store.decisions();
  }

  /** `deferFiles`: the report files are written after the current task (the trip path launches the trip first). */
  async open(input: { id: string; chainId: number; breaker: string; findings: Finding[]; dryRun: boolean; notes?: string[] }, options: { deferFiles?: boolean } = {}): Promise<IncidentRecord> {
    const existing = await this.get(input.id);
    if (existing) return this.addFindings(input.id, input.findings);
    const now = new Date().toISOString();
    const base = path.join(this.deps.dir, `incident-${input.id.slice(2, 14)}`);
    const info = this.deps.breakerInfo(input.chainId, input.breaker);
    const record: IncidentRecord = {
      id: input.id,
      chainId: input.chainId,
      breaker: input.breaker.toLowerCase(),
      ...(info.name ? { breakerName: info.name } : {}),
      status: "tripping",
      dryRun: input.dryRun,
      ...(input.dryRun ? {} : { tripState: { phase: "decided" as const, txHashes: [], updatedAt: now } }),
      openedAt: now,
      updatedAt: now,
      findings: dedupe([], input.findings),
      timeline: [],
      bundleHashes: [],
      governance: [],
      notes: input.notes ?? [],
      files: { json: `${base}.json`, markdown: `${base}.md` },
    };
    if (input.dryRun) {
      // Nothing will be sent: no incident, no report files and no governance payloads a governor could act on.
      this.#rehearsals.set(record.id, record);
      this.deps.logger.info({ incident_id: record.id, breaker: record.breaker, findings: record.findings.map((f) => f.id) }, "dry run: trip decided, nothing will be sent");
      return record;
    }
    // Exactly once across guardians sharing the store: whoever inserts first opened it, the others add findings.
    if (!(await this.deps.store.insert(record, (r) => this.writeFiles(r, options.deferFiles)))) return this.addFindings(input.id, input.findings);
    this.deps.logger.info({ incident_id: record.id, breaker: record.breaker, findings: record.findings.map((f) => f.id), file: record.files.markdown }, "incident opened");
    return record;
  }

  addFindings(id: string, findings: Finding[]): Promise<IncidentRecord> {
    return this.update(id, (r) => {
      r.findings = dedupe(r.findings, findings);
    });
  }

  /**
   * Records how a trip ended. `resumed`: the outcome of a trip resubmitted after a reorg orphaned the first
   * one; its steps follow the incident's earlier timeline instead of replacing it.
   */
  async recordOutcome(id: string, outcome: TripOutcome, options: { resumed?: boolean } = {}): Promise<IncidentRecord> {
    // The breaker is tripped for this very incident: a guardian sharing the store landed the same trip first (both
    // race on one incident id). That is this incident tripped, not a separate decision: it must not be settled away.
    const byPeer = outcome.status === "already-tripped" && outcome.trippedBy?.incidentId.toLowerCase() === id.toLowerCase() && !this.#rehearsals.has(id);
    if (byPeer) {
      return this.update(id, (r) => {
        if (r.status === "tripping") r.status = "tripped";
        r.notes.push(`A trip by ${outcome.trippedBy?.guardian ?? "another guardian"} for this same incident landed before this guardian's; nothing more was sent.`);
      });
    }
    const governance = outcome.status === "included" && !this.#rehearsals.has(id) ? await this.readGovernance(id, outcome) : undefined;
    const record = await this.update(id, (r) => {
      r.status = STATUS_OF[outcome.status];
      r.timeline = options.resumed ? mergeTimeline(r.timeline, outcome.timeline) : outcome.timeline;
      r.bundleHashes = [...new Set([...r.bundleHashes, ...outcome.bundleHashes])];
      const phase = PHASE_OF[outcome.status];
      if (r.tripState && phase) r.tripState = { ...r.tripState, phase, txHashes: addHash(r.tripState.txHashes, outcome.txHash), updatedAt: new Date().toISOString() };
      if (outcome.status === "interrupted") r.notes.push(`Shutdown at ${new Date().toISOString()} while the trip waited for inclusion: its bundles were left at the relays and the next start resumes it.`);
      if (outcome.txHash && outcome.blockNumber !== undefined && outcome.blockHash && outcome.via) {
        r.trip = { txHash: outcome.txHash, blockNumber: outcome.blockNumber, blockHash: outcome.blockHash, via: outcome.via };
      }
      if (outcome.trippedBy) r.trippedBy = outcome.trippedBy;
      const included = outcome.timeline.find((e) => e.step === "included");
      if (included) r.detectToIncludeMs = included.ms;
      if (outcome.error) r.error = outcome.error;
      if (governance) r.governance = governance;
      if (r.findings.length > 0 && r.findings.every((f) => f.retracted) && r.status === "tripped") {
        r.notes.push(`The trip was included in block ${r.trip?.blockNumber} although every finding behind it was retracted by a reorg; governance should review and lift it.`);
      }
    });
    if (record.status === "dry-run" || record.status === "already-tripped" || (this.#rehearsals.has(id) && record.status !== "tripping")) await this.#settle(record);
    return record;
  }

  /**
   * A decision that tripped nothing leaves the incidents: a dry run is recorded as a decision only, and a trip
   * that found the breaker already tripped hands its findings to the incident that tripped it (when this store
   * has it: ours, or a guardian's sharing the store) and keeps the decision for the record. Its report files,
   * written while the trip was in flight, are removed so no governor acts on a trip that never happened.
   */
  async #settle(record: IncidentRecord): Promise<void> {
    this.#rehearsals.delete(record.id);
    const winner = record.trippedBy?.incidentId.toLowerCase();
    await this.deps.store.saveDecision(record);
    if (!record.dryRun) this.#files.discard(record.id, [record.files.json, record.files.markdown]);
    // The winner may be another guardian's incident on a shared store: its update serialises with theirs.
    if (winner && winner !== record.id.toLowerCase() && (await this.deps.store.get(winner))) {
      await this.updateIf(
        winner,
        (incident) => {
          const before = incident.findings.length;
          incident.findings = dedupe(incident.findings, record.findings);
          if (incident.findings.length === before) return false;
          incident.notes.push(`Findings of trip decision ${record.id} joined this incident: its trip found the breaker already tripped by this one.`);
        },
        true,
      );
    }
    this.deps.logger.info({ incident_id: record.id, status: record.status, tripped_by: winner }, record.dryRun ? "dry run recorded as a decision, not an incident" : "the breaker was already tripped: recorded as a decision, not an incident");
  }

  /**
   * Commits a trip's progress (`signed` before the transaction leaves the process, `sent` once relays have it).
   * Store only: the report files follow after, so the trip never waits on the disk of the reports folder.
   */
  recordTripProgress(id: string, progress: TripProgress, options: { resumed?: boolean } = {}): Promise<IncidentRecord> {
    return this.update(id, (r) => {
      const now = new Date().toISOString();
      const state = r.tripState ?? { phase: "decided" as const, txHashes: [], updatedAt: now };
      r.tripState = { phase: progress.phase, txHashes: addHash(state.txHashes, progress.txHash), nonce: progress.nonce, updatedAt: now };
      r.timeline = options.resumed ? mergeTimeline(r.timeline, progress.timeline) : progress.timeline;
      r.bundleHashes = [...new Set([...r.bundleHashes, ...progress.bundleHashes])];
    }, true);
  }

  /**
   * On start, for an incident whose trip was in flight when the last process stopped: what the chain shows and what
   * the guardian does (`included`: a known trip transaction landed; `superseded`: another incident tripped the
   * breaker; `aborted`: every finding was retracted; `resend`: nothing landed, the trip goes out again).
   */
  async recordResume(id: string, input: { check?: TripCheck; txHash?: string; verdict: "included" | "superseded" | "aborted" | "resend"; trippedBy?: { incidentId: string; guardian: string } }): Promise<IncidentRecord> {
    const updated = await this.update(id, (r) => {
      const now = new Date().toISOString();
      const since = r.timeline[0] ? Date.now() - Date.parse(r.timeline[0].at) : 0;
      const checked = input.check && input.txHash ? describeTripCheck(input.check, r.id, input.txHash) : input.check ? `checked on-chain at block ${input.check.head.number}: no trip transaction of this incident was signed` : "";
      r.timeline.push({ step: "resumed", at: now, ms: since, ...(input.check ? { blockNumber: input.check.head.number } : {}), detail: `restart found the trip ${r.tripState?.phase ?? "decided"}: ${input.verdict}` });
      r.notes.push(`Resumed after a restart with the trip ${r.tripState?.phase ?? "decided"}; ${checked || "nothing could be read"}; verdict: ${input.verdict}.`);
      const state = r.tripState ?? { phase: "decided" as const, txHashes: [], updatedAt: now };
      if (input.verdict === "included" && input.check?.inclusion && input.txHash) {
        r.status = "tripped";
        r.trip = { txHash: input.txHash, blockNumber: input.check.inclusion.blockNumber, blockHash: input.check.inclusion.blockHash, via: "bundle" };
        r.timeline.push({ step: "included", at: now, ms: since, blockNumber: input.check.inclusion.blockNumber, blockHash: input.check.inclusion.blockHash, txHash: input.txHash, detail: "found included after the restart" });
        r.tripState = { ...state, phase: "included", updatedAt: now };
      } else if (input.verdict === "superseded") {
        r.status = "already-tripped";
        if (input.trippedBy) r.trippedBy = input.trippedBy;
        r.tripState = { ...state, phase: "superseded", updatedAt: now };
      } else if (input.verdict === "aborted") {
        r.status = "aborted";
        r.tripState = { ...state, phase: "aborted", updatedAt: now };
      }
    });
    if (updated.status === "already-tripped") await this.#settle(updated);
    return updated;
  }

  /** Marks findings orphaned by a reorg; returns the record, or undefined if none of them belong to it. */
  async retract(id: string, findingIds: string[], reorg: { depth: number; commonAncestor: number }): Promise<IncidentRecord | undefined> {
    const record = await this.deps.store.get(id);
    if (!record || !record.findings.some((f) => findingIds.includes(f.id) && !f.retracted)) return undefined;
    return this.update(id, (r) => {
      const at = new Date().toISOString();
      for (const f of r.findings) if (findingIds.includes(f.id) && !f.retracted) f.retracted = { at, reorgDepth: reorg.depth, commonAncestor: reorg.commonAncestor };
      // A tripped incident gets its note from `recordReorgCheck`, which states what the chain shows.
      if (r.findings.every((f) => f.retracted) && r.status !== "tripped") {
        r.notes.push(`Every finding was retracted by a ${reorg.depth}-block reorg (common ancestor ${reorg.commonAncestor}) while the trip was ${r.status}.`);
      }
    });
  }

  /**
   * Records what the canonical chain shows for a tripped incident after a reorg that orphaned its trip's block
   * (`tripOrphaned`) or retracted its findings, and what the guardian does about it:
   * - `stands`: the trip is in force (re-included by the new branch, or its block stayed canonical);
   * - `resubmit`: the trip is gone from the new branch but findings stand: it is sent again (status tripping);
   * - `abort`: the trip is gone and every finding was retracted: nothing is sent (status aborted).
   */
  recordReorgCheck(
    id: string,
    input: { reorg: { depth: number; commonAncestor: number }; tripOrphaned: boolean; check: TripCheck; verdict: "stands" | "resubmit" | "abort" },
  ): Promise<IncidentRecord> {
    const { reorg, tripOrphaned, check, verdict } = input;
    return this.update(id, (r) => {
      const trip = r.trip;
      if (!trip) throw new Error(`incident ${id} has no trip to check`);
      const now = new Date().toISOString();
      const since = r.timeline[0] ? Date.now() - Date.parse(r.timeline[0].at) : 0;
      const checked = describeTripCheck(check, r.id, trip.txHash);
      const allRetracted = r.findings.length > 0 && r.findings.every((f) => f.retracted);
      if (tripOrphaned) {
        r.timeline.push({ step: "reorged-out", at: now, ms: since, blockNumber: trip.blockNumber, blockHash: trip.blockHash, txHash: trip.txHash, detail: `${reorg.depth}-block reorg back to block ${reorg.commonAncestor}` });
      }
      if (verdict === "stands") {
        if (tripOrphaned && check.inclusion) {
          r.trip = { ...trip, blockNumber: check.inclusion.blockNumber, blockHash: check.inclusion.blockHash };
          r.timeline.push({ step: "included", at: now, ms: since, blockNumber: check.inclusion.blockNumber, blockHash: check.inclusion.blockHash, txHash: trip.txHash, detail: "re-included by the new branch" });
        }
        const what = allRetracted
          ? `Every finding was retracted by a ${reorg.depth}-block reorg after the trip was already included in block ${trip.blockNumber}`
          : `A ${reorg.depth}-block reorg orphaned block ${trip.blockNumber} (${trip.blockHash}) that held the trip`;
        r.notes.push(`${what}; ${checked}.${allRetracted && tripInForce(check, r.id) ? " Governance should review the trip and lift it." : ""}`);
        return;
      }
      r.notes.push(
        verdict === "resubmit"
          ? `A ${reorg.depth}-block reorg orphaned block ${trip.blockNumber} (${trip.blockHash}) that held the trip while findings behind it still stand; ${checked}. The trip is resubmitted with the same incident id (never used on the new branch).`
          : `A ${reorg.depth}-block reorg orphaned block ${trip.blockNumber} (${trip.blockHash}) that held the trip and retracted every finding behind it; ${checked}. Nothing was resubmitted.`,
      );
      r.status = verdict === "resubmit" ? "tripping" : "aborted";
      // The trip of the old branch survives only in the timeline; governance payloads are rebuilt on inclusion.
      delete r.trip;
      delete r.detectToIncludeMs;
      r.governance = [];
    });
  }

  private async update(id: string, change: (r: IncidentRecord) => void, deferFiles = false): Promise<IncidentRecord> {
    return (await this.updateIf(id, change, deferFiles))!;
  }

  /** Reads, changes and saves one record atomically; `change` returns false to leave it as it is. */
  private async updateIf(id: string, change: (r: IncidentRecord) => boolean | void, deferFiles = false): Promise<IncidentRecord | undefined> {
    const rehearsal = this.#rehearsals.get(id);
    if (rehearsal) {
      if (change(rehearsal) === false) return undefined;
      rehearsal.updatedAt = new Date().toISOString();
      return rehearsal;
    }
    return this.deps.store.update(
      id,
      (r) => {
        if (change(r) === false) return false;
        r.updatedAt = new Date().toISOString();
      },
      (r) => this.writeFiles(r, deferFiles),
    );
  }

  /**
   * Renders a committed record's files. A file that cannot be written never fails the commit (nor the trip behind
   * it): the writer retries it and reports the failure. Called by the store as each commit lands, so the files
   * follow the order of the commits.
   */
  private writeFiles(record: IncidentRecord, deferFiles = false): void {
    const files: RenderedFile[] = [
      { file: record.files.json, content: `${JSON.stringify(record, null, 2)}\n` },
      { file: record.files.markdown, content: renderIncidentMarkdown(record) },
    ];
    try {
      const moved = preserveOtherIncarnation(record.files.json, record.files.markdown, record.openedAt);
      if (moved.length > 0) this.deps.logger.warn({ incident_id: record.id, moved }, "an earlier report of this incident id (another record) was kept under a new name, not overwritten");
    } catch {
      // unreadable folder: the write below fails and is retried
    }
    if (deferFiles) this.#files.writeSoon(record.id, files);
    else this.#files.write(record.id, files);
  }

  private async readGovernance(id: string, outcome: TripOutcome): Promise<GovernancePayload[] | undefined> {
    const record = await this.deps.store.get(id);
    const provider = record && this.deps.provider(record.chainId);
    if (!record || !provider) return undefined;
    const timelock = this.deps.breakerInfo(record.chainId, record.breaker).timelock;
    if (!timelock) {
      this.deps.logger.warn({ incident_id: id, breaker: record.breaker }, "no timelock configured for this breaker (policy.breakers[].timelock): the incident has no governance payloads");
      return [];
    }
    try {
      const breaker = CircuitBreaker__factory.connect(record.breaker, provider);
      const [incident, delay, latest] = await Promise.all([
        breaker.incident(),
        TimelockController__factory.connect(timelock, provider).getMinDelay(),
        provider.getBlock("latest"),
      ]);
      const context = {
        chainId: record.chainId,
        breaker: record.breaker,
        timelock,
        incidentId: outcome.trippedBy?.incidentId ?? incident.incidentId,
        delay,
        reference: `Incident report: ${record.files.markdown}`,
      };
      const now = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000));
      return [
        buildGovernancePayload(context, { decision: "lift" }),
        buildGovernancePayload(context, { decision: "ratify", expiresAt: ratifyExpiry(now, delay, this.deps.ratifyForSeconds) }),
      ];
    } catch (err) {
      this.deps.logger.warn({ incident_id: id, err: { message: (err as Error).message } }, "could not read the breaker or timelock for the governance payloads");
      return undefined;
    }
  }

  /** Notes a governance step; a no-op if the same operation was already recorded at that step. */
  recordGovernance(id: string, entry: GovernanceLogEntry): Promise<IncidentRecord | undefined> {
    return this.updateIf(id, (r) => {
      const log = (r.governanceLog ??= []);
      if (log.some((e) => e.operationId === entry.operationId && e.step === entry.step)) return false;
      log.push(entry);
    });
  }

  /**
   * The trip was lifted: the incident is closed. Idempotent, because both the guardian (from the Lifted
   * event) and `failsafe governance execute` (from its receipt) report the same lift.
   */
  async recordLift(id: string, lift: { txHash: string; blockNumber: number; liftedBy?: string }): Promise<IncidentRecord | undefined> {
    if (!(await this.deps.store.get(id))) return undefined;
    const updated = await this.updateIf(id, (r) => {
      if (r.status === "lifted") return false;
      r.status = "lifted";
      r.lift = { txHash: lift.txHash.toLowerCase(), blockNumber: lift.blockNumber, ...(lift.liftedBy ? { liftedBy: lift.liftedBy.toLowerCase() } : {}), at: new Date().toISOString() };
    });
    if (updated) this.deps.logger.info({ incident_id: id, tx_hash: lift.txHash, block_number: lift.blockNumber }, "incident closed: the trip was lifted");
    return updated;
  }

  /** The lift's block was orphaned: the incident is open again until the lift is seen on the new branch. */
  async reopenAfterReorg(id: string, liftTxHash: string, depth: number): Promise<IncidentRecord | undefined> {
    if (!(await this.deps.store.get(id))) return undefined;
    return this.updateIf(id, (r) => {
      if (r.status !== "lifted" || r.lift?.txHash !== liftTxHash.toLowerCase()) return false;
      r.status = "tripped";
      r.notes.push(`A ${depth}-block reorg orphaned the lift ${liftTxHash} (block ${r.lift?.blockNumber}); the incident is open again until the lift is included on the new branch.`);
      delete r.lift;
    });
  }
}

function dedupe(existing: IncidentFinding[], added: Finding[]): IncidentFinding[] {
  const seen = new Set(existing.map((f) => f.id));
  return [...existing, ...added.filter((f) => !seen.has(f.id) && seen.add(f.id))];
}

function addHash(hashes: string[], hash: string | undefined): string[] {
  return hash && !hashes.includes(hash) ? [...hashes, hash] : hashes;
}

/** The incident's timeline with a trip run's steps after it (the run's own `detected` is the incident's first step). */
function mergeTimeline(existing: TimelineEntry[], run: TimelineEntry[]): TimelineEntry[] {
  const key = (e: TimelineEntry) => `${e.step}|${e.at}|${e.txHash ?? ""}`;
  const seen = new Set(existing.map(key));
  return [...existing, ...run.filter((e) => e.step !== "detected" && !seen.has(key(e)))];
}

// Cells, headings and notes quote attacker text (token names, revert reasons): escaped so no link, heading or
// terminal escape reaches whoever renders or cats the report.
const cell = (value: unknown) => (value === undefined || value === null || value === "" ? "" : markdownInline(String(value)));

export function renderIncidentMarkdown(r: IncidentRecord): string {
  const lines: string[] = [];
  const breaker = r.breakerName ? `${markdownInline(r.breakerName)} (\`${r.breaker}\`)` : `\`${r.breaker}\``;
  lines.push(`# Incident ${r.id}`, "");
  lines.push("| | |", "|---|---|");
  lines.push(`| Status | **${r.status}**${r.dryRun ? " (dry run: nothing was sent)" : ""} |`);
  lines.push(`| Chain | ${r.chainId} |`);
  lines.push(`| Breaker | ${breaker} |`);
  lines.push(`| Opened | ${r.openedAt} |`);
  lines.push(`| Updated | ${r.updatedAt} |`);
  if (r.trip) lines.push(`| Trip transaction | \`${r.trip.txHash}\` in block ${r.trip.blockNumber} (\`${r.trip.blockHash}\`), via ${r.trip.via} |`);
  if (r.detectToIncludeMs !== undefined) lines.push(`| Detection to inclusion | ${r.detectToIncludeMs} ms |`);
  if (r.trippedBy) lines.push(`| Already tripped by | ${r.trippedBy.guardian} for incident \`${r.trippedBy.incidentId}\` |`);
  if (r.bundleHashes.length > 0) lines.push(`| Bundle hashes | ${r.bundleHashes.map((h) => `\`${h}\``).join("<br>")} |`);
  if (r.error) lines.push(`| Error | ${cell(r.error)} |`);
  lines.push("");

  if (r.notes.length > 0) {
    lines.push("## Notes", "");
    for (const n of r.notes) lines.push(`- ${markdownInline(n)}`);
    lines.push("");
  }

  lines.push(`## Findings (${r.findings.length})`, "");
  if (r.findings.length === 0) lines.push("None: the trip was not caused by a detector finding (see the notes).", "");
  for (const f of r.findings) {
    lines.push(`### ${f.severity.toUpperCase()} · ${markdownInline(f.title)}${f.retracted ? " (retracted by a reorg)" : ""}`, "");
    lines.push(`- Detector: \`${f.detectorId}\``);
    lines.push(`- Finding id: \`${f.id}\``);
    lines.push(`- Block: ${f.blockNumber} (\`${f.blockHash}\`)`);
    if (f.txHash) lines.push(`- Transaction: \`${f.txHash}\``);
    if (f.contract) lines.push(`- Contract: \`${f.contract}\``);
    if (f.retracted) lines.push(`- Retracted at ${f.retracted.at}: ${f.retracted.reorgDepth}-block reorg back to block ${f.retracted.commonAncestor}`);
    const evidence = stripControl(JSON.stringify(f.evidence, null, 2));
    const fence = fenceFor(evidence);
    lines.push("", `${fence}json`, evidence, fence, "");
  }

  lines.push("## Timeline", "");
  if (r.timeline.length === 0) lines.push("The trip is being prepared.", "");
  else {
    lines.push("| Step | Time | +ms | Block | Transaction | Priority fee (wei) | Detail |", "|---|---|---:|---:|---|---:|---|");
    for (const e of r.timeline) {
      const tx = [e.txHash ? `\`${e.txHash}\`` : "", ...(e.bundleHashes ?? []).map((h) => `bundle \`${h}\``)].filter(Boolean).join("<br>");
      lines.push(`| ${e.step} | ${e.at} | ${e.ms} | ${cell(e.blockNumber)} | ${tx} | ${cell(e.priorityFeePerGas)} | ${cell(e.detail)} |`);
    }
    lines.push("");
  }

  if (r.lift) {
    lines.push("## Lifted", "", `The trip was lifted by transaction \`${r.lift.txHash}\` in block ${r.lift.blockNumber}${r.lift.liftedBy ? ` (sent by \`${r.lift.liftedBy}\`)` : ""}; recorded at ${r.lift.at}.`, "");
  }
  if (r.governanceLog && r.governanceLog.length > 0) {
    lines.push("## Governance log", "", "| Decision | Step | Time | Operation | Transaction | Block | Ready at |", "|---|---|---|---|---|---:|---|");
    for (const e of r.governanceLog) {
      lines.push(`| ${e.decision} | ${e.step} | ${e.at} | \`${e.operationId}\` | \`${e.txHash}\` | ${e.blockNumber} | ${e.readyAt !== undefined ? new Date(e.readyAt * 1000).toISOString() : ""} |`);
    }
    lines.push("");
  }

  lines.push("## Governance payloads", "");
  if (r.governance.length === 0) {
    lines.push(
      r.status === "tripped" || r.status === "already-tripped" || r.status === "lifted"
        ? "None: no timelock is configured for this breaker (`policy.breakers[].timelock`), or it could not be read."
        : "None yet: the breaker is not tripped.",
      "",
    );
  }
  for (const g of r.governance) {
    lines.push(`### ${g.decision}: ${g.title}`, "");
    lines.push(`- Call: \`${g.action.signature}\` on \`${g.action.to}\`: \`${g.action.data}\``);
    lines.push(`- Through the timelock \`${g.timelock.address}\` (delay ${g.timelock.delay} s, salt \`${g.timelock.salt}\`, operation \`${g.timelock.operationId}\`):`);
    lines.push(`  1. a proposer sends \`schedule\`: \`${g.timelock.schedule.data}\`${g.timelock.helper ? ` (or \`${g.timelock.helper.signature}\`: \`${g.timelock.helper.data}\`)` : ""}`);
    lines.push(`  2. after the delay, an executor sends \`execute\`: \`${g.timelock.execute.data}\``);
    lines.push(`- As an OpenZeppelin Governor proposal: id \`${g.governor.proposalId}\`; as Safe Transaction Builder batches: see the JSON record (\`governance[].safe\`) or \`failsafe governance propose ${g.decision}\`.`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
