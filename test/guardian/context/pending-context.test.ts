import { expect } from "chai";
import { JsonRpcProvider, Wallet, parseEther } from "ethers";
import pino from "pino";
import { ReentrancyAttacker__factory, VulnerableBank__factory, type ReentrancyAttacker, type VulnerableBank } from "../../../typechain-types";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { PendingContextWatcher, detectPending, mempoolConfigSchema, pendingSource, type PendingSource } from "../../../guardian/context/pending-context";
import type { BlockContext } from "../../../guardian/context/types";
import { reentrancyDetector } from "../../../guardian/detectors/reentrancy";
import { outflowSpikeDetector } from "../../../guardian/detectors/outflow-spike";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { LocalRelay, startLocalRelay } from "../../../guardian/relay/local-relay";

const CHAIN_ID = 31337;
const GWEI = 10n ** 9n;

describe("PendingContextWatcher", function () {
  let anvil: AnvilInstance;
  let relay: LocalRelay;
  let provider: JsonRpcProvider;
  let bank: VulnerableBank;
  let attacker: ReentrancyAttacker;
  const owner = new Wallet(anvilKey(0));
  const thief = new Wallet(anvilKey(5));
  const rpc = () => new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], maxAttempts: 1 });

  before(async function () {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
    bank = await new VulnerableBank__factory(owner.connect(provider)).deploy();
    await bank.waitForDeployment();
    await (await bank.connect(owner.connect(provider)).deposit({ value: parseEther("10") })).wait();
    attacker = await new ReentrancyAttacker__factory(thief.connect(provider)).deploy(await bank.getAddress());
    await attacker.waitForDeployment();
    // Manual block production from here on: what is sent stays pending until the test builds a block.
    relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });
  });

  after(async function () {
    await relay?.stop();
    await anvil?.stop();
  });

  async function sendAttack(nonce: number): Promise<string> {
    const data = attacker.interface.encodeFunctionData("attack", [3, 0]);
    const raw = await thief.signTransaction({
      type: 2, chainId: CHAIN_ID, to: await attacker.getAddress(), data, value: parseEther("1"), nonce,
      gasLimit: 1_000_000n, maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 7n * GWEI,
    });
    return provider.send("eth_sendRawTransaction", [raw]);
  }

  async function watch(source: PendingSource, run: (contexts: BlockContext[], watcher: PendingContextWatcher) => Promise<void>) {
    const contexts: BlockContext[] = [];
    const watcher = new PendingContextWatcher({
      rpc: rpc(),
      protectedAddresses: [await bank.getAddress()],
      source,
      logger: pino({ level: "silent" }),
      onContext: async (ctx) => void contexts.push(ctx),
    });
    await watcher.start();
    try {
      await run(contexts, watcher);
    } finally {
      await watcher.stop();
    }
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(condition()).to.equal(true);
  }

  it("turns a pending attack on a protected contract into a pending BlockContext the detectors flag", async function () {
    const bankAddress = (await bank.getAddress()).toLowerCase();
    await watch({ mode: "poll", intervalMs: 25 }, async (contexts, watcher) => {
      const head = await provider.getBlock("latest");
      // A plain transfer touches nothing protected and is ignored.
      await provider.send("eth_sendRawTransaction", [
        await owner.signTransaction({ type: 2, chainId: CHAIN_ID, to: thief.address, value: 1n, nonce: await provider.getTransactionCount(owner.address), gasLimit: 21_000n, maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: GWEI }),
      ]);
      const attackHash = await sendAttack(await provider.getTransactionCount(thief.address));
      await until(() => contexts.length > 0);
      await watcher.idle();
      expect(contexts).to.have.length(1);

      const ctx = contexts[0];
      expect(ctx.pending).to.equal(true);
      expect(ctx.number).to.equal(head!.number + 1);
      expect(ctx.parentHash).to.equal(head!.hash);
      const tx = ctx.transactions[0];
      expect(tx.hash).to.equal(attackHash.toLowerCase());
      expect(tx.to).to.equal((await attacker.getAddress()).toLowerCase());
      expect(tx.touched).to.deep.equal([bankAddress]);
      expect(tx.maxPriorityFeePerGas).to.equal(7n * GWEI);
      expect(tx.status).to.equal(1);
      expect(tx.logs.filter((l) => l.address === bankAddress).length).to.be.greaterThan(1);
      expect(await provider.getBlockNumber()).to.equal(head!.number);

      const detector = reentrancyDetector.create(reentrancyDetector.params.parse({}), {
        chainId: CHAIN_ID,
        rpc: rpc(),
        logger: pino({ level: "silent" }),
        contracts: [{ name: "Bank", address: bankAddress, abi: [] }],
      });
      const findings = await detectPending([detector], ctx);
      expect(findings.map((f) => [f.detectorId, f.severity, f.txHash, f.contract])).to.deep.include(["reentrancy", "critical", attackHash.toLowerCase(), bankAddress]);

      // Outflow has no block state to read for a pending transaction: it reads the latest state and
      // takes off what the transaction would drain.
      const outflow = outflowSpikeDetector.create(outflowSpikeDetector.params.parse({ assets: [{ asset: "native", maxShare: 0.1 }] }), {
        chainId: CHAIN_ID,
        rpc: rpc(),
        logger: pino({ level: "silent" }),
        contracts: [{ name: "Bank", address: bankAddress, abi: [] }],
      });
      const [spike] = await detectPending([outflow], ctx);
      const held = await provider.getBalance(bankAddress);
      const drained = BigInt(spike.evidence.blockOut as string);
      expect(drained > 0n).to.equal(true);
      expect(spike.evidence).to.include({ trigger: "share", holdings: (held - drained).toString() });
      expect(outflow.saveState!(), "the pending transaction left no trace in the window").to.deep.equal({});
    });
    await relay.buildBlock();
  });

  it("hears pending transactions over eth_subscribe on the websocket too", async function () {
    await watch({ mode: "subscribe", wsUrl: anvil.wsUrl }, async (contexts) => {
      const attackHash = await sendAttack(await provider.getTransactionCount(thief.address));
      await until(() => contexts.some((c) => c.transactions[0].hash === attackHash.toLowerCase()));
    });
    await relay.buildBlock();
  });

  it("reads the mempool watch from config, and needs a websocket to subscribe", function () {
    expect(pendingSource(mempoolConfigSchema.parse({ mode: "poll" }), undefined)).to.deep.equal({ mode: "poll", intervalMs: 250 });
    expect(pendingSource(mempoolConfigSchema.parse({}), "ws://127.0.0.1:8546")).to.deep.equal({ mode: "subscribe", wsUrl: "ws://127.0.0.1:8546" });
    expect(() => pendingSource(mempoolConfigSchema.parse({}), undefined)).to.throw(/set chains\[\]\.ws or use mode: poll/);
    expect(mempoolConfigSchema.safeParse({ mode: "gossip" }).success).to.equal(false);
  });
});
