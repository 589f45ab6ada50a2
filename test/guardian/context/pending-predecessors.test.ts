import { expect } from "chai";
import { JsonRpcProvider, Wallet, getCreateAddress, parseEther } from "ethers";
import pino from "pino";
import { OneShotReadOnlyAttacker__factory, ShareCreditLender__factory, SharePool__factory } from "../../../typechain-types";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { PendingContextWatcher } from "../../../guardian/context/pending-context";
import type { BlockContext } from "../../../guardian/context/types";
import { reentrancyDetector } from "../../../guardian/detectors/reentrancy";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { startLocalRelay, type LocalRelay } from "../../../guardian/relay/local-relay";

const CHAIN_ID = 31337;
const GWEI = 10n ** 9n;

/**
 * The attacker deploys its exploit and fires it in the same block: both wait in the mempool, the second needs the
 * first's contract. The watch simulates the attack on the latest mined state plus the deployment (carried as state
 * overrides), so the exploit exists in the simulation without running the attack on its own effects.
 */
describe("PendingContextWatcher: the sender's earlier pending transactions", function () {
  this.timeout(60_000);
  let anvil: AnvilInstance;
  let relay: LocalRelay;
  let provider: JsonRpcProvider;

  before(async function () {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
  });

  after(async function () {
    await relay?.stop();
    provider?.destroy();
    await anvil?.stop();
  });

  it("simulates a pending attack on top of its own pending deployment, and the detectors flag it", async function () {
    const owner = new Wallet(anvilKey(0), provider);
    const thief = new Wallet(anvilKey(9), provider);
    const pool = await new SharePool__factory(owner).deploy();
    await pool.waitForDeployment();
    const lender = await new ShareCreditLender__factory(owner).deploy(await pool.getAddress(), owner.address, [owner.address], 3600);
    await lender.waitForDeployment();
    await (await pool.deposit({ value: parseEther("100") })).wait();
    await (await owner.sendTransaction({ to: await lender.getAddress(), value: parseEther("100") })).wait();
    relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });

    const nonce = await provider.getTransactionCount(thief.address, "latest");
    const exploit = getCreateAddress({ from: thief.address, nonce });
    const fees = { type: 2, chainId: CHAIN_ID, maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    const deployData = (await new OneShotReadOnlyAttacker__factory(thief).getDeployTransaction(await pool.getAddress(), await lender.getAddress())).data;
    const deploy = await thief.signTransaction({ ...fees, nonce, data: deployData, gasLimit: 2_000_000n });
    const attackData = OneShotReadOnlyAttacker__factory.createInterface().encodeFunctionData("attack");
    const fire = await thief.signTransaction({ ...fees, nonce: nonce + 1, to: exploit, data: attackData, value: parseEther("1000"), gasLimit: 1_000_000n });

    const contexts: BlockContext[] = [];
    const poolAddress = (await pool.getAddress()).toLowerCase();
    const watcher = new PendingContextWatcher({
      rpc: new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], maxAttempts: 1 }),
      protectedAddresses: [poolAddress, (await lender.getAddress()).toLowerCase()],
      source: { mode: "poll", intervalMs: 25 },
      logger: pino({ level: "silent" }),
      onContext: async (ctx) => void contexts.push(ctx),
    });
    await provider.send("eth_sendRawTransaction", [deploy]);
    const fireHash: string = await provider.send("eth_sendRawTransaction", [fire]);
    await watcher.start();
    try {
      for (let i = 0; i < 200 && contexts.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      await watcher.idle();
    } finally {
      await watcher.stop();
    }
    expect(contexts.map((c) => c.transactions[0].hash)).to.deep.equal([fireHash.toLowerCase()]);
    expect(watcher.lastBasis).to.equal("latest+predecessors");
    const detector = reentrancyDetector.create(reentrancyDetector.params.parse({ readOnlySeverity: "critical" }), {
      chainId: CHAIN_ID,
      rpc: new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], maxAttempts: 1 }),
      logger: pino({ level: "silent" }),
      contracts: [{ name: "pool", address: poolAddress, abi: [] }],
    });
    const findings = await detector.onBlock(contexts[0]);
    expect(findings.map((f) => `${f.detectorId}:${f.severity}`)).to.deep.equal(["reentrancy:critical"]);
  });
});
