import type { BlockRef } from "../chain/types";
import type { Finding } from "../detectors/types";
import type { AlertMessage } from "../notifiers/types";
import type { IncidentRecord } from "../reports/incident-record";
import type { AttemptRow, DeliveryRow, DeliveryStatus, LiveFindingAlert } from "./alert-store";
import type { BlockCommit, ReorgCommit, StoredFinding } from "./guardian-store";

/**
 * The guardian's own stores, one interface per store and one implementation of each per backend: SQLite (the
 * default, one file beside the guardian) and PostgreSQL (shared by several guardians). Every method returns a
 * Promise; the SQLite implementations do their work synchronously inside the call (better-sqlite3), so the
 * Promise is already settled and the order of calls is the order of commits, as before.
 *
 * The ledger's index is not behind these interfaces yet: it stays on the local SQLite file with either backend.
 */

/** Cursor, unfinalized blocks, findings and retractions, detector state: what one processed block commits. */
export interface GuardianStateStore {
  /** Binds the store to a chain's genesis on first start; refuses (StoreChainMismatchError) a store of another chain. */
  bindChain(chainId: number, genesisHash: string): Promise<void>;
  cursor(chainId: number): Promise<{ number: number; hash: string } | undefined>;
  /** The unfinalized window as it was at the last commit, oldest first. */
  unfinalizedBlocks(chainId: number): Promise<BlockRef[]>;
  /** What each detector saved: a whole state, or the record of entries of one that saves changes. */
  detectorStates(chainId: number): Promise<Map<string, unknown>>;
  /** Applies one processed block atomically. Returns the findings that are new (not seen before under the same id). */
  commitBlock(chainId: number, commit: BlockCommit): Promise<Finding[]>;
  /** Applies a reorg atomically: retracts the findings of orphaned blocks and moves the cursor back. */
  commitReorg(chainId: number, commit: ReorgCommit): Promise<{ retracted: Finding[]; fresh: Finding[] }>;
  /** Findings that belong to no block commit (the guardian's own, about its node); returns the new ones. */
  recordFindings(findings: readonly Finding[]): Promise<Finding[]>;
  /** The blocks (by number) that hold live findings from `from` on: what a deep reorg is re-verified against. */
  findingBlocksFrom(chainId: number, from: number): Promise<Map<number, string[]>>;
  /** Sinks have seen these; a restart will not deliver them again. */
  markDelivered(ids: readonly string[]): Promise<void>;
  /** Committed but not yet handed to the sinks when the process died; delivered again on start. */
  undeliveredFindings(chainId: number): Promise<Finding[]>;
  findings(chainId: number, options?: { includeRetracted?: boolean }): Promise<StoredFinding[]>;
  /** What /healthz must show about the store (a deleted SQLite file), or undefined when it is in place. */
  problem(): string | undefined;
}

/** Incidents: one record per trip decision, keyed by the incident id, written by the guardian and by commands. */
export interface IncidentRecordStore {
  get(id: string): Promise<IncidentRecord | undefined>;
  /** Every incident, oldest first. */
  list(): Promise<IncidentRecord[]>;
  /** Writes the record whole (insert or replace). */
  save(record: IncidentRecord): Promise<void>;
  /**
   * Inserts the record unless one with its id exists (another guardian, or an earlier run, opened it first).
   * `onSaved` runs once it is committed, before any later write of this store commits. Returns false when it existed.
   */
  insert(record: IncidentRecord, onSaved?: (record: IncidentRecord) => void): Promise<boolean>;
  /**
   * Reads, changes and saves one record atomically: no other process's change to it interleaves. `change` returns
   * false to leave the record as it is (then undefined is returned). Throws when there is no such incident.
   */
  update(id: string, change: (record: IncidentRecord) => boolean | void, onSaved?: (record: IncidentRecord) => void): Promise<IncidentRecord | undefined>;
  /**
   * A trip decision that tripped nothing (a dry run, or a breaker already tripped by another incident) is not an
   * incident: recorded apart, and taken out of the incidents in the same transaction if it was opened as one.
   */
  saveDecision(record: IncidentRecord): Promise<void>;
  decision(id: string): Promise<IncidentRecord | undefined>;
  /** Every such decision, oldest first. */
  decisions(): Promise<IncidentRecord[]>;
}

/** The alert log: alerts, the findings they announced, deliveries and their attempts. */
export interface AlertLogStore {
  /**
   * Records an alert, the findings it announced and one pending delivery per target, atomically. A trip or lift
   * alert is recorded once per incident id across every process sharing the store: undefined when it exists.
   */
  recordAlert(
    message: AlertMessage,
    announced: readonly string[],
    targets: readonly { notifier: string; recipient: string }[],
    now: number,
  ): Promise<DeliveryRow[] | undefined>;
  /**
   * Claims a pending delivery for `claimant` until `now + ttlMs`, before it is sent: true when the claim is this
   * claimant's (new, renewed, or taken over from a holder whose claim expired), false when another holds it or it
   * is no longer pending. A delivery is only sent under a claim, so two guardians never both send it.
   */
  claimDelivery(deliveryId: number, claimant: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives a claim up (a shutdown mid-retry): another process may take the delivery at once. */
  releaseDelivery(deliveryId: number, claimant: string): Promise<void>;
  startAttempt(deliveryId: number, attempt: number, now: number): Promise<void>;
  finishAttempt(
    deliveryId: number,
    attempt: number,
    outcome: { ok: true } | { ok: false; retryable: boolean; error: string },
    now: number,
  ): Promise<void>;
  /** `delivered` is the acknowledgement: the claim ends with it, as with `failed`. */
  setStatus(deliveryId: number, status: DeliveryStatus, lastError: string | null, now: number): Promise<void>;
  liveAlertsForFinding(findingId: string): Promise<LiveFindingAlert[]>;
  markRetracted(findingIds: readonly string[], retractionAlertId: string): Promise<void>;
  liveFindingCount(incidentKey: string): Promise<number>;
  targetsOf(alertId: string): Promise<{ notifier: string; recipient: string }[]>;
  deliveries(alertId: string): Promise<DeliveryRow[]>;
  attempts(deliveryId: number): Promise<AttemptRow[]>;
  /**
   * Pending deliveries nobody holds a live claim on (never claimed, released, or claimed by a process whose claim
   * expired before `now`), oldest first, with their alert. Without `now`, every pending delivery.
   */
  pendingDeliveries(now?: number): Promise<{ delivery: DeliveryRow; message: AlertMessage }[]>;
  alert(id: string): Promise<AlertMessage | undefined>;
  incidentAlert(kind: "trip" | "lift", incidentId: string): Promise<AlertMessage | undefined>;
  addFindings(alertId: string, findingIds: readonly string[]): Promise<void>;
  alerts(incidentKey?: string): Promise<AlertMessage[]>;
}
