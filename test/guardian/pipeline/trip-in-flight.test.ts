import { expect } from "chai";
import { readFileSync } from "node:fs";
import type { IncidentRecord } from "../../../guardian/reports/incident-record";
import { waitFor } from "../support/guardian-harness";
import { readGuardStore, startTripLab, type GuardFiles, type GuardProcess, type TripLab } from "../support/trip-lab";

/**
 * A trip the guardian decided must not be lost to a kill -9 or a routine SIGTERM, whichever state it was in: the real
 * `failsafe guard` runs as a child process against anvil and the local relay, the bank's only defence is the
 * guardian's trip, and the process is stopped after its bundle reached the relay. Each case then lets the bundle
 * land, or drops it, and restarts the guardian on the same store.
 */
describe("failsafe guard: a trip in flight survives kill -9 and SIGTERM (anvil + local relay + CLI)", function () {
  this.timeout(120_000);
  let lab: TripLab;

  before(async () => {
    lab = await startTripLab();
  });
  after(async () => {
    await lab?.stop();
  });

  // Each case needs a bank a guardian can trip: the previous case's trip lifted and the cooldown waited out.
  beforeEach(async () => {
    await resetBreaker();
  });

  const incident = (files: GuardFiles): IncidentRecord | undefined => readGuardStore(files.dbFile).incidents.find((r) => r.breaker === lab.bankAddress);

  /** Starts the guardian, waits until it follows the head, attacks, and waits until the trip bundle is at the relay. */
  async function attackUntilBundleSent(files: GuardFiles): Promise<{ guard: GuardProcess; attackBlock: number }> {
    const guard = lab.guard(files.file);
    const head = await lab.head();
    await waitFor("the guardian to follow the head", () => {
      if (guard.child.exitCode !== null) throw new Error(`failsafe guard exited with ${guard.child.exitCode}; see ${guard.logFile}`);
      return (readGuardStore(files.dbFile).cursor ?? -1) >= head;
    }, 60_000);
    await lab.attack();
    const attackBlock = await lab.mine();
    await waitFor("the trip bundle at the relay", async () => (await lab.pendingBundles()) > 0, 30_000);
    await waitFor("the guardian to commit that the bundle was sent", () => incident(files)?.tripState?.phase === "sent", 10_000);
    expect(incident(files)?.status).to.equal("tripping");
    return { guard, attackBlock };
  }

  async function restartUntilSettled(files: GuardFiles, mineWhileWaiting: boolean): Promise<{ guard: GuardProcess; record: IncidentRecord }> {
    const guard = lab.guard(files.file);
    const record = await waitFor("the incident to reach a final state after the restart", async () => {
      if (guard.child.exitCode !== null) throw new Error(`failsafe guard exited with ${guard.child.exitCode}; see ${guard.logFile}`);
      const r = incident(files);
      if (r && r.status !== "tripping") return r;
      if (mineWhileWaiting && (await lab.pendingBundles()) > 0) await lab.mine();
      return undefined;
    }, 30_000);
    return { guard, record };
  }

  async function stopGracefully(guard: GuardProcess): Promise<void> {
    guard.child.kill("SIGTERM");
    expect((await guard.exited()).code, "graceful exit").to.equal(0);
  }

  async function resetBreaker(): Promise<void> {
    await lab.resetBreaker();
    expect(await lab.bank.isTripped(), "lifted").to.equal(false);
  }

  it("kill -9 after the bundle reached the relay, bundle lands while the guardian is down: the restart records the trip as included", async () => {
    const files = await lab.writeConfig();
    const { guard, attackBlock } = await attackUntilBundleSent(files);
    const before = incident(files)!;
    expect(before.tripState?.phase, "the sent state was committed before the process died").to.equal("sent");
    guard.child.kill("SIGKILL");
    expect((await guard.exited()).signal).to.equal("SIGKILL");

    const tripBlock = await lab.mine();
    expect(await lab.bank.isTripped(), "the bundle landed while the guardian was down").to.equal(true);

    const restarted = await restartUntilSettled(files, false);
    expect(restarted.record.status).to.equal("tripped");
    expect(restarted.record.trip?.blockNumber).to.equal(tripBlock);
    expect(restarted.record.trip?.blockNumber).to.equal(attackBlock + 1);
    expect(restarted.record.tripState?.phase).to.equal("included");
    const steps = restarted.record.timeline.map((e) => e.step);
    const order = (["detected", "simulated", "sent", "resumed", "included"] as const).map((step) => steps.indexOf(step));
    expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `timeline ${steps.join(", ")}`).to.equal(true);
    const json = JSON.parse(readFileSync(restarted.record.files.json, "utf8")) as IncidentRecord;
    expect(json.status, "the report file shows the outcome").to.equal("tripped");
    await stopGracefully(restarted.guard);
  });

  it("kill -9 after the bundle reached the relay, bundle dropped by the builder: the restart re-sends the trip with the same incident id", async () => {
    const files = await lab.writeConfig();
    const { guard } = await attackUntilBundleSent(files);
    const before = incident(files)!;
    guard.child.kill("SIGKILL");
    await guard.exited();

    // The builder never includes the bundle: its target blocks pass without it.
    await lab.mineWithoutBundles(4);
    expect(await lab.bank.isTripped(), "nothing landed").to.equal(false);

    const restarted = await restartUntilSettled(files, true);
    expect(restarted.record.id).to.equal(before.id);
    expect(restarted.record.status).to.equal("tripped");
    expect(await lab.bank.isTripped()).to.equal(true);
    expect((await lab.bank.incident()).incidentId).to.equal(before.id);
    expect(restarted.record.timeline.map((e) => e.step)).to.include("resubmitted");
    await stopGracefully(restarted.guard);
  });

  it("SIGTERM during a trip: the bundle is not cancelled, the outcome is recorded before the store closes, and the exit is clean", async () => {
    const files = await lab.writeConfig({ policy: { shutdownGraceMs: 20_000 } });
    const { guard } = await attackUntilBundleSent(files);
    guard.child.kill("SIGTERM");
    // A routine restart while the trip waits for its block: the next block includes it.
    await new Promise((r) => setTimeout(r, 300));
    const sent = incident(files)!.tripState!.txHashes;
    const ours = lab.relay.pool.all().filter((b) => b.txHashes.some((h) => sent.includes(h)));
    expect(ours.filter((b) => b.state === "cancelled"), "no trip bundle cancelled").to.have.length(0);
    await lab.mine();
    const { code } = await guard.exited();
    expect(code, "graceful exit").to.equal(0);
    expect(await lab.bank.isTripped()).to.equal(true);
    const record = incident(files)!;
    expect(record.status).to.equal("tripped");
    const text = readFileSync(guard.logFile, "utf8");
    expect(text).to.not.include("The database connection is not open");
  });

  it("SIGTERM with no grace left: the trip is handed over (still sent, bundle pending) and the restart finishes it", async () => {
    const files = await lab.writeConfig({ policy: { shutdownGraceMs: 0 } });
    const { guard } = await attackUntilBundleSent(files);
    await stopGracefully(guard);
    const handedOver = incident(files)!;
    const ours = lab.relay.pool.all().filter((b) => b.txHashes.some((h) => handedOver.tripState!.txHashes.includes(h)));
    expect(ours.length, "the trip's bundles are at the relay").to.be.greaterThan(0);
    expect(ours.filter((b) => b.state === "cancelled"), `no trip bundle cancelled; ${guard.log().filter((l) => /trip|shut|cancel/.test(String(l.msg))).map((l) => `${l.msg} ${l.status ?? ""}`).join(" / ")}`).to.have.length(0);
    expect(handedOver.status, "not aborted").to.equal("tripping");
    expect(handedOver.tripState?.phase).to.equal("sent");
    const restarted = await restartUntilSettled(files, true);
    expect(restarted.record.status).to.equal("tripped");
    expect(await lab.bank.isTripped()).to.equal(true);
    await stopGracefully(restarted.guard);
  });
});
