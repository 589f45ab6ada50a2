import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, ZeroHash, keccak256, toUtf8Bytes } from "ethers";
import type { BreakerConsumer, TimelockedRecovery } from "../../../typechain-types";
import { BreakerConsumer__factory, TimelockedRecovery__factory } from "../../../typechain-types";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import type { BlockContext } from "../../../guardian/context/types";
import { DecisionSink, type ResolvedBreaker } from "../../../guardian/decisions/decision-sink";
import { checkTrip } from "../../../guardian/decisions/trip-check";
import { policyConfigSchema } from "../../../guardian/decisions/policy-config";
import { TripMetrics } from "../../../guardian/decisions/trip-metrics";
import { Registry } from "prom-client";
import { makeFinding } from "../../../guardian/detectors/finding";
import type { Severity } from "../../../guardian/detectors/types";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { LocalRelay, startLocalRelay } from "../../../guardian/relay/local-relay";
import { IncidentRecorder, type IncidentRecord } from "../../../guardian/reports/incident-record";
import { FlashbotsTripResponder, flashbotsTripParams } from "../../../guardian/responders/flashbots-trip";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IncidentStore } from "../../../guardian/state/incident-store";
import { capturingLogger } from "../responders/helpers";

const CHAIN_ID = 31337;
const TIMELOCK_DELAY = 3600;

describe("DecisionSink", function () {
  let anvil: AnvilInstance;
  let relay: LocalRelay;
  let idleRelay: LocalRelay;
  let provider: JsonRpcProvider;
  let timelock: TimelockedRecovery;
  let breakers: BreakerConsumer[];
  let next = 0;
  let dir: string;
  let db: Db;
  const governor = new Wallet(anvilKey(0));
  const guardianKey = anvilKey(1);
  const sinks: DecisionSink[] = [];

  before(async function () {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 });
    const deployer = governor.connect(provider);
    timelock = await new TimelockedRecovery__factory(deployer).deploy(TIMELOCK_DELAY, [governor.address], [governor.address], governor.address);
    await timelock.waitForDeployment();
    breakers = [];
    for (let i = 0; i < 8; i++) {
      const b = await new BreakerConsumer__factory(deployer).deploy(await timelock.getAddress(), [new Wallet(guardianKey).address]);
      await b.waitForDeployment();
      breakers.push(b);
    }
    relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "interval", intervalMs: 100 } });
    idleRelay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-decisions-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));
  });

  after(async function () {
    for (const s of sinks) await s.close();
    await relay?.stop();
    await idleRelay?.stop();
    await anvil?.stop();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sinkFor(breaker: BreakerConsumer, options: { dryRun?: boolean; relayUrl?: string } = {}) {
    const log = capturingLogger();
    const rpc = new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], maxAttempts: 1 });
    const responder = new FlashbotsTripResponder(
      "trip",
      flashbotsTripParams.parse({ relays: [{ url: options.relayUrl ?? relay.url }], signer: { keyEnv: "GUARDIAN_KEY" }, pollIntervalMs: 25 }),
      { chainId: CHAIN_ID, rpc, logger: log.logger, env: { GUARDIAN_KEY: guardianKey } },
    );
    const address = (await breaker.getAddress()).toLowerCase();
    const resolved: ResolvedBreaker = { chainId: CHAIN_ID, contract: address, contractName: "Treasury", breaker: address, responder, timelock: (await timelock.getAddress()).toLowerCase() };
    const recorder = new IncidentRecorder({
      store: new IncidentStore(db),
      dir: path.join(dir, "incidents"),
      logger: log.logger,
      provider: () => provider,
      breakerInfo: () => ({ name: "Treasury", timelock: resolved.timelock }),
    });
    const registry = new Registry();
    const sink = new DecisionSink({
      policy: policyConfigSchema.parse({ dryRun: options.dryRun ?? false }),
      breakers: [resolved],
      recorder,
      logger: log.logger,
      metrics: new TripMetrics(registry),
      isTripped: () => breaker.isTripped(),
      checkTrip: (_chainId, breakerAddr, txHash) => checkTrip(provider, breakerAddr, txHash),
    });
    sinks.push(sink);
    return { sink, recorder, address, log, registry };
  }

  function findingAbout(contract: string, severity: Severity, tag: string) {
    return makeFinding({
      detectorId: "reentrancy",
      severity,
      title: `reentrant withdrawal (${tag})`,
      block: { chainId: CHAIN_ID, number: 1, hash: "0x" + "cd".repeat(32) },
      txHash: "0x" + "ef".repeat(32),
      contract,
      subject: tag,
      evidence: { depth: 3, drained: 10n ** 18n },
    });
  }

  const blockOf = (n = 1): BlockContext => ({ chainId: CHAIN_ID, number: n, hash: "0x" + "cd".repeat(32), parentHash: ZeroHash, timestamp: 0, transactions: [] });

  async function only(recorder: IncidentRecorder, breaker: string): Promise<IncidentRecord> {
    const mine = (await recorder.list()).filter((r) => r.breaker === breaker);
    expect(mine).to.have.length(1);
    return mine[0];
  }

  it("trips on a critical finding and writes the incident as JSON and Markdown, with governance actions that work", async function () {
    const breaker = breakers[next++];
    const { sink, recorder, address, registry } = await sinkFor(breaker);
    const finding = findingAbout(address, "critical", "first");
    await sink.onFindings([finding, findingAbout(address, "medium", "noise")], blockOf());
    await sink.settled();

    expect(await breaker.isTripped()).to.equal(true);
    const record = (await only(recorder, address));
    expect(record.status).to.equal("tripped");
    expect(record.findings.map((f) => f.id)).to.deep.equal([finding.id]);
    expect(record.findings[0].evidence).to.deep.equal({ depth: 3, drained: "1000000000000000000" });
    expect(record.timeline.map((e) => e.step)).to.include.members(["detected", "simulated", "sent", "included"]);
    expect(record.trip?.via).to.equal("bundle");
    expect(record.bundleHashes.length).to.be.greaterThan(0);
    expect(record.detectToIncludeMs).to.be.a("number");
    expect((await breaker.incident()).incidentId).to.equal(record.id);
    expect(await registry.getSingleMetricAsString("failsafe_trips_total")).to.include('failsafe_trips_total{chain="31337",status="included",via="bundle"} 1');
    expect(await registry.getSingleMetricAsString("failsafe_trip_detect_to_include_seconds")).to.include('failsafe_trip_detect_to_include_seconds_count{chain="31337"} 1');

    const json = JSON.parse(readFileSync(record.files.json, "utf8")) as IncidentRecord;
    expect(json.id).to.equal(record.id);
    expect(json.status).to.equal("tripped");
    const markdown = readFileSync(record.files.markdown, "utf8");
    expect(markdown).to.include(`# Incident ${record.id}`);
    expect(markdown).to.include(record.trip!.txHash);
    expect(markdown).to.include(record.bundleHashes[0]);
    expect(markdown).to.include("reentrant withdrawal (first)");
    expect(markdown).to.match(/\| included \|/);

    // The recorded governance action lifts the trip when run through the real timelock.
    const lift = record.governance.find((g) => g.decision === "lift")!;
    expect(lift.timelock.delay).to.equal(String(TIMELOCK_DELAY));
    const signer = governor.connect(provider);
    await (await signer.sendTransaction({ to: lift.timelock.schedule.to, data: lift.timelock.schedule.data })).wait();
    await provider.send("evm_increaseTime", [TIMELOCK_DELAY + 1]);
    await (await signer.sendTransaction({ to: lift.timelock.execute.to, data: lift.timelock.execute.data })).wait();
    expect(await breaker.isTripped()).to.equal(false);
    const ratify = record.governance.find((g) => g.decision === "ratify")!;
    expect(ratify.action.signature).to.equal("ratify(bytes32,uint64)");
  });

  it("merges concurrent findings for one breaker into one incident and one trip", async function () {
    const breaker = breakers[next++];
    const { sink, recorder, address } = await sinkFor(breaker);
    await Promise.all([
      sink.onFindings([findingAbout(address, "critical", "a")], blockOf()),
      sink.onFindings([findingAbout(address, "critical", "b")], blockOf()),
    ]);
    await sink.settled();
    const record = (await only(recorder, address));
    expect(record.findings).to.have.length(2);
    expect(await breaker.queryFilter(breaker.filters.Tripped(), 0, "latest")).to.have.length(1);

    // Later findings while the breaker stays tripped join the incident that tripped it.
    await sink.onFindings([findingAbout(address, "critical", "c")], blockOf(2));
    await sink.settled();
    expect((await only(recorder, address)).findings).to.have.length(3);

    // So do they after a restart: a new sink on the same database finds the incident that tripped.
    const restarted = await sinkFor(breaker);
    await restarted.sink.onFindings([findingAbout(address, "critical", "d")], blockOf(3));
    await restarted.sink.settled();
    expect((await only(restarted.recorder, address)).findings).to.have.length(4);
    expect(await breaker.queryFilter(breaker.filters.Tripped(), 0, "latest")).to.have.length(1);
  });

  it("only alerts (no incident, no trip) on findings below the trip threshold", async function () {
    const breaker = breakers[next++];
    const { sink, recorder, address, log } = await sinkFor(breaker);
    await sink.onFindings([findingAbout(address, "high", "high")], blockOf());
    await sink.settled();
    expect((await recorder.list()).filter((r) => r.breaker === address)).to.have.length(0);
    expect(await breaker.isTripped()).to.equal(false);
    expect(log.lines.map((l) => JSON.parse(l)).find((l) => l.msg === "decision")).to.include({ action: "alert", rule: "default" });
  });

  it("in dry-run sends nothing and records a decision, not an incident: no report files, no governance payloads", async function () {
    const breaker = breakers[next++];
    const { sink, recorder, address, registry } = await sinkFor(breaker, { dryRun: true });
    const bundles = relay.pool.all().length;
    const finding = findingAbout(address, "critical", "dry");
    await sink.onFindings([finding], blockOf());
    await sink.settled();
    expect(relay.pool.all().length).to.equal(bundles);
    expect(await breaker.isTripped()).to.equal(false);
    expect((await recorder.list()).filter((r) => r.breaker === address)).to.deep.equal([]);
    const decision = (await recorder.decisions()).find((r) => r.breaker === address)!;
    expect(decision.status).to.equal("dry-run");
    expect(decision.dryRun).to.equal(true);
    expect(decision.governance).to.deep.equal([]);
    expect(decision.findings.map((f) => f.id)).to.deep.equal([finding.id]);
    expect(existsSync(decision.files.json) || existsSync(decision.files.markdown)).to.equal(false);
    expect(await registry.getSingleMetricAsString("failsafe_trips_total")).to.include('status="dry-run"');
    // The same finding again (a replay, a restart): the decision stands, no second run.
    await sink.onFindings([finding], blockOf());
    await sink.settled();
    expect((await recorder.decisions()).filter((r) => r.breaker === address)).to.have.length(1);
    expect((await recorder.list()).filter((r) => r.breaker === address)).to.deep.equal([]);
  });

  it("a trip that finds the breaker already tripped by another guardian is a decision, not an incident; its report files are removed", async function () {
    const breaker = breakers[next++];
    const { sink, recorder, address } = await sinkFor(breaker);
    // Another guardian (its own store) tripped first, for its own incident.
    const theirs = keccak256(toUtf8Bytes("another guardian's incident"));
    await (await breaker.connect(new Wallet(guardianKey, provider)).trip(theirs)).wait();
    await sink.onFindings([findingAbout(address, "critical", "late")], blockOf());
    await sink.settled();
    expect((await recorder.list()).filter((r) => r.breaker === address)).to.deep.equal([]);
    const decision = (await recorder.decisions()).find((r) => r.breaker === address)!;
    expect(decision.status).to.equal("already-tripped");
    expect(decision.trippedBy?.incidentId.toLowerCase()).to.equal(theirs);
    expect(decision.governance).to.deep.equal([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(existsSync(decision.files.json) || existsSync(decision.files.markdown)).to.equal(false);
  });

  it("a trip beaten by an incident the store holds (a guardian sharing it) hands its findings to that incident", async function () {
    const breaker = breakers[next++];
    const { sink, recorder, address } = await sinkFor(breaker);
    // The winner is written by another process on the same store after this sink started.
    const winner = keccak256(toUtf8Bytes("the shared store's incident"));
    const other = new IncidentRecorder({ store: new IncidentStore(db), dir: path.join(dir, "incidents"), logger: capturingLogger().logger, provider: () => provider, breakerInfo: () => ({}) });
    const early = findingAbout(address, "critical", "early");
    await other.open({ id: winner, chainId: CHAIN_ID, breaker: address, findings: [early], dryRun: false });
    const tx = await (await breaker.connect(new Wallet(guardianKey, provider)).trip(winner)).wait();
    await other.recordOutcome(winner, { status: "included", incidentId: winner, breaker: address, via: "public", txHash: tx!.hash, blockNumber: tx!.blockNumber, blockHash: tx!.blockHash, bundleHashes: [], timeline: [] });

    const late = findingAbout(address, "critical", "second");
    await sink.onFindings([late], blockOf());
    await sink.settled();
    const incidents = (await recorder.list()).filter((r) => r.breaker === address);
    expect(incidents.map((r) => r.id)).to.deep.equal([winner]);
    expect(incidents[0].findings.map((f) => f.id)).to.deep.equal([early.id, late.id]);
    expect((await recorder.decisions()).find((r) => r.breaker === address)?.status).to.equal("already-tripped");
    // Later findings join the winner at once: no third trip attempt.
    const third = findingAbout(address, "critical", "third");
    await sink.onFindings([third], blockOf());
    await sink.settled();
    expect((await recorder.get(winner))!.findings.map((f) => f.id)).to.include(third.id);
    expect((await recorder.decisions()).filter((r) => r.breaker === address)).to.have.length(1);
  });

  it("trips the breaker of the contract read for a read-only reentrancy filed against its unconfigured victim", async function () {
    // The breaker is configured for the contract read (a pool whose callback opens the window); the finding
    // names the victim (the lender that priced off the pool mid-call). Before findings named the victim this
    // breaker tripped on them: it must still, or the configured defence silently stops firing.
    const breaker = breakers[next++];
    const { sink, recorder, address, log } = await sinkFor(breaker, { dryRun: true });
    const victim = Wallet.createRandom().address.toLowerCase();
    const readOnly = (tag: string, evidence: Record<string, unknown>) =>
      makeFinding({
        detectorId: "reentrancy",
        severity: "critical",
        title: `read-only reentrancy (${tag})`,
        block: { chainId: CHAIN_ID, number: 1, hash: "0x" + "cd".repeat(32) },
        txHash: "0x" + "ef".repeat(32),
        contract: victim,
        subject: `read-only:${tag}`,
        evidence: { contract: victim, victim, ...evidence } as never,
      });
    // A state-changing finding about the victim that happens to carry the field reaches no other breaker.
    await sink.onFindings([readOnly("not read-only", { readOnly: false, contractRead: address })], blockOf());
    await sink.settled();
    expect((await recorder.list()).filter((r) => r.breaker === address)).to.have.length(0);
    expect(log.lines.map((l) => JSON.parse(l)).some((l) => /has no breaker/.test(l.msg))).to.equal(true);

    const finding = readOnly("victim", { readOnly: true, contractRead: address });
    await sink.onFindings([finding], blockOf());
    await sink.settled();
    const record = (await recorder.decisions()).find((r) => r.breaker === address)!;
    expect(record.status).to.equal("dry-run");
    expect(record.findings.map((f) => f.id)).to.deep.equal([finding.id]);
    expect(record.findings[0].contract).to.equal(victim);
  });

  it("returns before the trip lands, and aborts it when a reorg retracts every finding behind it", async function () {
    const breaker = breakers[next++];
    const { sink, recorder, address } = await sinkFor(breaker, { relayUrl: idleRelay.url });
    const finding = findingAbout(address, "critical", "reorged");
    await sink.onFindings([finding], blockOf());
    expect((await only(recorder, address)).status).to.equal("tripping");
    while (!idleRelay.pool.all().some((b) => b.state === "pending")) await new Promise((r) => setTimeout(r, 20));

    const ancestor = { number: 0, hash: ZeroHash, parentHash: ZeroHash, timestamp: 0 };
    await sink.onRetractions([finding], { chainId: CHAIN_ID, depth: 1, commonAncestor: ancestor, orphaned: [], added: [] });
    await sink.settled();
    const record = (await only(recorder, address));
    expect(record.status).to.equal("aborted");
    expect(record.findings[0].retracted?.reorgDepth).to.equal(1);
    expect(record.notes.join(" ")).to.match(/retracted by a 1-block reorg/);
    expect(await breaker.isTripped()).to.equal(false);
    expect(existsSync(record.files.json)).to.equal(true);
  });
});
