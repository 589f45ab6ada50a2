import { expect } from "chai";
import { JsonRpcProvider, Wallet, id, parseEther } from "ethers";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { startLocalRelay, type LocalRelay } from "../../../guardian/relay/local-relay";
import { FlashbotsTripResponder, flashbotsTripParams } from "../../../guardian/responders/flashbots-trip";
import { capturingLogger, deployBreakers } from "./helpers";

const CHAIN_ID = 31337;
const GWEI = 10n ** 9n;
const GUARDIAN_KEY = anvilKey(1);

/** The same bundle goes to every configured builder at once, and its first bid is set from the value at risk. */
describe("flashbots-trip: several builders and the opening bid", function () {
  this.timeout(60_000);
  let anvil: AnvilInstance;
  let building: LocalRelay;
  /** A second builder on the same chain that never wins a block: what it received shows what was sent to it. */
  let other: LocalRelay;
  let provider: JsonRpcProvider;
  let breaker: Awaited<ReturnType<typeof deployBreakers>>[number];

  before(async function () {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
    // Deployed while anvil still automines; the relays take over block production.
    [breaker] = await deployBreakers(provider, 1, [new Wallet(GUARDIAN_KEY).address]);
    other = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });
    building = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });
  });

  after(async function () {
    await building?.stop();
    await other?.stop();
    provider?.destroy();
    await anvil?.stop();
  });

  it("sends one bundle to every builder for the same blocks, opening at 0.2 % of the value at risk per its gas", async function () {
    const breakerAddress = await breaker.getAddress();
    // 50 ETH held by the breaker: the value at risk.
    await provider.send("anvil_setBalance", [breakerAddress, `0x${parseEther("50").toString(16)}`]);
    const responder = new FlashbotsTripResponder(
      "trip",
      flashbotsTripParams.parse({ relays: [{ name: "other", url: other.url }, { name: "building", url: building.url }], signer: { keyEnv: "GUARDIAN_KEY" }, pollIntervalMs: 25, gasLimit: 100_000, bid: {} }),
      { chainId: CHAIN_ID, rpc: new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], maxAttempts: 1 }), logger: capturingLogger().logger, env: { GUARDIAN_KEY } },
    );
    try {
      await responder.start();
      const trip = responder.trip({ incidentId: id("multi-builder"), breaker: breakerAddress, detectedAt: Date.now() });
      const next = (await provider.getBlockNumber()) + 1;
      while (building.pool.pendingFor(next).length === 0) await new Promise((r) => setTimeout(r, 20));
      let settled = false;
      void trip.finally(() => (settled = true));
      while (!settled) {
        await building.buildBlock();
        await new Promise((r) => setTimeout(r, 100));
      }
      const outcome = await trip;
      expect(outcome.status, JSON.stringify(outcome.timeline)).to.equal("included");
      const sent = outcome.timeline.find((e) => e.step === "sent")!;
      // 0.2 % of 50 ETH is 0.1 ETH, over a 100,000 gas limit: 1,000 gwei per gas from the first submission on.
      expect(BigInt(sent.priorityFeePerGas!)).to.equal(1_000n * GWEI);
      const first = outcome.bundleHashes[0];
      const at = (relay: LocalRelay) => relay.pool.all().filter((b) => b.hash === first);
      const targets = (relay: LocalRelay) => at(relay).map((b) => b.blockNumber).sort((a, b) => a - b);
      expect(targets(other)).to.deep.equal(targets(building));
      expect(at(other)).to.have.length(3);
      // Sent at once: each builder had it before the first target block was built.
      const landedAt = at(building).find((b) => b.state === "included")!;
      for (const b of at(other)) expect(b.receivedAt.getTime()).to.be.at.most(landedAt.sealedAt!.getTime());
    } finally {
      await responder.close();
    }
  });
});
