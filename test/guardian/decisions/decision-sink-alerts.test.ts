import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, ZeroHash } from "ethers";
import { BreakerConsumer__factory, TimelockedRecovery__factory } from "../../../typechain-types";
import type { BreakerConsumer } from "../../../typechain-types";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import type { ReorgEvent } from "../../../guardian/chain/types";
import type { BlockContext } from "../../../guardian/context/types";
import { DecisionSink } from "../../../guardian/decisions/decision-sink";
import { checkTrip } from "../../../guardian/decisions/trip-check";
import { policyConfigSchema } from "../../../guardian/decisions/policy-config";
import { makeFinding } from "../../../guardian/detectors/finding";
import type { Finding } from "../../../guardian/detectors/types";
import { alertsConfigSchema } from "../../../guardian/notifiers/alert-routes";
import { createNotifiers } from "../../../guardian/notifiers/create-notifiers";
import { AlertDispatcher } from "../../../guardian/notifiers/dispatcher";
import type { AlertMessage } from "../../../guardian/notifiers/types";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { startLocalRelay, type LocalRelay } from "../../../guardian/relay/local-relay";
import { buildGovernancePayload } from "../../../guardian/reports/governance-payloads";
import { IncidentRecorder } from "../../../guardian/reports/incident-record";
import { FlashbotsTripResponder, flashbotsTripParams } from "../../../guardian/responders/flashbots-trip";
import { AlertStore } from "../../../guardian/state/alert-store";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IncidentStore } from "../../../guardian/state/incident-store";
import { silentLogger } from "../notifiers/fixtures";
import { startCaptureServer, type CaptureServer } from "../notifiers/local-servers";

const CHAIN_ID = 31337;
const DELAY = 60n;

/** The trip path's side of the governance loop: it announces its trips, and closes incidents lifted on chain. */
describe("DecisionSink with the alert stage", function () {
  this.timeout(60_000);
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let relay: LocalRelay;
  let hook: CaptureServer;
  let dir: string;
  let db: Db;
  let breaker: BreakerConsumer;
  let breakerAddress: string;
  let timelockAddress: string;
  let sink: DecisionSink;
  let dispatcher: AlertDispatcher;
  let recorder: IncidentRecorder;
  const governor = new Wallet(anvilKey(0));

  before(async () => {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 });
    const deployer = governor.connect(provider);
    const timelock = await (await new TimelockedRecovery__factory(deployer).deploy(DELAY, [governor.address], [governor.address], governor.address)).waitForDeployment();
    timelockAddress = (await timelock.getAddress()).toLowerCase();
    breaker = await (await new BreakerConsumer__factory(deployer).deploy(timelockAddress, [new Wallet(anvilKey(1)).address])).waitForDeployment();
    breakerAddress = (await breaker.getAddress()).toLowerCase();
    relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "interval", intervalMs: 100 } });
    hook = await startCaptureServer((_req, res) => res.writeHead(204).end());
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-decision-alerts-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));

    const responder = new FlashbotsTripResponder(
      "trip",
      flashbotsTripParams.parse({ relays: [{ url: relay.url }], signer: { keyEnv: "GUARDIAN_KEY" }, pollIntervalMs: 25 }),
      { chainId: CHAIN_ID, rpc: new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], maxAttempts: 1 }), logger: silentLogger, env: { GUARDIAN_KEY: anvilKey(1) } },
    );
    recorder = new IncidentRecorder({
      store: new IncidentStore(db),
      dir: path.join(dir, "incidents"),
      logger: silentLogger,
      provider: () => provider,
      breakerInfo: () => ({ name: "Treasury", timelock: timelockAddress }),
    });
    sink = new DecisionSink({
      policy: policyConfigSchema.parse({}),
      breakers: [{ chainId: CHAIN_ID, contract: breakerAddress, contractName: "Treasury", breaker: breakerAddress, responder, timelock: timelockAddress }],
      recorder,
      logger: silentLogger,
      isTripped: () => breaker.isTripped(),
      checkTrip: (_chainId, breakerAddr, txHash) => checkTrip(provider, breakerAddr, txHash),
    });
    process.env.FAILSAFE_TEST_DECISION_ALERTS_SECRET = "decision-alerts-secret-0123456789abcdef";
    const notifiers = createNotifiers({ security: { type: "webhook", url: `${hook.url}/hook`, secret: { env: "FAILSAFE_TEST_DECISION_ALERTS_SECRET" } } }, { logger: silentLogger });
    dispatcher = new AlertDispatcher(alertsConfigSchema.parse({ routes: [{ match: { kinds: ["trip", "lift"] }, notify: ["security"] }] }), {
      store: new AlertStore(db),
      logger: silentLogger,
      notifiers,
    });
    sink.announceTripsTo(dispatcher);
  });

  after(async () => {
    await sink?.close();
    await dispatcher?.close();
    await relay?.stop();
    await hook?.close();
    provider?.destroy();
    await anvil?.stop();
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const block = (n: number, hash = `0x${n.toString(16).padStart(64, "0")}`): BlockContext => ({ chainId: CHAIN_ID, number: n, hash, parentHash: ZeroHash, timestamp: 0, transactions: [] });
  const alerts = () => hook.requests.map((r) => (JSON.parse(r.body) as { alert: AlertMessage }).alert);

  /** What failsafe-watch reports for one of the breaker's own events. */
  function watched(event: "Tripped" | "Lifted", args: Record<string, unknown>, at: { number: number; hash: string; txHash: string }): Finding {
    return makeFinding({
      detectorId: "failsafe-watch",
      severity: event === "Tripped" ? "high" : "info",
      title: `${event} on Treasury`,
      block: { chainId: CHAIN_ID, number: at.number, hash: at.hash },
      txHash: at.txHash,
      contract: breakerAddress,
      subject: event,
      evidence: { event, args },
    });
  }

  it("announces its trip once at inclusion, and closes the incident when the lift is seen on chain", async () => {
    const finding = makeFinding({
      detectorId: "reentrancy",
      severity: "critical",
      title: "reentrant withdrawal",
      block: { chainId: CHAIN_ID, number: 1, hash: `0x${"cd".repeat(32)}` },
      txHash: `0x${"ef".repeat(32)}`,
      contract: breakerAddress,
      subject: "drain",
      evidence: {},
    });
    await sink.onFindings([finding], block(1, `0x${"cd".repeat(32)}`));
    await sink.settled();
    await dispatcher.idle();
    const record = (await recorder.list())[0];
    expect(record.status).to.equal("tripped");
    expect(alerts()).to.have.length(1);
    expect(alerts()[0]).to.include({ kind: "trip", incidentId: record.id });
    expect(alerts()[0].summary).to.include(`in block ${record.trip!.blockNumber}`);
    expect(alerts()[0].findings.map((f) => f.id)).to.deep.equal([finding.id]);

    // failsafe-watch then reports the Tripped event: it joins the trip alert instead of raising another.
    const tripped = watched("Tripped", { incidentId: record.id, guardian: new Wallet(anvilKey(1)).address, expiresAt: "9999999999" }, { number: record.trip!.blockNumber, hash: record.trip!.blockHash, txHash: record.trip!.txHash });
    await sink.onFindings([tripped], block(record.trip!.blockNumber, record.trip!.blockHash));
    await dispatcher.onFindings([tripped], block(record.trip!.blockNumber, record.trip!.blockHash));
    await dispatcher.idle();
    expect(alerts()).to.have.length(1);

    // Governance lifts it through the timelock, outside the guardian.
    const lift = buildGovernancePayload({ chainId: CHAIN_ID, breaker: breakerAddress, timelock: timelockAddress, incidentId: record.id, delay: DELAY }, { decision: "lift" });
    const signer = governor.connect(provider);
    await (await signer.sendTransaction(lift.timelock.schedule)).wait();
    await provider.send("evm_increaseTime", [Number(DELAY) + 1]);
    const receipt = (await (await signer.sendTransaction(lift.timelock.execute)).wait())!;
    expect(await breaker.isTripped()).to.equal(false);

    const lifted = watched("Lifted", { incidentId: record.id, liftedBy: timelockAddress }, { number: receipt.blockNumber, hash: receipt.blockHash, txHash: receipt.hash });
    // Seen only in the mempool, a lift proves nothing yet.
    await sink.onFindings([lifted], { ...block(receipt.blockNumber, receipt.blockHash), pending: true });
    expect((await recorder.get(record.id))!.status).to.equal("tripped");
    await sink.onFindings([lifted], block(receipt.blockNumber, receipt.blockHash));
    await dispatcher.onFindings([lifted], block(receipt.blockNumber, receipt.blockHash));
    await dispatcher.idle();
    const closed = (await recorder.get(record.id))!;
    expect(closed.status).to.equal("lifted");
    expect(closed.lift).to.include({ txHash: receipt.hash, blockNumber: receipt.blockNumber, liftedBy: timelockAddress });
    expect(alerts().map((a) => a.kind)).to.deep.equal(["trip", "lift"]);

    // A reorg that orphans the lift's block reopens the incident until the lift lands again.
    const reorg: ReorgEvent = {
      chainId: CHAIN_ID,
      depth: 1,
      commonAncestor: { number: receipt.blockNumber - 1, hash: ZeroHash, parentHash: ZeroHash, timestamp: 0 },
      orphaned: [{ number: receipt.blockNumber, hash: receipt.blockHash, parentHash: ZeroHash, timestamp: 0 }],
      added: [],
    };
    await sink.onRetractions([lifted], reorg);
    const reopened = (await recorder.get(record.id))!;
    expect(reopened.status).to.equal("tripped");
    expect(reopened.lift).to.equal(undefined);
    expect(reopened.notes.at(-1)).to.match(/^A 1-block reorg orphaned the lift 0x[0-9a-f]{64}/);
  });
});
