import { expect } from "chai";
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { freePort, startAnvil } from "../../../guardian/ops/anvil";
import type { IncidentRecord } from "../../../guardian/reports/incident-record";
import { waitFor } from "../support/guardian-harness";
import { readGuardStore, startTripLab, type GuardFiles, type GuardProcess, type TripLab } from "../support/trip-lab";

/**
 * The guardian's disk under attack or failing: a reports folder it cannot write, a store deleted under it, a second
 * process on the same store, a store from another chain. The real `failsafe guard` runs as a child process against
 * anvil and the local relay; the bank's only defence is the guardian's trip.
 */
describe("failsafe guard: store and reports faults (anvil + local relay + CLI)", function () {
  this.timeout(120_000);
  let lab: TripLab;

  before(async () => {
    lab = await startTripLab();
  });
  after(async () => {
    await lab?.stop();
  });
  beforeEach(async () => {
    // Each case needs a bank a guardian can trip: the previous case's trip lifted and the cooldown waited out.
    await lab.resetBreaker();
  });

  const incident = (files: GuardFiles): IncidentRecord | undefined => readGuardStore(files.dbFile).incidents.find((r) => r.breaker === lab.bankAddress);

  async function startFollowing(files: GuardFiles): Promise<GuardProcess> {
    const guard = lab.guard(files.file);
    const head = await lab.head();
    await waitFor("the guardian to follow the head", () => {
      if (guard.child.exitCode !== null) throw new Error(`failsafe guard exited with ${guard.child.exitCode}; see ${guard.logFile}`);
      return (readGuardStore(files.dbFile).cursor ?? -1) >= head;
    }, 60_000);
    return guard;
  }

  /** Attacks and mines until the guardian's trip is included; returns the trip's block. */
  async function attackUntilTripped(): Promise<number> {
    await lab.attack();
    await lab.mine();
    await waitFor("the trip bundle at the relay", async () => (await lab.pendingBundles()) > 0, 30_000);
    const tripBlock = await lab.mine();
    expect(await lab.bank.isTripped(), "the guardian's trip landed").to.equal(true);
    return tripBlock;
  }

  async function healthz(port: number): Promise<{ status: number; body: { status: string; problems: string[]; chains: { reasons: string[] }[] } }> {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { status: res.status, body: (await res.json()) as never };
  }

  it("a second process on the same store is refused, and the first one keeps the store", async () => {
    const files = await lab.writeConfig();
    const first = await startFollowing(files);
    const second = lab.guard(files.file, `${files.file}.second.log`);
    const { code } = await second.exited();
    expect(code, "the second guardian refuses to start").to.not.equal(0);
    expect(readFileSync(second.logFile, "utf8")).to.match(new RegExp(`in use by another guardian \\(pid ${first.child.pid}`));
    expect(first.child.exitCode, "the first guardian still runs").to.equal(null);
    first.child.kill("SIGTERM");
    expect((await first.exited()).code).to.equal(0);
    // Released on exit: the next start takes the store.
    expect(existsSync(`${files.dbFile}.lock`)).to.equal(false);
  });

  it("a store written for another chain (another genesis, same chain id) is refused at start", async () => {
    const files = await lab.writeConfig();
    const guard = await startFollowing(files);
    guard.child.kill("SIGTERM");
    await guard.exited();
    const other = await startAnvil({ chainId: 31337, extraArgs: ["--timestamp", "1000"] });
    try {
      const reused = await lab.writeConfig({ dbFile: files.dbFile, rpc: [other.url], startBlock: 0 });
      const wrong = lab.guard(reused.file);
      const { code } = await wrong.exited();
      expect(code).to.not.equal(0);
      expect(readFileSync(wrong.logFile, "utf8")).to.match(/holds chain 31337 with genesis 0x[0-9a-f]{64}, but the node serves chain 31337 with genesis 0x[0-9a-f]{64}/);
    } finally {
      await other.stop();
    }
  });

  it("an unwritable reports folder during an attack: the trip still lands, /healthz says why, and the report is written once the folder is back", async () => {
    const blocker = path.join(lab.dir, "blocked");
    writeFileSync(blocker, "a file where the reports folder should be\n");
    const port = await freePort();
    // The operators' alert webhook hears the failure.
    const alerts: string[] = [];
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        alerts.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    process.env.FAILSAFE_STORE_FAULTS_HOOK_SECRET = "store-faults-hook-secret-0123456789abcdef";
    const extra = {
      notifiers: { ops: { type: "webhook", url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/ops`, secret: { env: "FAILSAFE_STORE_FAULTS_HOOK_SECRET" } } },
      alerts: { routes: [{ match: { detectors: ["guardian-ops"] }, notify: ["ops"] }] },
    };
    const files = await lab.writeConfig({ reports: path.join(blocker, "incidents"), metricsPort: port, extra });
    const guard = await startFollowing(files);
    const tripBlock = await attackUntilTripped();
    const record = await waitFor("the incident recorded as tripped", () => (incident(files)?.status === "tripped" ? incident(files) : undefined), 20_000);
    expect(record.trip?.blockNumber).to.equal(tripBlock);
    const health = await healthz(port);
    expect(health.status).to.equal(503);
    expect(health.body.problems.join(" ")).to.match(/incident report\(s\) could not be written/);
    expect(guard.log().some((l) => l.msg === "could not write incident report files; the store has the record and the write is retried")).to.equal(true);
    const alert = await waitFor("the report-write alert at the ops webhook", () => alerts.map((b) => (JSON.parse(b) as { alert: { detectorIds: string[]; severity: string; title: string } }).alert).find((a) => a.detectorIds.includes("guardian-ops")), 20_000);
    expect(alert.severity).to.equal("critical");
    hook.close();

    // The disk is back: the retry writes the report without a restart.
    unlinkSync(blocker);
    mkdirSync(blocker);
    const json = await waitFor("the incident report written", () => (existsSync(record.files.json) ? (JSON.parse(readFileSync(record.files.json, "utf8")) as IncidentRecord) : undefined), 20_000);
    expect(json.status).to.equal("tripped");
    expect((await healthz(port)).status).to.equal(200);
    guard.child.kill("SIGTERM");
    expect((await guard.exited()).code).to.equal(0);
    rmSync(blocker, { recursive: true, force: true });
  });

  it("a store deleted while running is a critical, unhealthy state, and the restart keeps the incident evidence instead of overwriting it", async () => {
    const port = await freePort();
    const files = await lab.writeConfig({ metricsPort: port });
    const guard = await startFollowing(files);
    const startBlock = await lab.head();
    await attackUntilTripped();
    const tripped = await waitFor("the incident recorded as tripped", () => (incident(files)?.status === "tripped" ? incident(files) : undefined), 20_000);
    await waitFor("the incident report", () => existsSync(tripped.files.json));

    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${files.dbFile}${suffix}`, { force: true });
    await lab.mine();
    const health = await waitFor("/healthz to turn unhealthy", async () => {
      const h = await healthz(port);
      return h.status === 503 ? h : undefined;
    }, 20_000);
    expect(health.body.problems.join(" ")).to.match(/was deleted while the guardian was running/);
    // /healthz sees the missing file at once; the log says it when the next block's commit is refused.
    await waitFor("the critical log line", () => guard.log().some((l) => l.level === 60 && /critical: the store .* was deleted/.test(String(l.msg))), 20_000);
    // And a finding through the sinks (the alert routes), at the next liveness check rather than the heartbeat.
    await waitFor("a routed liveness finding", () => guard.log().some((l) => l.detector_id === "liveness" && /^guardian critical: .*was deleted/.test(String(l.msg))), 20_000);
    guard.child.kill("SIGKILL");
    await guard.exited();

    // The restart replays from the configured start block over an empty store: the attack is seen again.
    const restarted = lab.guard(files.file);
    await waitFor("the restarted guardian to pass the attack", () => (readGuardStore(files.dbFile).cursor ?? -1) >= startBlock + 2, 60_000);
    const json = JSON.parse(readFileSync(tripped.files.json, "utf8")) as IncidentRecord;
    expect(json.status, "the tripped record is not overwritten").to.equal("tripped");
    expect(json.openedAt).to.equal(tripped.openedAt);
    expect(json.trip).to.deep.equal(tripped.trip);
    const recovered = incident(files)!;
    expect(recovered.status).to.equal("tripped");
    expect(recovered.notes.join(" ")).to.match(/Recovered from incident-[0-9a-f]{12}\.json/);
    restarted.child.kill("SIGTERM");
    expect((await restarted.exited()).code).to.equal(0);
    expect(restarted.log().some((l) => l.level === 60 && /store was deleted or replaced/.test(String(l.msg))), "the recovery is logged as critical").to.equal(true);
  });
});
