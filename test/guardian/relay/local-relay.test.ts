import { expect } from "chai";
import { FlashbotsBundleProvider } from "@flashbots/ethers-provider-bundle";
import { JsonRpcProvider, Transaction, Wallet, id, type TransactionRequest } from "ethers";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { LocalRelay, startLocalRelay } from "../../../guardian/relay/local-relay";

const CHAIN_ID = 31337;
const GWEI = 10n ** 9n;
/** Runtime code that always reverts with empty data. */
const REVERTER_CODE = "0x60006000fd";
/** Runtime code that succeeds once (sets slot 0) and reverts on every later call. */
const ONCE_CODE = "0x60005415600b57600080fd5b600160005500";

describe("LocalRelay", function () {
  let anvil: AnvilInstance;
  let relay: LocalRelay;
  let provider: JsonRpcProvider;
  let flashbots: FlashbotsBundleProvider;
  const authSigner = Wallet.createRandom();
  const recipient = Wallet.createRandom().address;
  const reverter = "0x" + "ab".repeat(20);
  const once = "0x" + "cd".repeat(20);

  before(async function () {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });
    provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
    flashbots = await FlashbotsBundleProvider.create(provider, authSigner, relay.url, CHAIN_ID);
    await provider.send("anvil_setCode", [reverter, REVERTER_CODE]);
    await provider.send("anvil_setCode", [once, ONCE_CODE]);
  });

  after(async function () {
    await relay?.stop();
    await anvil?.stop();
  });

  async function signed(keyIndex: number, overrides: TransactionRequest = {}): Promise<string> {
    const wallet = new Wallet(anvilKey(keyIndex));
    const nonce = overrides.nonce ?? (await provider.getTransactionCount(wallet.address, "pending"));
    return wallet.signTransaction({
      type: 2,
      chainId: CHAIN_ID,
      to: recipient,
      value: 1n,
      gasLimit: 50_000n,
      maxFeePerGas: 100n * GWEI,
      maxPriorityFeePerGas: 1n * GWEI,
      ...overrides,
      nonce,
    });
  }

  const hashOf = (raw: string) => Transaction.from(raw).hash as string;
  const blockTxs = async (n: number) => ((await provider.getBlock(n)) ?? { transactions: [] }).transactions;

  it("refuses to start on an anvil that orders its pool by fee", async function () {
    const feeOrdered = await startAnvil();
    try {
      await startLocalRelay({ anvilUrl: feeOrdered.url, chainId: CHAIN_ID, mining: { mode: "manual" } }).then(
        () => expect.fail("started"),
        (err: Error) => expect(err.message).to.match(/--order fifo/),
      );
    } finally {
      await feeOrdered.stop();
    }
  });

  it("takes bundles from the unchanged Flashbots library, lands them in the target block and reports stats", async function () {
    const head = await provider.getBlockNumber();
    const tx = await signed(1);
    const sent = await flashbots.sendRawBundle([tx], head + 1);
    if ("error" in sent) expect.fail(sent.error.message);
    expect(sent.bundleHash).to.equal(FlashbotsBundleProvider.generateBundleHash([hashOf(tx)]));

    const built = await relay.buildBlock();
    expect(built.number).to.equal(head + 1);
    expect(built.includedBundles).to.deep.equal([sent.bundleHash]);
    expect(await blockTxs(head + 1)).to.deep.equal([hashOf(tx)]);

    const stats = await flashbots.getBundleStatsV2(sent.bundleHash, head + 1);
    if ("error" in stats) expect.fail(stats.error.message);
    expect(stats.isSimulated).to.equal(true);
    expect(stats.sealedByBuildersAt).to.have.length(1);
    expect(Date.parse(stats.receivedAt)).to.be.at.most(Date.parse(stats.sealedByBuildersAt[0].timestamp));

    const user = await flashbots.getUserStatsV2();
    if ("error" in user) expect.fail(user.error.message);
    expect(BigInt(user.allTimeGasSimulated)).to.equal(21_000n);
    expect(BigInt(user.allTimeValidatorPayments)).to.equal(21_000n * GWEI);
  });

  it("simulates a bundle with eth_callBundle and reports per-transaction results and the first revert", async function () {
    const head = await provider.getBlockNumber();
    const ok = await signed(2);
    const reverting = await signed(2, { to: reverter, nonce: (await provider.getTransactionCount(new Wallet(anvilKey(2)).address)) + 1 });
    const sim = await flashbots.simulate([ok, reverting], head + 1);
    if ("error" in sim) expect.fail(sim.error.message);
    expect(sim.stateBlockNumber).to.equal(head);
    expect(sim.results.map((r) => r.txHash)).to.deep.equal([hashOf(ok), hashOf(reverting)]);
    expect(sim.results[0].gasUsed).to.equal(21_000);
    expect("error" in sim.results[0]).to.equal(false);
    expect(sim.firstRevert?.txHash).to.equal(hashOf(reverting));
    expect(BigInt(sim.results[0].coinbaseDiff)).to.equal(21_000n * GWEI);
    // Simulation never mines or queues anything.
    expect(await provider.getBlockNumber()).to.equal(head);
    expect((await provider.send("txpool_status", [])).pending).to.equal("0x0");
  });

  it("answers a nonce that does not match the state block with an error, as a builder does", async function () {
    const head = await provider.getBlockNumber();
    const wallet = new Wallet(anvilKey(2));
    const future = await signed(2, { nonce: (await provider.getTransactionCount(wallet.address)) + 5 });
    const sim = await flashbots.simulate([future], head + 1);
    expect("error" in sim && sim.error.message).to.match(/nonce too high/);
  });

  it("refuses requests whose X-Flashbots-Signature does not match the body", async function () {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "flashbots_getUserStatsV2", params: [{ blockNumber: "0x1" }] });
    const other = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "flashbots_getUserStatsV2", params: [{ blockNumber: "0x2" }] });
    const post = (headers: Record<string, string>) =>
      fetch(relay.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

    const good = await post({ "X-Flashbots-Signature": `${authSigner.address}:${await authSigner.signMessage(id(body))}` });
    expect(good.status).to.equal(200);

    const replayed = await post({ "X-Flashbots-Signature": `${authSigner.address}:${await authSigner.signMessage(id(other))}` });
    expect(replayed.status).to.equal(403);
    expect(((await replayed.json()) as { error: { message: string } }).error.message).to.match(/not signed by/);

    const impostor = Wallet.createRandom();
    const wrongSigner = await post({ "X-Flashbots-Signature": `${authSigner.address}:${await impostor.signMessage(id(body))}` });
    expect(wrongSigner.status).to.equal(403);

    const missing = await post({});
    expect(missing.status).to.equal(403);
    expect(((await missing.json()) as { error: { message: string } }).error.message).to.match(/missing X-Flashbots-Signature/);
  });

  it("lands a bundle all-or-nothing: one failing transaction keeps the whole bundle out", async function () {
    const head = await provider.getBlockNumber();
    const wallet = new Wallet(anvilKey(3));
    const nonce = await provider.getTransactionCount(wallet.address);
    const first = await signed(3, { nonce });
    const failing = await signed(3, { nonce: nonce + 1, to: reverter });
    const sent = await flashbots.sendRawBundle([first, failing], head + 1);
    if ("error" in sent) expect.fail(sent.error.message);

    const built = await relay.buildBlock();
    expect(built.includedBundles).to.deep.equal([]);
    expect(built.failedBundles.map((f) => f.hash)).to.deep.equal([sent.bundleHash]);
    expect(await blockTxs(head + 1)).to.not.include(hashOf(first));
    expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce);
    expect(await provider.getTransactionReceipt(hashOf(first))).to.equal(null);
  });

  it("lands a bundle whose allowed-to-revert transaction reverts", async function () {
    const head = await provider.getBlockNumber();
    const wallet = new Wallet(anvilKey(3));
    const nonce = await provider.getTransactionCount(wallet.address);
    const first = await signed(3, { nonce });
    const failing = await signed(3, { nonce: nonce + 1, to: reverter });
    const sent = await flashbots.sendRawBundle([first, failing], head + 1, { revertingTxHashes: [hashOf(failing)] });
    if ("error" in sent) expect.fail(sent.error.message);
    await relay.buildBlock();
    expect(await blockTxs(head + 1)).to.deep.equal([hashOf(first), hashOf(failing)]);
    expect((await provider.getTransactionReceipt(hashOf(failing)))?.status).to.equal(0);
  });

  it("drops a bundle that conflicts with a better-paying one for the same block", async function () {
    const head = await provider.getBlockNumber();
    const wallet = new Wallet(anvilKey(4));
    const nonce = await provider.getTransactionCount(wallet.address);
    const cheap = await signed(4, { nonce, maxPriorityFeePerGas: 1n * GWEI });
    const rich = await signed(4, { nonce, maxPriorityFeePerGas: 5n * GWEI, value: 2n });
    const a = await flashbots.sendRawBundle([cheap], head + 1);
    const b = await flashbots.sendRawBundle([rich], head + 1);
    if ("error" in a || "error" in b) expect.fail(JSON.stringify([a, b]));
    const built = await relay.buildBlock();
    expect(built.includedBundles).to.deep.equal([b.bundleHash]);
    expect(built.failedBundles.map((f) => f.hash)).to.deep.equal([a.bundleHash]);
    expect(await blockTxs(head + 1)).to.deep.equal([hashOf(rich)]);
  });

  it("builds again without a bundle that only fails after the bundles ahead of it", async function () {
    const head = await provider.getBlockNumber();
    const winner = await signed(5, { to: once, value: 0n, maxPriorityFeePerGas: 3n * GWEI });
    const loser = await signed(6, { to: once, value: 0n, maxPriorityFeePerGas: 2n * GWEI });
    const publicTx = await signed(7);
    await provider.send("eth_sendRawTransaction", [publicTx]);
    const a = await flashbots.sendRawBundle([loser], head + 1);
    const b = await flashbots.sendRawBundle([winner], head + 1);
    if ("error" in a || "error" in b) expect.fail(JSON.stringify([a, b]));

    const built = await relay.buildBlock();
    expect(built.number).to.equal(head + 1);
    expect(built.includedBundles).to.deep.equal([b.bundleHash]);
    expect(built.failedBundles).to.have.length(1);
    expect(built.failedBundles[0]).to.include({ hash: a.bundleHash });
    expect(built.failedBundles[0].reason).to.match(/reverted in the block/);
    expect(await provider.getBlockNumber()).to.equal(head + 1);
    expect(await blockTxs(head + 1)).to.deep.equal([hashOf(winner), hashOf(publicTx)]);
    expect(await provider.getTransactionReceipt(hashOf(loser))).to.equal(null);
    expect((await provider.send("txpool_status", [])).pending).to.equal("0x0");
  });

  it("lands a bundle only in its target block, never before or after", async function () {
    const head = await provider.getBlockNumber();
    const later = await signed(5);
    const sentLater = await flashbots.sendRawBundle([later], head + 2);
    if ("error" in sentLater) expect.fail(sentLater.error.message);

    // Block head+1: the bundle is valid but not for this block.
    await relay.buildBlock();
    expect(await blockTxs(head + 1)).to.not.include(hashOf(later));
    await relay.buildBlock();
    expect(await blockTxs(head + 2)).to.deep.equal([hashOf(later)]);

    // A bundle that cannot land in its target (nonce one ahead) must not land in the next block even
    // once its nonce becomes valid.
    const wallet = new Wallet(anvilKey(6));
    const nonce = await provider.getTransactionCount(wallet.address);
    const ahead = await signed(6, { nonce: nonce + 1 });
    const sentAhead = await flashbots.sendRawBundle([ahead], head + 3);
    if ("error" in sentAhead) expect.fail(sentAhead.error.message);
    await relay.buildBlock();
    expect(await blockTxs(head + 3)).to.not.include(hashOf(ahead));
    await provider.send("eth_sendRawTransaction", [await signed(6, { nonce })]);
    await relay.buildBlock();
    expect(await blockTxs(head + 4)).to.not.include(hashOf(ahead));
    expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce + 1);

    const late = await flashbots.sendRawBundle([await signed(5)], head + 4);
    expect("error" in late && late.error.message).to.match(/not after the head block/);
  });

  it("keeps a bundle out of a block whose timestamp is outside its window", async function () {
    const head = await provider.getBlock("latest");
    const early = await signed(8);
    const sent = await flashbots.sendRawBundle([early], head!.number + 1, { minTimestamp: head!.timestamp + 3600 });
    if ("error" in sent) expect.fail(sent.error.message);
    const built = await relay.buildBlock();
    expect(built.includedBundles).to.deep.equal([]);
    expect(built.failedBundles[0].reason).to.match(/outside the bundle's/);
    expect(await blockTxs(head!.number + 1)).to.not.include(hashOf(early));
  });

  it("puts bundle transactions ahead of public ones, and orders the public ones by tip", async function () {
    const head = await provider.getBlockNumber();
    const publicLow = await signed(7, { maxPriorityFeePerGas: 2n * GWEI });
    const publicHigh = await signed(8, { maxPriorityFeePerGas: 50n * GWEI });
    await provider.send("eth_sendRawTransaction", [publicLow]);
    await provider.send("eth_sendRawTransaction", [publicHigh]);
    const bundled = await signed(9, { maxPriorityFeePerGas: 1n });
    const sent = await flashbots.sendRawBundle([bundled], head + 1);
    if ("error" in sent) expect.fail(sent.error.message);

    const built = await relay.buildBlock();
    expect(built.publicTxCount).to.equal(2);
    expect(await blockTxs(head + 1)).to.deep.equal([hashOf(bundled), hashOf(publicHigh), hashOf(publicLow)]);
  });

  it("still lands bundles when the pool holds a transaction it cannot take out (impersonated, unsigned)", async function () {
    const head = await provider.getBlockNumber();
    const whale = "0x" + "77".repeat(20);
    await provider.send("anvil_setBalance", [whale, "0xde0b6b3a7640000"]);
    await provider.send("anvil_impersonateAccount", [whale]);
    const impersonated: string = await provider.send("eth_sendTransaction", [{ from: whale, to: recipient, value: "0x1" }]);
    const bundled = await signed(9);
    const sent = await flashbots.sendRawBundle([bundled], head + 1);
    if ("error" in sent) expect.fail(sent.error.message);
    const built = await relay.buildBlock();
    expect(built.includedBundles).to.deep.equal([sent.bundleHash]);
    expect(await blockTxs(head + 1)).to.deep.equal([impersonated, hashOf(bundled)]);
    await provider.send("anvil_stopImpersonatingAccount", [whale]);
  });

  it("replaces and cancels bundles by replacementUuid", async function () {
    const head = await provider.getBlockNumber();
    const wallet = new Wallet(anvilKey(5));
    const nonce = await provider.getTransactionCount(wallet.address);
    const uuid = "0b8a1c9e-6f0a-4c55-9a3e-3f3f3b1a0c01";
    const first = await flashbots.sendRawBundle([await signed(5, { nonce })], head + 1, { replacementUuid: uuid });
    const second = await flashbots.sendRawBundle([await signed(5, { nonce, value: 7n })], head + 1, { replacementUuid: uuid });
    if ("error" in first || "error" in second) expect.fail(JSON.stringify([first, second]));
    const cancelled = await flashbots.cancelBundles(uuid);
    if ("error" in cancelled) expect.fail(cancelled.error.message);
    expect(cancelled.bundleHashes).to.deep.equal([second.bundleHash]);
    const built = await relay.buildBlock();
    expect(built.includedBundles).to.deep.equal([]);
    expect(await provider.getTransactionCount(wallet.address)).to.equal(nonce);
  });

  it("mines on an interval when asked to, like a real chain", async function () {
    const chain = await startAnvil({ extraArgs: ["--order", "fifo"] });
    const ticking = await startLocalRelay({ anvilUrl: chain.url, chainId: CHAIN_ID, mining: { mode: "interval", intervalMs: 100 } });
    try {
      const chainProvider = new JsonRpcProvider(chain.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 });
      const start = await chainProvider.getBlockNumber();
      const fb = await FlashbotsBundleProvider.create(chainProvider, authSigner, ticking.url, CHAIN_ID);
      const wallet = new Wallet(anvilKey(1), chainProvider);
      const raw = await wallet.signTransaction({ type: 2, chainId: CHAIN_ID, to: recipient, value: 1n, nonce: 0, gasLimit: 21_000n, maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: GWEI });
      const target = start + 3;
      const sent = await fb.sendRawBundle([raw], target);
      if ("error" in sent) expect.fail(sent.error.message);
      expect(await sent.wait()).to.equal(0 /* FlashbotsBundleResolution.BundleIncluded */);
      const receipt = await chainProvider.getTransactionReceipt(hashOf(raw));
      expect(receipt?.blockNumber).to.equal(target);
    } finally {
      await ticking.stop();
      await chain.stop();
    }
  });
});
