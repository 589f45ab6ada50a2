import { expect } from "chai";
import { Client } from "pg";
import { adminUrl, createTestDatabase } from "../../support/postgres";
import { waitFor } from "../support/guardian-harness";
import { startTripLab, type GuardProcess, type TripLab } from "../support/trip-lab";

const URL_ENV = "FAILSAFE_TEST_DBLOSS_URL";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The shared PostgreSQL store goes away mid-run (every connection cut, new ones refused) while an attack lands, then
 * comes back. Guardians cannot commit without it, so the leader steps down with a clear error once its lease must
 * be presumed gone; when the database returns one of them leads again from the committed cursor, processes the
 * blocks of the outage and trips. Nothing committed before is lost, and nothing is committed twice.
 */
describe("the shared PostgreSQL store lost mid-run and back", function () {
  this.timeout(180_000);
  let lab: TripLab;
  let admin: Client;
  let database: string;
  let mining = true;
  let miner: Promise<void>;
  const guards: GuardProcess[] = [];

  before(async () => {
    lab = await startTripLab();
    const url = await createTestDatabase("dbloss");
    database = new URL(url).pathname.slice(1);
    process.env[URL_ENV] = url;
    admin = new Client({ connectionString: await adminUrl() });
    admin.on("error", () => undefined);
    await admin.connect();
    const start = await lab.head();
    for (const name of ["a", "b"]) {
      const cfg = await lab.writeConfig({ startBlock: start, extra: { store: { postgres: { url: { env: URL_ENV }, leaseMs: 900 }, path: `${lab.dir}/${name}.sqlite` } } });
      guards.push(lab.guard(cfg.file));
    }
    miner = (async () => {
      while (mining) {
        await lab.mine().catch(() => undefined);
        await sleep(300);
      }
    })();
  });

  after(async () => {
    mining = false;
    await miner;
    await admin?.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin?.end();
    await lab?.stop();
    delete process.env[URL_ENV];
  });

  it("steps down while it is gone, then trips the attack of the outage from the committed cursor when it returns", async () => {
    const store = new Client({ connectionString: process.env[URL_ENV] });
    store.on("error", () => undefined);
    await store.connect();
    let before: number;
    let findingsBefore: { id: string }[];
    try {
      // Until a guardian has migrated the new database, its tables do not exist yet.
      const cursor = async () => Number((await store.query<{ number: string }>("SELECT number FROM guardian_cursor WHERE chain_id = 31337").catch(() => ({ rows: [] }))).rows[0]?.number ?? -1);
      await waitFor("a leader committing blocks", async () => ((await cursor()) >= (await lab.head()) - 3 ? true : undefined), 60_000);
      before = await cursor();
      findingsBefore = (await store.query<{ id: string }>("SELECT id FROM guardian_findings ORDER BY id")).rows;
    } finally {
      await store.end();
    }

    // The database goes away: every guardian connection is cut and new ones are refused.
    await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [database]);
    const attack = await lab.attack();
    await sleep(3_000);
    expect(await lab.bank.isTripped(), "nothing can commit, so nothing trips while the store is gone").to.equal(false);
    const log = () => guards.flatMap((g) => g.log());
    const said = log().filter((l) => (l.level as number) >= 40).map((l) => String(l.msg));
    expect(said, "the leader says why it stopped").to.include("database unreachable for longer than the lease: stepping down");
    const dead = guards.filter((g) => g.child.exitCode !== null);
    expect(dead.map((g) => `exit ${g.child.exitCode}: ${JSON.stringify(g.log().slice(-4))}`), "guardians keep running, waiting for the store").to.deep.equal([]);

    await admin.query(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
    await waitFor("the outage's attack tripped once the store is back", () => lab.bank.isTripped().then((t) => (t ? true : undefined)), 60_000);
    const after = new Client({ connectionString: process.env[URL_ENV] });
    after.on("error", () => undefined);
    await after.connect();
    try {
      const { rows } = await after.query<{ number: string }>("SELECT number FROM guardian_cursor WHERE chain_id = 31337");
      expect(Number(rows[0].number)).to.be.at.least(before);
      const { rows: findings } = await after.query<{ id: string; tx_hash: string | null }>("SELECT id, tx_hash FROM guardian_findings ORDER BY id");
      expect(findings.map((f) => f.id)).to.include.members(findingsBefore.map((f) => f.id));
      expect(findings.filter((f) => f.tx_hash === attack).length, "the attack's finding, once").to.be.greaterThan(0);
      // The trip landed; its outcome is recorded right after the inclusion is verified.
      await waitFor("the incident recorded as tripped", async () => {
        const { rows: incidents } = await after.query<{ status: string }>("SELECT status FROM incidents");
        return incidents.length === 1 && incidents[0].status === "tripped" ? true : undefined;
      }, 30_000);
    } finally {
      await after.end();
    }
    const events = await lab.bank.queryFilter(lab.bank.filters.Tripped(), 0);
    expect(events).to.have.length(1);
  });
});
