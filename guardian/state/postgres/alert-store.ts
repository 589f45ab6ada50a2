import type { AlertMessage } from "../../notifiers/types";
import type { AttemptRow, DeliveryRow, DeliveryStatus, LiveFindingAlert } from "../alert-store";
import type { AlertLogStore } from "../store";
import { num, type PgDatabase } from "./pool";

/**
 * The alert log on PostgreSQL, shared by every guardian on the database. A trip or lift alert is recorded once
 * per incident id (the check and the insert run under a transaction-scoped advisory lock on that id), and a
 * delivery is claimed in the database before it is sent, so no two guardians send it.
 */
export class PgAlertStore implements AlertLogStore {
  constructor(private readonly db: PgDatabase) {}

  async recordAlert(
    message: AlertMessage,
    announced: readonly string[],
    targets: readonly { notifier: string; recipient: string }[],
    now: number,
  ): Promise<DeliveryRow[] | undefined> {
    const once = (message.kind === "trip" || message.kind === "lift") && message.incidentId !== undefined;
    const incidentId = message.incidentId?.toLowerCase() ?? null;
    return this.db.transaction(async (tx) => {
      if (once) {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`failsafe-alert:${message.kind}:${incidentId}`]);
        const { rows } = await tx.query("SELECT 1 FROM alert_messages WHERE kind = $1 AND incident_id = $2 LIMIT 1", [message.kind, incidentId]);
        if (rows.length > 0) return undefined;
      }
      await tx.query(
        "INSERT INTO alert_messages (id, incident_key, kind, incident_id, severity, message, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [message.id, message.incidentKey, message.kind, incidentId, message.severity, JSON.stringify(message), now],
      );
      if (announced.length > 0) {
        await tx.query("INSERT INTO alert_findings (alert_id, finding_id) SELECT $1, f FROM unnest($2::text[]) AS f ON CONFLICT DO NOTHING", [message.id, [...announced]]);
      }
      const deliveries: DeliveryRow[] = [];
      for (const t of targets) {
        const { rows } = await tx.query<{ id: string }>(
          "INSERT INTO alert_deliveries (alert_id, notifier, recipient, status, updated_at) VALUES ($1, $2, $3, 'pending', $4) RETURNING id",
          [message.id, t.notifier, t.recipient, now],
        );
        deliveries.push({ id: num(rows[0].id), alertId: message.id, notifier: t.notifier, recipient: t.recipient, status: "pending", attempts: 0, lastError: null });
      }
      return deliveries;
    });
  }

  async claimDelivery(deliveryId: number, claimant: string, now: number, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE alert_deliveries SET claimed_by = $2, claim_expires_at = $3
        WHERE id = $1 AND status = 'pending' AND (claimed_by IS NULL OR claimed_by = $2 OR claim_expires_at < $4)`,
      [deliveryId, claimant, now + ttlMs, now],
    );
    return rowCount === 1;
  }

  async releaseDelivery(deliveryId: number, claimant: string): Promise<void> {
    await this.db.query("UPDATE alert_deliveries SET claimed_by = NULL, claim_expires_at = NULL WHERE id = $1 AND claimed_by = $2", [deliveryId, claimant]);
  }

  async startAttempt(deliveryId: number, attempt: number, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query("INSERT INTO alert_attempts (delivery_id, attempt, started_at) VALUES ($1, $2, $3)", [deliveryId, attempt, now]);
      await tx.query("UPDATE alert_deliveries SET attempts = $1, updated_at = $2 WHERE id = $3", [attempt, now, deliveryId]);
    });
  }

  async finishAttempt(
    deliveryId: number,
    attempt: number,
    outcome: { ok: true } | { ok: false; retryable: boolean; error: string },
    now: number,
  ): Promise<void> {
    await this.db.query("UPDATE alert_attempts SET finished_at = $1, ok = $2, retryable = $3, error = $4 WHERE delivery_id = $5 AND attempt = $6", [
      now,
      outcome.ok,
      outcome.ok ? null : outcome.retryable,
      outcome.ok ? null : outcome.error,
      deliveryId,
      attempt,
    ]);
  }

  async setStatus(deliveryId: number, status: DeliveryStatus, lastError: string | null, now: number): Promise<void> {
    await this.db.query(
      "UPDATE alert_deliveries SET status = $1, last_error = $2, updated_at = $3, claimed_by = NULL, claim_expires_at = NULL WHERE id = $4",
      [status, lastError, now, deliveryId],
    );
  }

  async liveAlertsForFinding(findingId: string): Promise<LiveFindingAlert[]> {
    const { rows } = await this.db.query<{ alert_id: string; finding_id: string; incident_key: string }>(
      `SELECT f.alert_id, f.finding_id, m.incident_key FROM alert_findings f JOIN alert_messages m ON m.id = f.alert_id
        WHERE f.finding_id = $1 AND f.retracted_by IS NULL ORDER BY m.created_at, m.seq`,
      [findingId],
    );
    return rows.map((r) => ({ alertId: r.alert_id, findingId: r.finding_id, incidentKey: r.incident_key }));
  }

  async markRetracted(findingIds: readonly string[], retractionAlertId: string): Promise<void> {
    if (findingIds.length === 0) return;
    await this.db.query("UPDATE alert_findings SET retracted_by = $1 WHERE finding_id = ANY($2::text[]) AND retracted_by IS NULL", [retractionAlertId, [...findingIds]]);
  }

  async liveFindingCount(incidentKey: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM alert_findings f JOIN alert_messages m ON m.id = f.alert_id WHERE m.incident_key = $1 AND f.retracted_by IS NULL`,
      [incidentKey],
    );
    return num(rows[0].n);
  }

  async targetsOf(alertId: string): Promise<{ notifier: string; recipient: string }[]> {
    const { rows } = await this.db.query<{ notifier: string; recipient: string }>(
      "SELECT DISTINCT notifier, recipient FROM alert_deliveries WHERE alert_id = $1 ORDER BY notifier, recipient",
      [alertId],
    );
    return rows;
  }

  async deliveries(alertId: string): Promise<DeliveryRow[]> {
    const { rows } = await this.db.query<RawDelivery>("SELECT * FROM alert_deliveries WHERE alert_id = $1 ORDER BY id", [alertId]);
    return rows.map(toDelivery);
  }

  async attempts(deliveryId: number): Promise<AttemptRow[]> {
    const { rows } = await this.db.query<RawAttempt>("SELECT * FROM alert_attempts WHERE delivery_id = $1 ORDER BY attempt", [deliveryId]);
    return rows.map((r) => ({
      deliveryId: num(r.delivery_id),
      attempt: r.attempt,
      startedAt: num(r.started_at),
      finishedAt: r.finished_at === null ? null : num(r.finished_at),
      ok: r.ok,
      retryable: r.retryable,
      error: r.error,
    }));
  }

  async pendingDeliveries(now?: number): Promise<{ delivery: DeliveryRow; message: AlertMessage }[]> {
    const { rows } = await this.db.query<RawDelivery & { message: string }>(
      `SELECT d.*, m.message FROM alert_deliveries d JOIN alert_messages m ON m.id = d.alert_id
        WHERE d.status = 'pending' AND ($1::bigint IS NULL OR d.claimed_by IS NULL OR d.claim_expires_at < $1::bigint)
        ORDER BY m.created_at, d.id`,
      [now ?? null],
    );
    return rows.map((r) => ({ delivery: toDelivery(r), message: JSON.parse(r.message) as AlertMessage }));
  }

  async alert(id: string): Promise<AlertMessage | undefined> {
    const { rows } = await this.db.query<{ message: string }>("SELECT message FROM alert_messages WHERE id = $1", [id]);
    return rows[0] ? (JSON.parse(rows[0].message) as AlertMessage) : undefined;
  }

  async incidentAlert(kind: "trip" | "lift", incidentId: string): Promise<AlertMessage | undefined> {
    const { rows } = await this.db.query<{ message: string }>(
      "SELECT message FROM alert_messages WHERE kind = $1 AND incident_id = $2 ORDER BY created_at DESC, seq DESC LIMIT 1",
      [kind, incidentId.toLowerCase()],
    );
    return rows[0] ? (JSON.parse(rows[0].message) as AlertMessage) : undefined;
  }

  async addFindings(alertId: string, findingIds: readonly string[]): Promise<void> {
    if (findingIds.length === 0) return;
    await this.db.query("INSERT INTO alert_findings (alert_id, finding_id) SELECT $1, f FROM unnest($2::text[]) AS f ON CONFLICT DO NOTHING", [alertId, [...findingIds]]);
  }

  async alerts(incidentKey?: string): Promise<AlertMessage[]> {
    const { rows } =
      incidentKey === undefined
        ? await this.db.query<{ message: string }>("SELECT message FROM alert_messages ORDER BY created_at, seq")
        : await this.db.query<{ message: string }>("SELECT message FROM alert_messages WHERE incident_key = $1 ORDER BY created_at, seq", [incidentKey]);
    return rows.map((r) => JSON.parse(r.message) as AlertMessage);
  }
}

interface RawDelivery {
  id: string;
  alert_id: string;
  notifier: string;
  recipient: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
}

interface RawAttempt {
  delivery_id: string;
  attempt: number;
  started_at: string;
  finished_at: string | null;
  ok: boolean;
  retryable: boolean | null;
  error: string | null;
}

function toDelivery(r: RawDelivery): DeliveryRow {
  return { id: num(r.id), alertId: r.alert_id, notifier: r.notifier, recipient: r.recipient, status: r.status, attempts: r.attempts, lastError: r.last_error };
}
