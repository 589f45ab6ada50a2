import { expect } from "chai";
import { Pool } from "pg";
import pino from "pino";
import { LeaseLostError, PgLeases, type LeaseGrant } from "../../../guardian/ha/lease";
import { Leadership, type DeposedReason, type Leases } from "../../../guardian/ha/leadership";
import { createTestDatabase } from "../../support/postgres";
import { migrate } from "../../../guardian/state/postgres/migrations";
import { PgDatabase } from "../../../guardian/state/postgres/pool";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = pino({ level: "silent" });

describe("leases on PostgreSQL (fencing tokens)", function () {
  this.timeout(120_000);
  let pool: Pool;
  let leases: PgLeases;
  let n = 0;
  const scope = () => `chain:test-${++n}`;

  before(async () => {
    const url = await createTestDatabase("leases");
    const store = new PgDatabase(url, { max: 1 });
    await migrate(store);
    await store.close();
    pool = new Pool({ connectionString: url, max: 20 });
    leases = new PgLeases(pool);
  });
  after(async () => {
    await pool?.end();
  });

  it("grants a free lease to exactly one of many guardians racing for it", async () => {
    const s = scope();
    const grants = await Promise.all(Array.from({ length: 12 }, (_, i) => leases.tryAcquire(s, `g${i}`, 5_000)));
    const won = grants.filter((g): g is LeaseGrant => g !== undefined);
    expect(won).to.have.length(1);
    expect(won[0].token).to.equal(1n);
    expect((await leases.current(s))?.holder).to.equal(won[0].holder);
  });

  it("keeps the token while the holder renews, and hands a higher token to the next holder only after expiry", async () => {
    const s = scope();
    const a = (await leases.tryAcquire(s, "a", 300))!;
    expect(await leases.tryAcquire(s, "b", 300)).to.equal(undefined);
    const renewed = (await leases.renew(a, 300))!;
    expect(renewed.token).to.equal(a.token);
    expect(renewed.expiresAt.getTime()).to.be.greaterThan(a.expiresAt.getTime());
    await sleep(350);
    const b = (await leases.tryAcquire(s, "b", 300))!;
    expect(b.token).to.equal(a.token + 1n);
    // The old holder wakes up (SIGSTOP, a long GC): its renewal fails and its writes are fenced off.
    expect(await leases.renew(a, 300)).to.equal(undefined);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      let error: unknown;
      await leases.fence(client, a).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(LeaseLostError);
      expect((error as LeaseLostError).current).to.deep.equal({ holder: "b", token: b.token });
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
  });

  it("lets a standby take a released lease at once", async () => {
    const s = scope();
    const a = (await leases.tryAcquire(s, "a", 60_000))!;
    await leases.release(a);
    const b = (await leases.tryAcquire(s, "b", 60_000))!;
    expect(b.token).to.equal(a.token + 1n);
  });

  it("holds a takeover until a fenced write of the old leader commits: writes never interleave across terms", async () => {
    const s = scope();
    await pool.query("CREATE TABLE IF NOT EXISTS fenced_writes (scope TEXT, token BIGINT, at TIMESTAMPTZ DEFAULT clock_timestamp())");
    const a = (await leases.tryAcquire(s, "a", 150))!;
    const client = await pool.connect();
    await client.query("BEGIN");
    await leases.fence(client, a);
    await sleep(200); // the lease expires while the write is in its transaction
    let takenAt = 0;
    const takeover = leases.tryAcquire(s, "b", 5_000).then((g) => ((takenAt = Date.now()), g));
    await sleep(150);
    expect(takenAt, "the takeover waited for the fenced transaction").to.equal(0);
    await client.query("INSERT INTO fenced_writes (scope, token) VALUES ($1, $2)", [s, a.token.toString()]);
    const committedAt = Date.now();
    await client.query("COMMIT");
    client.release();
    const b = (await takeover)!;
    expect(takenAt).to.be.at.least(committedAt);
    expect(b.token).to.equal(a.token + 1n);
    // From now on the old leader's writes are refused.
    const late = await pool.connect();
    try {
      await late.query("BEGIN");
      let error: unknown;
      await leases.fence(late, a).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(LeaseLostError);
      await late.query("ROLLBACK");
    } finally {
      late.release();
    }
  });

  describe("Leadership", () => {
    function candidate(s: string, holder: string, options: { ttlMs?: number; intervalMs?: number; healthy?: () => boolean } = {}) {
      const terms: { holder: string; token: bigint; start: number; end?: number; reason?: DeposedReason }[] = [];
      // kill -9 (or SIGSTOP) of this guardian: from then on its database calls never return, so it neither renews
      // nor releases. It still believes it leads; fencing is what keeps its late writes out.
      let dead = false;
      // A partition: this guardian's database calls fail (connection refused) while the process runs on.
      let cut = false;
      const never = new Promise<never>(() => undefined);
      const gate = <T>(call: () => Promise<T>): Promise<T> => (dead ? never : cut ? Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1")) : call());
      const own: Leases = {
        tryAcquire: (...a) => gate(() => leases.tryAcquire(...a)),
        renew: (...a) => gate(() => leases.renew(...a)),
        release: (...a) => gate(() => leases.release(...a)),
      };
      const leadership = new Leadership({
        scope: s,
        holder,
        leases: own,
        ttlMs: options.ttlMs ?? 300,
        intervalMs: options.intervalMs,
        healthy: options.healthy,
        logger: quiet,
        onElected: (g) => void terms.push({ holder, token: g.token, start: Date.now() }),
        onDeposed: (reason) => {
          const t = terms[terms.length - 1];
          t.end = Date.now();
          t.reason = reason;
        },
      });
      return { leadership, terms, kill: () => (dead = true), partition: (on: boolean) => (cut = on) };
    }

    it("elects one of three; when the leader dies without a word a standby leads within the lease plus one attempt", async () => {
      const s = scope();
      const guardians = ["g1", "g2", "g3"].map((h) => candidate(s, h));
      for (const g of guardians) g.leadership.start();
      await sleep(250);
      const leaders = guardians.filter((g) => g.leadership.isLeader);
      expect(leaders).to.have.length(1);
      const dead = leaders[0];
      dead.kill();
      const diedAt = Date.now();
      let next: (typeof guardians)[number] | undefined;
      while (!next) {
        next = guardians.find((g) => g !== dead && g.leadership.isLeader);
        if (!next) await sleep(10);
        expect(Date.now() - diedAt).to.be.below(2_000);
      }
      const failoverMs = Date.now() - diedAt;
      expect(failoverMs, "failover within ttl (300) + interval (100) + slack").to.be.below(300 + 100 + 150);
      expect(next.terms[0].token).to.equal(dead.terms[0].token + 1n);
      expect(guardians.filter((g) => g !== dead && g.leadership.isLeader)).to.have.length(1);
      for (const g of guardians) if (g !== dead) await g.leadership.stop();
    });

    it("an unhealthy leader gives the lease up at once, and a clean stop hands over without waiting for expiry", async () => {
      const s = scope();
      let healthy = true;
      const a = candidate(s, "a", { ttlMs: 10_000, intervalMs: 50, healthy: () => healthy });
      a.leadership.start();
      await sleep(100);
      expect(a.leadership.isLeader).to.equal(true);
      const b = candidate(s, "b", { ttlMs: 10_000, intervalMs: 50 });
      b.leadership.start();
      await sleep(100);
      expect(b.leadership.isLeader).to.equal(false);
      healthy = false;
      const started = Date.now();
      while (!b.leadership.isLeader) {
        await sleep(20);
        expect(Date.now() - started, "well before the 10 s lease would expire").to.be.below(1_000);
      }
      expect(a.terms[0].reason).to.equal("unhealthy");
      // An unhealthy standby does not campaign; once healthy, it takes a lease released by a clean stop at once.
      await sleep(200);
      expect(a.leadership.isLeader).to.equal(false);
      healthy = true;
      await b.leadership.stop();
      expect(b.terms[0].reason).to.equal("stopped");
      const handedAt = Date.now();
      while (!a.leadership.isLeader) await sleep(20);
      expect(Date.now() - handedAt, "released, not expired").to.be.below(1_000);
      await a.leadership.stop();
    });
    it("a leader cut off from the database steps down once its lease must be presumed gone; the other side takes over", async () => {
      const s = scope();
      const a = candidate(s, "a", { ttlMs: 300, intervalMs: 50 });
      a.leadership.start();
      await sleep(100);
      expect(a.leadership.isLeader).to.equal(true);
      const b = candidate(s, "b", { ttlMs: 300, intervalMs: 50 });
      b.leadership.start();
      a.partition(true);
      const cutAt = Date.now();
      while (a.leadership.isLeader) await sleep(10);
      const steppedDownMs = Date.now() - cutAt;
      expect(a.terms[0].reason).to.equal("database");
      expect(steppedDownMs, "not before the lease could have expired").to.be.at.least(250);
      while (!b.leadership.isLeader) await sleep(10);
      expect(b.terms[0].token).to.equal(a.terms[0].token + 1n);
      a.partition(false);
      await sleep(150);
      expect(a.leadership.isLeader, "back as a standby, not a second leader").to.equal(false);
      await a.leadership.stop();
      await b.leadership.stop();
    });
  });
});
