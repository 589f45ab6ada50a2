import type BetterSqlite3 from "better-sqlite3";
import type { AlertMessage } from "../notifiers/types";
import type { AlertLogStore } from "./store";
import { migrateSqlite } from "./sqlite-migrations";

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface DeliveryRow {
  id: number;
  alertId: string;
  notifier: string;
  /** Empty for channels without recipients (webhooks, PagerDuty). */
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
}

export interface AttemptRow {
  deliveryId: number;
  attempt: number;
  startedAt: number;
  finishedAt: number | null;
  ok: boolean;
  retryable: boolean | null;
  error: string | null;
}

/** A delivered (or attempted) alert that contains a finding which has not been retracted yet. */
export interface LiveFindingAlert {
  alertId: string;
  findingId: string;
  incidentKey: string;
}

/**
 * The alert log on the guardian's SQLite database: every alert, which findings it carried, every
 * delivery (alert x channel x recipient) and every attempt. Retractions are found from here, so they
 * reach the people who saw the original even after a restart, and unfinished deliveries resume.
 */
export class AlertStore implements AlertLogStore {
  readonly #db: BetterSqlite3.Database;
  readonly #stmt: ReturnType<AlertStore["prepare"]>;

  constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    migrateSqlite(db);
    this.#stmt = this.prepare();
  }

  private prepare() {
    const db = this.#db;
    return {
      insertAlert: db.prepare(
        "INSERT INTO alert_messages (id, incident_key, kind, severity, message, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      insertFinding: db.prepare("INSERT OR IGNORE INTO alert_findings (alert_id, finding_id) VALUES (?, ?)"),
      insertDelivery: db.prepare(
        "INSERT INTO alert_deliveries (alert_id, notifier, recipient, status, updated_at) VALUES (?, ?, ?, 'pending', ?)",
      ),
      startAttempt: db.prepare(
        "INSERT INTO alert_attempts (delivery_id, attempt, started_at) VALUES (?, ?, ?)",
      ),
      bumpAttempts: db.prepare("UPDATE alert_deliveries SET attempts = ?, updated_at = ? WHERE id = ?"),
      finishAttempt: db.prepare(
        "UPDATE alert_attempts SET finished_at = ?, ok = ?, retryable = ?, error = ? WHERE delivery_id = ? AND attempt = ?",
      ),
      setStatus: db.prepare("UPDATE alert_deliveries SET status = ?, last_error = ?, updated_at = ?, claimed_by = NULL, claim_expires_at = NULL WHERE id = ?"),
      claim: db.prepare(
        `UPDATE alert_deliveries SET claimed_by = @claimant, claim_expires_at = @expires
          WHERE id = @id AND status = 'pending' AND (claimed_by IS NULL OR claimed_by = @claimant OR claim_expires_at < @now)`,
      ),
      release: db.prepare("UPDATE alert_deliveries SET claimed_by = NULL, claim_expires_at = NULL WHERE id = ? AND claimed_by = ?"),
      liveByFinding: db.prepare(
        `SELECT f.alert_id AS alertId, f.finding_id AS findingId, m.incident_key AS incidentKey
           FROM alert_findings f JOIN alert_messages m ON m.id = f.alert_id
          WHERE f.finding_id = ? AND f.retracted_by IS NULL ORDER BY m.created_at`,
      ),
      retract: db.prepare("UPDATE alert_findings SET retracted_by = ? WHERE finding_id = ? AND retracted_by IS NULL"),
      liveInIncident: db.prepare(
        `SELECT COUNT(*) AS n FROM alert_findings f JOIN alert_messages m ON m.id = f.alert_id
          WHERE m.incident_key = ? AND f.retracted_by IS NULL`,
      ),
      targetsOf: db.prepare("SELECT DISTINCT notifier, recipient FROM alert_deliveries WHERE alert_id = ?"),
      deliveriesOf: db.prepare("SELECT * FROM alert_deliveries WHERE alert_id = ? ORDER BY id"),
      attemptsOf: db.prepare("SELECT * FROM alert_attempts WHERE delivery_id = ? ORDER BY attempt"),
      pending: db.prepare(
        `SELECT d.*, m.message FROM alert_deliveries d JOIN alert_messages m ON m.id = d.alert_id
          WHERE d.status = 'pending' AND (@now IS NULL OR d.claimed_by IS NULL OR d.claim_expires_at < @now)
          ORDER BY m.created_at, d.id`,
      ),
      alert: db.prepare("SELECT message FROM alert_messages WHERE id = ?"),
      incidentAlerts: db.prepare("SELECT message FROM alert_messages WHERE incident_key = ? ORDER BY created_at, rowid"),
      incidentAlert: db.prepare(
        `SELECT message FROM alert_messages WHERE kind = ? AND json_extract(message, '$.incidentId') = ?
          ORDER BY created_at DESC, rowid DESC LIMIT 1`,
      ),
      allAlerts: db.prepare("SELECT message FROM alert_messages ORDER BY created_at, rowid"),
    };
  }

  /**
   * Records an alert, the findings it announced (all of them, also those the message text had to leave
   * out) and one pending delivery per target, atomically. Retractions announce nothing.
   *
   * A trip or lift alert is recorded once per incident id, even when the guardian and a one-shot command
   * (`failsafe governance execute`) share the database: the check and the insert run under SQLite's write
   * lock (BEGIN IMMEDIATE). Returns undefined, recording nothing, when that alert already exists.
   */
  async recordAlert(
    message: AlertMessage,
    announced: readonly string[],
    targets: readonly { notifier: string; recipient: string }[],
    now: number,
  ): Promise<DeliveryRow[] | undefined> {
    return this.#db.transaction(() => {
      const once = (message.kind === "trip" || message.kind === "lift") && message.incidentId !== undefined;
      if (once && this.#stmt.incidentAlert.get(message.kind, message.incidentId!.toLowerCase())) return undefined;
      this.#stmt.insertAlert.run(message.id, message.incidentKey, message.kind, message.severity, JSON.stringify(message), now);
      for (const id of announced) this.#stmt.insertFinding.run(message.id, id);
      return targets.map((t) => {
        const id = Number(this.#stmt.insertDelivery.run(message.id, t.notifier, t.recipient, now).lastInsertRowid);
        return { id, alertId: message.id, notifier: t.notifier, recipient: t.recipient, status: "pending" as const, attempts: 0, lastError: null };
      });
    }).immediate();
  }

  async claimDelivery(deliveryId: number, claimant: string, now: number, ttlMs: number): Promise<boolean> {
    return this.#stmt.claim.run({ id: deliveryId, claimant, expires: now + ttlMs, now }).changes === 1;
  }

  async releaseDelivery(deliveryId: number, claimant: string): Promise<void> {
    this.#stmt.release.run(deliveryId, claimant);
  }

  async startAttempt(deliveryId: number, attempt: number, now: number): Promise<void> {
    this.#db.transaction(() => {
      this.#stmt.startAttempt.run(deliveryId, attempt, now);
      this.#stmt.bumpAttempts.run(attempt, now, deliveryId);
    })();
  }

  async finishAttempt(
    deliveryId: number,
    attempt: number,
    outcome: { ok: true } | { ok: false; retryable: boolean; error: string },
    now: number,
  ): Promise<void> {
    if (outcome.ok) this.#stmt.finishAttempt.run(now, 1, null, null, deliveryId, attempt);
    else this.#stmt.finishAttempt.run(now, 0, outcome.retryable ? 1 : 0, outcome.error, deliveryId, attempt);
  }

  async setStatus(deliveryId: number, status: DeliveryStatus, lastError: string | null, now: number): Promise<void> {
    this.#stmt.setStatus.run(status, lastError, now, deliveryId);
  }

  /** Alerts that announced `findingId` and have not been retracted. */
  async liveAlertsForFinding(findingId: string): Promise<LiveFindingAlert[]> {
    return this.#stmt.liveByFinding.all(findingId) as LiveFindingAlert[];
  }

  async markRetracted(findingIds: readonly string[], retractionAlertId: string): Promise<void> {
    this.#db.transaction(() => {
      for (const id of findingIds) this.#stmt.retract.run(retractionAlertId, id);
    })();
  }

  /** How many announced findings of an incident still stand. */
  async liveFindingCount(incidentKey: string): Promise<number> {
    return (this.#stmt.liveInIncident.get(incidentKey) as { n: number }).n;
  }

  /** The channels and recipients an alert went (or was being sent) to. */
  async targetsOf(alertId: string): Promise<{ notifier: string; recipient: string }[]> {
    return this.#stmt.targetsOf.all(alertId) as { notifier: string; recipient: string }[];
  }

  async deliveries(alertId: string): Promise<DeliveryRow[]> {
    return (this.#stmt.deliveriesOf.all(alertId) as RawDelivery[]).map(toDelivery);
  }

  async attempts(deliveryId: number): Promise<AttemptRow[]> {
    return (this.#stmt.attemptsOf.all(deliveryId) as RawAttempt[]).map((r) => ({
      deliveryId: r.delivery_id,
      attempt: r.attempt,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      ok: r.ok === 1,
      retryable: r.retryable === null ? null : r.retryable === 1,
      error: r.error,
    }));
  }

  /** Deliveries a previous run left unfinished, oldest first, with their alert. */
  async pendingDeliveries(now?: number): Promise<{ delivery: DeliveryRow; message: AlertMessage }[]> {
    return (this.#stmt.pending.all({ now: now ?? null }) as (RawDelivery & { message: string })[]).map((r) => ({
      delivery: toDelivery(r),
      message: JSON.parse(r.message) as AlertMessage,
    }));
  }

  async alert(id: string): Promise<AlertMessage | undefined> {
    const row = this.#stmt.alert.get(id) as { message: string } | undefined;
    return row ? (JSON.parse(row.message) as AlertMessage) : undefined;
  }

  /** The latest trip or lift alert raised for an on-chain incident id. */
  async incidentAlert(kind: "trip" | "lift", incidentId: string): Promise<AlertMessage | undefined> {
    const row = this.#stmt.incidentAlert.get(kind, incidentId.toLowerCase()) as { message: string } | undefined;
    return row ? (JSON.parse(row.message) as AlertMessage) : undefined;
  }

  /** Adds findings to an alert already sent (the on-chain record of a trip announced before it was mined). */
  async addFindings(alertId: string, findingIds: readonly string[]): Promise<void> {
    this.#db.transaction(() => {
      for (const id of findingIds) this.#stmt.insertFinding.run(alertId, id);
    })();
  }

  /** Alerts in the order they were raised, of one incident or of all. */
  async alerts(incidentKey?: string): Promise<AlertMessage[]> {
    const rows = (incidentKey === undefined ? this.#stmt.allAlerts.all() : this.#stmt.incidentAlerts.all(incidentKey)) as {
      message: string;
    }[];
    return rows.map((r) => JSON.parse(r.message) as AlertMessage);
  }
}

interface RawDelivery {
  id: number;
  alert_id: string;
  notifier: string;
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
}

interface RawAttempt {
  delivery_id: number;
  attempt: number;
  started_at: number;
  finished_at: number | null;
  ok: number;
  retryable: number | null;
  error: string | null;
}

function toDelivery(r: RawDelivery): DeliveryRow {
  return {
    id: r.id,
    alertId: r.alert_id,
    notifier: r.notifier,
    recipient: r.recipient,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
  };
}
