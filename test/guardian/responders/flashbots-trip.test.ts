import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, encryptKeystoreJsonSync, id } from "ethers";
import type { Logger } from "pino";
import type { BreakerConsumer } from "../../../typechain-types";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { LocalRelay, startLocalRelay } from "../../../guardian/relay/local-relay";
import { FlashbotsTripResponder, flashbotsTripParams, type FlashbotsTripParams } from "../../../guardian/responders/flashbots-trip";
import { capturingLogger, deployBreakers } from "./helpers";

const CHAIN_ID = 31337;
const GWEI = 10n ** 9n;
const GUARDIAN_KEY = anvilKey(1);
const SECOND_GUARDIAN_KEY = anvilKey(2);

describe("FlashbotsTripResponder", function () {
  let anvil: AnvilInstance;
  let relay: LocalRelay;
  /** A relay on the same chain that never builds a block: bundles sent only there never land. */
  let idleRelay: LocalRelay;
  let provider: JsonRpcProvider;
  let breakers: BreakerConsumer[];
  let nextBreaker = 0;
  const responders: FlashbotsTripResponder[] = [];

  before(async function () {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
    breakers = await deployBreakers(provider, 13, [new Wallet(GUARDIAN_KEY).address, new Wallet(SECOND_GUARDIAN_KEY).address]);
    relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "interval", intervalMs: 100 } });
    idleRelay = await startLocalRelay({ anvilUrl: anvil.url, chainId: CHAIN_ID, mining: { mode: "manual" } });
  });

  after(async function () {
    for (const r of responders) await r.close();
    await relay?.stop();
    await idleRelay?.stop();
    await anvil?.stop();
  });

  function freshBreaker(): BreakerConsumer {
    return breakers[nextBreaker++];
  }

  function responder(
    overrides: Partial<Record<keyof FlashbotsTripParams, unknown>> = {},
    options: { env?: NodeJS.ProcessEnv; logger?: Logger; name?: string; baseDir?: string } = {},
  ): FlashbotsTripResponder {
    const params = flashbotsTripParams.parse({
      relays: [{ name: "local", url: relay.url }],
      signer: { keyEnv: "GUARDIAN_KEY" },
      pollIntervalMs: 25,
      ...overrides,
    });
    const r = new FlashbotsTripResponder(options.name ?? "trip", params, {
      chainId: CHAIN_ID,
      rpc: new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], maxAttempts: 1 }),
      logger: options.logger ?? capturingLogger().logger,
      env: options.env ?? { GUARDIAN_KEY },
      baseDir: options.baseDir,
    });
    responders.push(r);
    return r;
  }

  async function trippedEvents(breaker: BreakerConsumer) {
    return breaker.queryFilter(breaker.filters.Tripped(), 0, "latest");
  }

  it("simulates, sends a bundle and trips the breaker, with a timeline of every step", async function () {
    const breaker = freshBreaker();
    const incidentId = id("incident-bundle");
    const r = responder();
    await r.start();
    const outcome = await r.trip({ incidentId, breaker: await breaker.getAddress(), detectedAt: Date.now() });

    expect(outcome.status, JSON.stringify(outcome.timeline)).to.equal("included");
    expect(outcome.via).to.equal("bundle");
    expect(await breaker.isTripped()).to.equal(true);
    const incident = await breaker.incident();
    expect(incident.incidentId).to.equal(incidentId);
    expect(incident.guardian).to.equal(new Wallet(GUARDIAN_KEY).address);

    const steps = outcome.timeline.map((e) => e.step);
    expect(steps.slice(0, 3)).to.deep.equal(["detected", "simulated", "sent"]);
    expect(steps.at(-1)).to.equal("included");
    expect(new Set(steps.slice(3, -1))).to.satisfy((rest: Set<string>) => rest.size === 0 || (rest.size === 1 && rest.has("resubmitted")));
    const included = outcome.timeline.at(-1)!;
    expect(included.blockNumber).to.equal(outcome.blockNumber);
    expect(included.blockHash).to.equal(outcome.blockHash);
    // The timeline is in the order things happened.
    const ms = outcome.timeline.map((e) => e.ms);
    expect(ms).to.deep.equal([...ms].sort((a, b) => a - b));
    expect(outcome.timeline.find((e) => e.step === "simulated")?.detail).to.match(/eth_callBundle: gasUsed \d+, trip returns true/);

    // A bundle transaction goes first in its block, and the relay reports the bundle as sealed.
    const block = await provider.getBlock(outcome.blockNumber!);
    expect(block?.transactions[0]).to.equal(outcome.txHash);
    expect(outcome.bundleHashes.length).to.be.at.least(1);
    const landed = relay.pool.all().filter((b) => b.state === "included" && b.txHashes.includes(outcome.txHash!));
    expect(landed).to.have.length(1);
    expect(outcome.bundleHashes).to.include(landed[0].hash);
  });

  it("turns concurrent decisions for one breaker into exactly one trip", async function () {
    const breaker = freshBreaker();
    const address = await breaker.getAddress();
    const r = responder();
    const outcomes = await Promise.all(
      ["a", "b", "c"].map((tag) => r.trip({ incidentId: id(`concurrent-${tag}`), breaker: address, detectedAt: Date.now() })),
    );
    expect(outcomes.map((o) => o.status)).to.deep.equal(["included", "included", "included"]);
    expect(new Set(outcomes.map((o) => o.txHash)).size).to.equal(1);
    expect(await trippedEvents(breaker)).to.have.length(1);

    const later = await r.trip({ incidentId: id("concurrent-late"), breaker: address, detectedAt: Date.now() });
    expect(later.status).to.equal("already-tripped");
    expect(later.trippedBy?.incidentId).to.equal(id("concurrent-a"));
    expect(later.txHash).to.equal(undefined);
  });

  it("lets two guardians race on one breaker: one trip takes effect and neither errors", async function () {
    const breaker = freshBreaker();
    const address = await breaker.getAddress();
    const first = responder({}, { env: { GUARDIAN_KEY } });
    const second = responder({}, { env: { GUARDIAN_KEY: SECOND_GUARDIAN_KEY } });
    await Promise.all([first.start(), second.start()]);
    const incidentId = id("race");
    const outcomes = await Promise.all([first, second].map((r) => r.trip({ incidentId, breaker: address, detectedAt: Date.now() })));
    for (const o of outcomes) expect(o.status, o.error).to.be.oneOf(["included", "already-tripped"]);
    expect(outcomes.filter((o) => o.status === "included")).to.have.length(1);
    expect(await trippedEvents(breaker)).to.have.length(1);
  });

  it("in dry-run mode logs the bundle it would send and sends nothing", async function () {
    const breaker = freshBreaker();
    const address = await breaker.getAddress();
    const log = capturingLogger();
    const r = responder({ dryRun: true }, { logger: log.logger });
    const bundlesBefore = relay.pool.all().length;
    const nonceBefore = await provider.getTransactionCount(new Wallet(GUARDIAN_KEY).address);

    const outcome = await r.trip({ incidentId: id("dry"), breaker: address, detectedAt: Date.now() });
    expect(outcome.status).to.equal("dry-run");
    expect(outcome.timeline.map((e) => e.step)).to.deep.equal(["detected", "simulated", "dry-run"]);
    const wouldSend = log.lines.map((l) => JSON.parse(l)).find((l) => l.msg === "dry run: would send this trip bundle");
    expect(wouldSend.tx.to).to.equal(address);
    expect(wouldSend.tx.hash).to.equal(outcome.txHash);

    await provider.send("evm_mine", []).catch(() => undefined);
    expect(relay.pool.all().length).to.equal(bundlesBefore);
    expect(await provider.getTransactionCount(new Wallet(GUARDIAN_KEY).address)).to.equal(nonceBefore);
    expect(await breaker.isTripped()).to.equal(false);
  });

  it("raises the priority fee every block within its cap, then falls back to the public mempool", async function () {
    const breaker = freshBreaker();
    const r = responder({
      relays: [{ name: "idle", url: idleRelay.url }],
      fees: { priorityFeeGwei: 1, bumpPercent: 50, maxPriorityFeeGwei: 2, maxFeeGwei: 50 },
      publicFallbackAfterBlocks: 3,
    });
    const outcome = await r.trip({ incidentId: id("fallback"), breaker: await breaker.getAddress(), detectedAt: Date.now() });
    expect(outcome.status, outcome.error).to.equal("included");
    expect(outcome.via).to.equal("public");

    const sent = outcome.timeline.filter((e) => e.step === "sent" || e.step === "resubmitted");
    const tips = sent.map((e) => BigInt(e.priorityFeePerGas!));
    expect(tips.slice(0, 3)).to.deep.equal([1n * GWEI, 1_500_000_000n, 2n * GWEI]);
    for (const tip of tips) expect(tip <= 2n * GWEI).to.equal(true);
    expect(outcome.timeline.some((e) => e.step === "public-fallback")).to.equal(true);
    const tx = await provider.getTransaction(outcome.txHash!);
    expect(tx!.maxPriorityFeePerGas! <= 2n * GWEI).to.equal(true);
    expect(await breaker.isTripped()).to.equal(true);
  });

  it("outbids a pending attacker's priority fee", async function () {
    const breaker = freshBreaker();
    const r = responder({ fees: { priorityFeeGwei: 1, maxPriorityFeeGwei: 100, outbidPercent: 10 } });
    const outcome = await r.trip({
      incidentId: id("outbid"),
      breaker: await breaker.getAddress(),
      detectedAt: Date.now(),
      frontRun: { txHash: id("attack"), maxPriorityFeePerGas: 30n * GWEI },
    });
    expect(outcome.status, outcome.error).to.equal("included");
    // The first bid is 10% above the attacker; a later block's resubmission only bids higher.
    const first = outcome.timeline.find((e) => e.step === "sent")!;
    expect(BigInt(first.priorityFeePerGas!)).to.equal(33n * GWEI + 1n);
    const tx = await provider.getTransaction(outcome.txHash!);
    expect(tx!.maxPriorityFeePerGas! >= 33n * GWEI + 1n).to.equal(true);
  });

  it("gives up after maxBlocks and cancels its bundles", async function () {
    const breaker = freshBreaker();
    const r = responder({ relays: [{ name: "idle", url: idleRelay.url }], maxBlocks: 2 });
    const outcome = await r.trip({ incidentId: id("give-up"), breaker: await breaker.getAddress(), detectedAt: Date.now() });
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.match(/not included within 2 blocks/);
    const ours = idleRelay.pool.all().filter((b) => outcome.bundleHashes.includes(b.hash));
    expect(ours.length).to.be.greaterThan(0);
    expect(ours.filter((b) => b.state === "pending")).to.have.length(0);
    expect(await breaker.isTripped()).to.equal(false);

  });

  it("re-signs with a new nonce when another transaction of the guardian key takes its nonce", async function () {
    const breaker = freshBreaker();
    const guardian = new Wallet(GUARDIAN_KEY, provider);
    const r = responder({ relays: [{ name: "idle", url: idleRelay.url }], publicFallbackAfterBlocks: 6 });
    const nonce = await provider.getTransactionCount(guardian.address);
    const known = new Set(idleRelay.pool.all());
    const pending = r.trip({ incidentId: id("nonce-taken"), breaker: await breaker.getAddress(), detectedAt: Date.now() });
    while (!idleRelay.pool.all().some((b) => !known.has(b))) await new Promise((res) => setTimeout(res, 20));
    // Another process with the same key sends a transaction with the nonce the trip holds.
    await (await guardian.sendTransaction({ to: guardian.address, value: 0n, nonce, maxPriorityFeePerGas: 10n ** 9n })).wait();

    const outcome = await pending;
    expect(outcome.status, outcome.error).to.equal("included");
    expect((await provider.getTransaction(outcome.txHash!))!.nonce).to.equal(nonce + 1);
    expect(await breaker.isTripped()).to.equal(true);
  });

  it("stops and cancels its bundles when the request is aborted", async function () {
    const breaker = freshBreaker();
    const r = responder({ relays: [{ name: "idle", url: idleRelay.url }] });
    const controller = new AbortController();
    const known = new Set(idleRelay.pool.all());
    const ours = () => idleRelay.pool.all().filter((b) => !known.has(b));
    const pending = r.trip({ incidentId: id("abort"), breaker: await breaker.getAddress(), detectedAt: Date.now(), signal: controller.signal });
    while (ours().length === 0) await new Promise((res) => setTimeout(res, 20));
    controller.abort();
    const outcome = await pending;
    expect(outcome.status).to.equal("aborted");
    expect(ours().length).to.be.greaterThan(0);
    expect(ours().filter((b) => b.state === "pending")).to.have.length(0);
    expect(await breaker.isTripped()).to.equal(false);
  });

  it("refuses to trip with a key that lacks GUARDIAN_ROLE, naming the error", async function () {
    const breaker = freshBreaker();
    const r = responder({}, { env: { GUARDIAN_KEY: anvilKey(7) } });
    const outcome = await r.trip({ incidentId: id("intruder"), breaker: await breaker.getAddress(), detectedAt: Date.now() });
    expect(outcome.status).to.equal("failed");
    expect(outcome.error).to.match(/AccessControlUnauthorizedAccount\(0x[0-9a-fA-F]{40}, 0x[0-9a-f]{64}\)/);
    expect(await breaker.isTripped()).to.equal(false);
  });

  it("trips with a key from an encrypted keystore and never logs the key or its password", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "failsafe-keystore-"));
    const password = "tr1p-the-switch-password";
    const guardian = new Wallet(SECOND_GUARDIAN_KEY);
    writeFileSync(
      path.join(dir, "guardian.json"),
      encryptKeystoreJsonSync({ address: guardian.address, privateKey: SECOND_GUARDIAN_KEY }, password, { scrypt: { N: 1 << 10 } }),
    );
    const log = capturingLogger("trace");
    try {
      const breaker = freshBreaker();
      const r = responder({ signer: { keystore: "guardian.json", passwordEnv: "KEYSTORE_PASSWORD" } }, { env: { KEYSTORE_PASSWORD: password }, logger: log.logger, baseDir: dir });
      const outcome = await r.trip({ incidentId: id("keystore"), breaker: await breaker.getAddress(), detectedAt: Date.now() });
      expect(outcome.status, outcome.error).to.equal("included");
      expect((await breaker.incident()).guardian).to.equal(guardian.address);

      const wrong = responder({ signer: { keystore: "guardian.json", passwordEnv: "KEYSTORE_PASSWORD" } }, { env: { KEYSTORE_PASSWORD: "not-it" }, logger: log.logger, baseDir: dir });
      const refused = await wrong.trip({ incidentId: id("keystore-2"), breaker: await freshBreaker().getAddress(), detectedAt: Date.now() });
      expect(refused.status).to.equal("failed");
      expect(refused.error).to.match(/wrong password in KEYSTORE_PASSWORD/);

      const everything = log.text() + JSON.stringify([outcome, refused]);
      const messages = log.lines.map((l) => JSON.parse(l).msg);
      expect(messages).to.include.members(["trip responder ready", "trip included", "trip failed"]);
      expect(everything).to.include(guardian.address);
      expect(everything.toLowerCase()).to.not.include(SECOND_GUARDIAN_KEY.slice(2).toLowerCase());
      expect(everything).to.not.include(password);
      expect(everything).to.not.include("not-it");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
