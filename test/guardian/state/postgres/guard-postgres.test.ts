import { expect } from "chai";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import { createTestDatabase } from "../../../support/postgres";
import { waitFor } from "../../support/guardian-harness";
import { startTripLab, type TripLab } from "../../support/trip-lab";

const URL_ENV = "FAILSAFE_TEST_POSTGRES_URL";
const execFileAsync = promisify(execFile);

/**
 * The real `failsafe guard` (a child process) with `store: { postgres: { url: { env } } }`, against anvil and the
 * local relay: an attack is found, the breaker tripped, and the finding and the incident are in PostgreSQL.
 */
describe("failsafe guard with a PostgreSQL store (anvil + local relay + CLI)", function () {
  this.timeout(180_000);
  let lab: TripLab;
  let url: string;
  let client: Client;

  before(async () => {
    lab = await startTripLab();
    url = await createTestDatabase("guard_e2e");
    client = new Client({ connectionString: url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    await lab?.stop();
    delete process.env[URL_ENV];
  });

  it("records the finding, the incident and its trip in PostgreSQL, and the URL's password never reaches the log", async () => {
    process.env[URL_ENV] = url;
    const cfg = await lab.writeConfig({ extra: { store: { postgres: { url: { env: URL_ENV } }, path: `${lab.dir}/local.sqlite` } } });
    const guard = lab.guard(cfg.file);
    const start = await lab.head();
    await waitFor("the guardian's cursor in PostgreSQL", async () => {
      if (guard.child.exitCode !== null) throw new Error(`guard exited ${guard.child.exitCode}: ${JSON.stringify(guard.log().slice(-5))}`);
      const { rows } = await client.query("SELECT number FROM guardian_cursor WHERE chain_id = 31337").catch(() => ({ rows: [] as { number: string }[] }));
      return rows[0] && Number(rows[0].number) >= start ? true : undefined;
    }, 60_000);

    const attackTx = await lab.attack();
    await lab.mine();
    const tripped = await waitFor(
      "the incident tripped in PostgreSQL",
      async () => {
        const { rows } = await client.query<{ record: string; status: string }>("SELECT record, status FROM incidents");
        if (rows[0]?.status === "tripped") return rows[0];
        await lab.mine();
        return undefined;
      },
      60_000,
    );
    const record = JSON.parse(tripped.record) as { breaker: string; findings: { id: string; txHash?: string }[]; trip?: { txHash: string } };
    expect(record.breaker).to.equal(lab.bankAddress);
    expect(record.trip?.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(await lab.bank.isTripped()).to.equal(true);

    const { rows: findings } = await client.query<{ id: string; detector_id: string; tx_hash: string | null; delivered: boolean }>(
      "SELECT id, detector_id, tx_hash, delivered FROM guardian_findings WHERE chain_id = 31337",
    );
    const reentrancy = findings.filter((f) => f.detector_id === "reentrancy" && f.tx_hash === attackTx);
    expect(reentrancy, "the attack's finding").to.have.length.greaterThan(0);
    expect(record.findings.map((f) => f.id)).to.include(reentrancy[0].id);
    const { rows: migrations } = await client.query<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
    expect(migrations.map((m) => m.version)).to.deep.equal([1, 2]);

    // Governors read the shared store, not a local file: `incident list` and `incident show` see the incident.
    const cli = (args: string[]) => execFileAsync(process.execPath, [path.resolve(__dirname, "../../../../bin/failsafe.cjs"), ...args], { env: { ...process.env, [URL_ENV]: url } });
    const listed = JSON.parse((await cli(["incident", "list", "-c", cfg.file, "--format", "json"])).stdout) as { id: string; status: string }[];
    expect(listed.map((r) => r.status)).to.deep.equal(["tripped"]);
    const shown = JSON.parse((await cli(["incident", "show", listed[0].id.slice(0, 12), "-c", cfg.file, "--format", "json"])).stdout) as { incidentId: string; switch: { isTripped: boolean } };
    expect(shown.incidentId).to.equal(listed[0].id);
    expect(shown.switch.isTripped).to.equal(true);

    guard.child.kill("SIGTERM");
    const { code } = await guard.exited();
    expect(code).to.equal(0);
    const log = guard.log();
    expect(log.find((l) => l.msg === "store opened")).to.include({ backend: "postgres" });
    const password = new URL(url).password;
    expect(JSON.stringify(log)).to.not.include(password);
  });
});
