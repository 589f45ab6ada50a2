import type { Pool, PoolClient } from "pg";

/** A lease held: who holds which scope, and the fencing token that every write made under it must carry. */
export interface LeaseGrant {
  scope: string;
  holder: string;
  /** Grows by one at every change of holder: a write fenced with an older token is refused. */
  token: bigint;
  /** On the database's clock. */
  expiresAt: Date;
}

/** What the lease table says about a scope now. */
export interface LeaseState {
  holder: string;
  token: bigint;
  expiresAt: Date;
  renewedAt: Date;
  live: boolean;
}

/** A write was fenced off: the lease it was made under has passed to another holder (or was never held). */
export class LeaseLostError extends Error {
  constructor(
    readonly grant: Pick<LeaseGrant, "scope" | "holder" | "token">,
    readonly current: { holder: string; token: bigint } | undefined,
  ) {
    super(
      current
        ? `lease ${grant.scope} lost: token ${grant.token} of ${grant.holder} is stale, ${current.holder} holds token ${current.token}`
        : `lease ${grant.scope} lost: no lease row (token ${grant.token} of ${grant.holder})`,
    );
    this.name = "LeaseLostError";
  }
}

interface Row {
  holder: string;
  token: string;
  expires_at: Date;
  renewed_at: Date;
  live: boolean;
}

/**
 * Leases on PostgreSQL, the one component guardians share: one row per scope (a chain's block processing), with a
 * holder, an expiry on the database's clock (the guardians' clocks never have to agree) and a fencing token. A
 * lease is taken only when it is free or expired, and each change of holder increments the token, so a leader
 * that stalled (SIGSTOP, a GC pause, a partition) and wakes after its lease was taken finds its writes refused by
 * `fence` instead of interleaving with the new leader's. The table comes with the store's migrations (version 2).
 */
export class PgLeases {
  constructor(private readonly pool: Pool) {}

  /** Takes the lease if it is free, expired or already ours (then it is renewed, same token); undefined if not. */
  async tryAcquire(scope: string, holder: string, ttlMs: number): Promise<LeaseGrant | undefined> {
    const { rows } = await this.pool.query<{ token: string; expires_at: Date }>(
      `INSERT INTO failsafe_leases AS l (scope, holder, token, expires_at, renewed_at)
         VALUES ($1, $2, 1, clock_timestamp() + make_interval(secs => $3::double precision / 1000), clock_timestamp())
       ON CONFLICT (scope) DO UPDATE SET
         holder = excluded.holder,
         token = CASE WHEN l.holder = excluded.holder AND l.expires_at > clock_timestamp() THEN l.token ELSE l.token + 1 END,
         expires_at = excluded.expires_at,
         renewed_at = excluded.renewed_at
       WHERE l.expires_at <= clock_timestamp() OR l.holder = excluded.holder
       RETURNING token, expires_at`,
      [scope, holder, ttlMs],
    );
    return rows[0] ? { scope, holder, token: BigInt(rows[0].token), expiresAt: rows[0].expires_at } : undefined;
  }

  /** Extends a lease still held under `grant`'s token; undefined when it was lost (expired and taken, or released). */
  async renew(grant: LeaseGrant, ttlMs: number): Promise<LeaseGrant | undefined> {
    const { rows } = await this.pool.query<{ expires_at: Date }>(
      `UPDATE failsafe_leases SET expires_at = clock_timestamp() + make_interval(secs => $4::double precision / 1000), renewed_at = clock_timestamp()
       WHERE scope = $1 AND holder = $2 AND token = $3
       RETURNING expires_at`,
      [grant.scope, grant.holder, grant.token.toString(), ttlMs],
    );
    return rows[0] ? { ...grant, expiresAt: rows[0].expires_at } : undefined;
  }

  /** Gives the lease up now (a clean shutdown, an unhealthy leader): a standby takes it at its next attempt. */
  async release(grant: LeaseGrant): Promise<void> {
    await this.pool.query(`UPDATE failsafe_leases SET expires_at = clock_timestamp() WHERE scope = $1 AND holder = $2 AND token = $3`, [
      grant.scope,
      grant.holder,
      grant.token.toString(),
    ]);
  }

  async current(scope: string): Promise<LeaseState | undefined> {
    const { rows } = await this.pool.query<Row>(
      "SELECT holder, token, expires_at, renewed_at, expires_at > clock_timestamp() AS live FROM failsafe_leases WHERE scope = $1",
      [scope],
    );
    const r = rows[0];
    return r ? { holder: r.holder, token: BigInt(r.token), expiresAt: r.expires_at, renewedAt: r.renewed_at, live: r.live } : undefined;
  }

  /**
   * Inside the caller's transaction on `client`: throws LeaseLostError unless `grant`'s token is still the scope's.
   * The lease row stays share-locked until that transaction ends, so no standby can take the lease between this
   * check and the commit: a write either lands under the current leader's token or not at all.
   */
  async fence(client: PoolClient, grant: Pick<LeaseGrant, "scope" | "holder" | "token">): Promise<void> {
    const { rows } = await client.query<{ holder: string; token: string }>("SELECT holder, token FROM failsafe_leases WHERE scope = $1 FOR SHARE", [grant.scope]);
    const row = rows[0];
    if (!row || row.holder !== grant.holder || BigInt(row.token) !== grant.token) {
      throw new LeaseLostError(grant, row ? { holder: row.holder, token: BigInt(row.token) } : undefined);
    }
  }
}
