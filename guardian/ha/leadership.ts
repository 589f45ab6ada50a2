import type { Logger } from "pino";
import type { LeaseGrant } from "./lease";

/** The lease operations leadership needs (PgLeases; passed in so the loop is tested on its own too). */
export interface Leases {
  tryAcquire(scope: string, holder: string, ttlMs: number): Promise<LeaseGrant | undefined>;
  renew(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | undefined>;
  release(grant: LeaseGrant): Promise<void>;
}

export type DeposedReason = "lost" | "unhealthy" | "database" | "fenced" | "stopped";

export interface LeadershipOptions {
  /** What the lease is for, e.g. `chain:1`. */
  scope: string;
  /** This guardian's name in the lease table (host, pid and a random part: unique per process). */
  holder: string;
  leases: Leases;
  /** A leader that has not renewed for this long is replaced. Bounds the takeover: at most ttl + one attempt. */
  ttlMs: number;
  /** How often the leader renews and a standby tries to take over; default ttl / 3. */
  intervalMs?: number;
  /**
   * This guardian's own liveness (its pipeline commits blocks, its node answers): a leader that is alive but stuck
   * gives the lease up at once instead of holding it while it renews, and an unhealthy standby does not campaign.
   */
  healthy?: () => boolean;
  /** Called once per term, with the grant whose token every write of the term must be fenced with. */
  onElected(grant: LeaseGrant): Promise<void> | void;
  /** Called once when a term ends; the caller stops every write of the term before it resolves. */
  onDeposed(reason: DeposedReason, grant: LeaseGrant): Promise<void> | void;
  logger: Logger;
  /** Leadership gauge and lease age for the metrics. */
  onState?(state: { leader: boolean; token?: bigint; renewedAt?: number }): void;
}

/**
 * One guardian's side of the election for one scope: while a standby, it tries to take the lease every interval;
 * while the leader, it renews it, and steps down when the renewal fails (the lease was taken: this process stalled
 * past its expiry), when it is unhealthy, or when the database has been unreachable for longer than the lease
 * (another guardian may hold it by now). Terms never overlap in this process: the next attempt waits for
 * `onDeposed` to finish.
 */
export class Leadership {
  #grant?: LeaseGrant;
  #timer?: NodeJS.Timeout;
  #running = false;
  #busy: Promise<void> = Promise.resolve();
  /** Wall-clock ms of the last successful renewal (this process's clock: only compared with itself). */
  #renewedAt = 0;

  constructor(private readonly options: LeadershipOptions) {}

  get isLeader(): boolean {
    return this.#grant !== undefined;
  }

  get grant(): LeaseGrant | undefined {
    return this.#grant;
  }

  get intervalMs(): number {
    return this.options.intervalMs ?? Math.max(50, Math.floor(this.options.ttlMs / 3));
  }

  /** Starts campaigning; the first attempt runs at once. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Ends the campaign; a leader releases its lease so a standby takes over at its next attempt, not after expiry. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#busy;
    const grant = this.#grant;
    if (!grant) return;
    await this.#depose("stopped");
    await this.options.leases.release(grant).catch((err: unknown) => this.options.logger.warn({ err: { message: (err as Error).message }, scope: grant.scope }, "could not release the lease; it expires on its own"));
  }

  /** A write was fenced off (LeaseLostError): this process is no longer the leader, whatever the timer thinks. */
  async fenced(): Promise<void> {
    await this.#busy;
    if (this.#grant) await this.#depose("fenced");
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#busy = this.#tick().finally(() => this.#schedule(this.intervalMs));
    }, ms);
    // Not unref'd: a standby has nothing else that keeps the process alive while the database is away.
  }

  async #tick(): Promise<void> {
    const { leases, scope, holder, ttlMs, logger } = this.options;
    const grant = this.#grant;
    if (!grant) {
      // A guardian that cannot follow its chain (node down, store lost) does not campaign: it would only hand over again.
      if (this.options.healthy && !this.options.healthy()) return;
      let won: LeaseGrant | undefined;
      try {
        won = await leases.tryAcquire(scope, holder, ttlMs);
      } catch (err) {
        logger.warn({ err: { message: (err as Error).message }, scope }, "standby: could not reach the database to campaign for the lease");
        return;
      }
      if (!won || !this.#running) {
        if (won) await leases.release(won).catch(() => undefined);
        return;
      }
      this.#grant = won;
      this.#renewedAt = Date.now();
      logger.warn({ scope, holder, token: won.token.toString() }, "elected: this guardian now leads block processing");
      this.options.onState?.({ leader: true, token: won.token, renewedAt: this.#renewedAt });
      try {
        await this.options.onElected(won);
      } catch (err) {
        logger.error({ err: { message: (err as Error).message }, scope }, "could not start leading; giving the lease up");
        await this.#depose("unhealthy");
        await leases.release(won).catch(() => undefined);
      }
      return;
    }
    if (this.options.healthy && !this.options.healthy()) {
      logger.error({ scope, token: grant.token.toString() }, "leader unhealthy: giving the lease up so a standby takes over");
      await this.#depose("unhealthy");
      await leases.release(grant).catch(() => undefined);
      return;
    }
    try {
      const renewed = await leases.renew(grant, ttlMs);
      if (!renewed) {
        logger.error({ scope, token: grant.token.toString() }, "lease lost: another guardian took it (this one stalled past its expiry); stepping down");
        await this.#depose("lost");
        return;
      }
      this.#grant = renewed;
      this.#renewedAt = Date.now();
      this.options.onState?.({ leader: true, token: renewed.token, renewedAt: this.#renewedAt });
    } catch (err) {
      // Unreachable database: the lease may still be ours until it expires; past that, assume it is not.
      if (Date.now() - this.#renewedAt >= ttlMs) {
        logger.error({ err: { message: (err as Error).message }, scope }, "database unreachable for longer than the lease: stepping down");
        await this.#depose("database");
      } else logger.warn({ err: { message: (err as Error).message }, scope }, "could not renew the lease; retrying before it expires");
    }
  }

  async #depose(reason: DeposedReason): Promise<void> {
    const grant = this.#grant;
    if (!grant) return;
    this.#grant = undefined;
    this.options.onState?.({ leader: false });
    await this.options.onDeposed(reason, grant);
  }
}
