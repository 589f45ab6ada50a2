import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { BreakerConsumer__factory, MockERC20__factory, type BreakerConsumer, type MockERC20 } from "../../../typechain-types";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { startPendingDetection, type PendingContextWatcher } from "../../../guardian/context/pending-context";
import { DecisionSink } from "../../../guardian/decisions/decision-sink";
import { checkTrip } from "../../../guardian/decisions/trip-check";
import { policyConfigSchema } from "../../../guardian/decisions/policy-config";
import { makeFinding } from "../../../guardian/detectors/finding";
import type { Detector } from "../../../guardian/detectors/types";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { LocalRelay, startLocalRelay } from "../../../guardian/relay/local-relay";
import { IncidentRecorder } from "../../../guardian/reports/incident-record";
import { FlashbotsTripResponder, flashbotsTripParams } from "../../../guardian/responders/flashbots-trip";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IncidentStore } from "../../../guardian/state/incident-store";
import { capturingLogger } from "../responders/helpers";

const CHAIN_ID = 31337;
const GWEI = 10n ** 9n;
const FUNDS = 1_000n * 10n ** 18n;

describe("pending attack -> trip bundle ahead of it", function () {
  let anvil: AnvilInstance;
  let relay: LocalRelay;
  let provider: JsonRpcProvider;
  let token: MockERC20;
  let treasury: BreakerConsumer;
  let dir: string;
  let db: Db;
  let watcher: PendingContextWatcher | undefined;
  let sink: DecisionSink | undefined;
  const governor = new Wallet(anvilKey(0));
  const guardianKey = anvilKey(1);
  const funder = new Wallet(anvilKey(3));
  const attacker = new Wallet(anvilKey(4));

  before(async function () {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
    token = await new MockERC20__factory(governor.connect(provider)).deploy("Test Dollar", "TUSD", 18);
    treasury = await new BreakerConsumer__factory(governor.connect(provider)).deploy(governor.address, [new Wallet(guardianKey).address]);
    await Promise.all([token.waitForDeployment(), treasury.waitForDeployment()]);
    await (await token.mint(funder.address, FUNDS)).wait();
    await (await token.connect(funder.connect(provider)).approve(await treasury.getAddress(), FUNDS)).wait();
    await (await treasury.connect(funder.connect(provider)).fund(await token.getAddress(), FUNDS)).wait();
    relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-frontrun-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));
  });

  after(async function () {
    await watcher?.stop();
    await sink?.close();
    await relay?.stop();
    await anvil?.stop();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lands the trip first in the block, and the waiting attack gets nothing", async function () {
    const treasuryAddress = (await treasury.getAddress()).toLowerCase();
    const paySelector = treasury.interface.getFunction("pay").selector;
    // A stand-in for a real detector: any payout from the treasury is an attack here.
    const payoutWatch: Detector = {
      id: "payout-watch",
      async onBlock(ctx) {
        return ctx.transactions
          .filter((t) => t.to === treasuryAddress && t.input.startsWith(paySelector))
          .map((t) => makeFinding({ detectorId: "payout-watch", severity: "critical", title: "unexpected payout", block: ctx, txHash: t.hash, contract: treasuryAddress, subject: t.hash, evidence: { pending: ctx.pending === true } }));
      },
    };
    const log = capturingLogger();
    const rpc = new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], maxAttempts: 1 });
    const responder = new FlashbotsTripResponder(
      "trip",
      flashbotsTripParams.parse({ relays: [{ url: relay.url }], signer: { keyEnv: "GUARDIAN_KEY" }, pollIntervalMs: 20, fees: { priorityFeeGwei: 1, outbidPercent: 10 } }),
      { chainId: CHAIN_ID, rpc, logger: log.logger, env: { GUARDIAN_KEY: guardianKey } },
    );
    await responder.start();
    const recorder = new IncidentRecorder({ store: new IncidentStore(db), dir: path.join(dir, "incidents"), logger: log.logger, provider: () => provider, breakerInfo: () => ({ name: "Treasury" }) });
    sink = new DecisionSink({
      policy: policyConfigSchema.parse({}),
      breakers: [{ chainId: CHAIN_ID, contract: treasuryAddress, contractName: "Treasury", breaker: treasuryAddress, responder }],
      recorder,
      logger: log.logger,
      isTripped: () => treasury.isTripped(),
      checkTrip: (_chainId, breakerAddr, txHash) => checkTrip(provider, breakerAddr, txHash),
    });
    watcher = await startPendingDetection({ rpc, protectedAddresses: [treasuryAddress], source: { mode: "poll", intervalMs: 20 }, detectors: [payoutWatch], sinks: [sink], logger: log.logger });

    // The attack waits in the mempool with a 20 gwei tip.
    const attack = await attacker.signTransaction({
      type: 2, chainId: CHAIN_ID, to: treasuryAddress, nonce: await provider.getTransactionCount(attacker.address),
      data: treasury.interface.encodeFunctionData("pay", [await token.getAddress(), attacker.address, FUNDS]),
      gasLimit: 300_000n, maxFeePerGas: 200n * GWEI, maxPriorityFeePerGas: 20n * GWEI,
    });
    const attackHash: string = await provider.send("eth_sendRawTransaction", [attack]);
    while (!relay.pool.all().some((b) => b.state === "pending")) await new Promise((r) => setTimeout(r, 20));

    const built = await relay.buildBlock();
    await sink.settled();
    const block = await provider.getBlock(built.number);
    const record = (await recorder.list())[0];
    expect(record.status).to.equal("tripped");
    expect(record.trip?.blockNumber).to.equal(built.number);
    expect(block!.transactions).to.deep.equal([record.trip!.txHash, attackHash]);
    expect((await provider.getTransactionReceipt(attackHash))!.status).to.equal(0);
    // Replayed on the state after the block, the attack hits the paused treasury.
    const replay = await treasury
      .connect(attacker.connect(provider))
      .pay.staticCall(await token.getAddress(), attacker.address, FUNDS, { blockTag: built.number })
      .then(() => undefined, (err: { data?: string }) => treasury.interface.parseError(err.data ?? "0x")?.name);
    expect(replay).to.equal("CircuitBreakerOperationPaused");
    expect(await token.balanceOf(attacker.address)).to.equal(0n);
    expect(await token.balanceOf(treasuryAddress)).to.equal(FUNDS);
    // The trip outbid the attacker's priority fee, so a fee-ordering builder would also put it first.
    expect((await provider.getTransaction(record.trip!.txHash))!.maxPriorityFeePerGas).to.equal(22n * GWEI + 1n);
    expect(record.findings[0]).to.include({ txHash: attackHash.toLowerCase(), detectorId: "payout-watch" });
  });
});
