import { expect } from "chai";
import { readFileSync } from "node:fs";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { startHarness, waitFor, type Harness } from "../support/guardian-harness";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy";

const logLines = (h: Harness) =>
  readFileSync(h.logFile, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: number; msg: string });

/**
 * Node data the guardian must refuse or flag, never trust: a failover URL serving another chain, and a header
 * that lies about its parent. The guardian runs in-process against anvil through the fault proxy on 127.0.0.1.
 */
describe("guardian: bad data from the node is refused or flagged", function () {
  this.timeout(120_000);
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(100n * 10n ** 18n);
    for (let i = 0; i < 12; i++) {
      if (i % 4 === 2) await scenario.attack({ reentries: 2 });
      else await scenario.deposit(10n ** 16n, i % 3);
    }
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await anvil?.stop();
  });

  const cursor = async (h: Harness) => (await h.guardian.store.cursor(31337))?.number ?? -1;

  it("a failover URL that serves another chain is refused: nothing is retracted and the chain shows a critical problem", async () => {
    const other = await startAnvil({ chainId: 1 });
    stops.push(() => other.stop());
    // The other chain is long: followed as this chain, its head would look like a reorg back past every finding.
    await other.url && (await fetch(other.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_mine", params: ["0x5"] }) }));
    const proxy: FaultProxy = await startFaultProxy(anvil.url);
    stops.push(() => proxy.stop());
    const cfg = writeGuardianConfig({ anvil, rpcUrls: [proxy.url, other.url], bank: scenario.bank, rpcTimeoutMs: 1_000 });
    const h = await startHarness(cfg.file, cfg.dbFile);
    stops.push(() => h.stop());
    const head = await scenario.provider.getBlockNumber();
    await waitFor("catch-up", async () => (await cursor(h)) >= head, 60_000);
    const findingsBefore = (await h.guardian.store.findings(31337)).map((f) => f.id);
    expect(findingsBefore.length).to.be.greaterThan(1);

    // The primary goes away: the client fails over to the second URL, which serves chain 1.
    proxy.setPlan(() => ({ kind: "drop" }));
    await scenario.attack({ reentries: 2 });
    // Whichever comes first: the URL refused, or (the old behaviour) the other chain taken for a reorg.
    await waitFor("the failover URL handled", () => h.sink.retractions.length > 0 || h.guardian.health[0].critical?.some((c) => /serves chain 1/.test(c)), 30_000);
    expect(h.sink.retractions, "no finding retracted on another chain's word").to.have.length(0);
    expect(h.guardian.health[0].critical?.join(" ")).to.match(/serves chain 1/);
    expect((await h.guardian.store.findings(31337)).map((f) => f.id)).to.include.members(findingsBefore);
    expect(await cursor(h), "the cursor did not move to the other chain").to.be.at.least(head);
    expect(logLines(h).some((l) => l.level === 60 && /RPC endpoint refused: .* serves chain 1, not chain 31337/.test(l.msg))).to.equal(true);

    // The primary comes back: the guardian carries on with the real chain, including the attack made meanwhile.
    proxy.setPlan(() => ({ kind: "pass" }));
    const newHead = await scenario.provider.getBlockNumber();
    await waitFor("the real chain followed again", async () => (await cursor(h)) >= newHead, 60_000);
    expect((await h.guardian.store.findings(31337)).filter((f) => f.blockNumber === newHead).length, "the attack made meanwhile is found").to.be.greaterThan(0);
    expect(h.sink.retractions).to.have.length(0);
  });

  it("a header whose parent hash skips a block is refused: the block is fetched from another URL, the lie is a finding, and no finding is retracted", async () => {
    const proxy: FaultProxy = await startFaultProxy(anvil.url);
    stops.push(() => proxy.stop());
    const cfg = writeGuardianConfig({ anvil, rpcUrls: [proxy.url, anvil.url], bank: scenario.bank, rpcTimeoutMs: 1_000 });
    const h = await startHarness(cfg.file, cfg.dbFile);
    stops.push(() => h.stop());
    await waitFor("catch-up", async () => (await cursor(h)) >= (await scenario.provider.getBlockNumber()), 60_000);

    // Block K-1 holds an attack; the lying node says K's parent is K-2, which would "orphan" K-1.
    await scenario.attack({ reentries: 2 });
    const attackBlock = await scenario.provider.getBlockNumber();
    await waitFor("the attack's block processed", async () => (await cursor(h)) >= attackBlock, 30_000);
    const attackFindings = (await h.guardian.store.findings(31337)).filter((f) => f.blockNumber === attackBlock);
    expect(attackFindings.length, "the attack is found").to.be.greaterThan(0);
    const grandParent = (await scenario.provider.getBlock(attackBlock - 1))!.hash!;
    const lieAbout = `0x${(attackBlock + 1).toString(16)}`;
    proxy.setPlan((_n, body) =>
      body.includes(lieAbout) || body.includes('"latest"')
        ? {
            kind: "rewrite",
            rewrite: (text) => {
              const parsed = JSON.parse(text) as unknown;
              const lie = (r: { result?: { number?: string; parentHash?: string } }) => {
                if (r?.result?.number === lieAbout) r.result.parentHash = grandParent;
                return r;
              };
              return JSON.stringify(Array.isArray(parsed) ? parsed.map(lie) : lie(parsed as never));
            },
          }
        : { kind: "pass" },
    );
    await scenario.deposit(10n ** 16n);
    const lyingBlock = attackBlock + 1;
    await waitFor("the block after the attack processed", async () => (await cursor(h)) >= lyingBlock, 30_000);
    proxy.setPlan(() => ({ kind: "pass" }));

    expect(h.sink.retractions, "the attack's finding was not retracted by a fake reorg").to.have.length(0);
    expect((await h.guardian.store.findings(31337)).map((f) => f.id)).to.include.members(attackFindings.map((f) => f.id));
    const integrity = (await h.guardian.store.findings(31337)).filter((f) => f.detectorId === "chain-integrity");
    expect(integrity.length, "the lie is a finding").to.be.greaterThan(0);
    expect(integrity[0].blockNumber).to.equal(lyingBlock);
    expect(integrity[0].evidence).to.include({ claimedParentHash: grandParent });
    expect(h.committed.filter((n) => n === attackBlock), "the attack's block was processed once").to.have.length(1);
  });

  /** A node that answers every trace request of the given methods with empty traces. */
  function emptyTraces(methods: RegExp) {
    return (_n: number, body: string) => {
      if (!methods.test(body)) return { kind: "pass" as const };
      const calls = ([] as { id: number; method: string }[]).concat(JSON.parse(body) as never);
      const traceIds = new Set(calls.filter((c) => methods.test(c.method)).map((c) => c.id));
      return {
        kind: "rewrite" as const,
        rewrite: (text: string) => {
          const parsed = JSON.parse(text) as unknown;
          const empty = (r: { id: number; result?: unknown }) => (traceIds.has(r.id) ? { ...r, result: Array.isArray(r.result) ? [] : null } : r);
          return JSON.stringify(Array.isArray(parsed) ? parsed.map(empty) : empty(parsed as never));
        },
      };
    };
  }

  it("empty block traces while receipts show calls into the bank: the transactions are re-traced one by one and the attack is found", async () => {
    const proxy: FaultProxy = await startFaultProxy(anvil.url, emptyTraces(/debug_traceBlockBy|trace_block/));
    stops.push(() => proxy.stop());
    const from = await scenario.provider.getBlockNumber();
    const cfg = writeGuardianConfig({ anvil, rpcUrls: [proxy.url], bank: scenario.bank, startBlock: from });
    const h = await startHarness(cfg.file, cfg.dbFile);
    stops.push(() => h.stop());
    await scenario.attack({ reentries: 2 });
    const attackBlock = await scenario.provider.getBlockNumber();
    await waitFor("the attack's block processed", async () => (await cursor(h)) >= attackBlock, 30_000);
    expect(proxy.counts.rewrite, "block traces were emptied").to.be.greaterThan(0);
    const found = (await h.guardian.store.findings(31337)).filter((f) => f.blockNumber === attackBlock && f.detectorId === "reentrancy");
    expect(found.length, "the reentrancy is found through the per-transaction traces").to.be.greaterThan(0);
  });

  it("no trace at all from the node: the block is processed degraded, each blind transaction is a finding, and /healthz shows the error", async () => {
    const proxy: FaultProxy = await startFaultProxy(anvil.url, emptyTraces(/debug_trace|trace_/));
    stops.push(() => proxy.stop());
    const from = await scenario.provider.getBlockNumber();
    const cfg = writeGuardianConfig({ anvil, rpcUrls: [proxy.url], bank: scenario.bank, startBlock: from });
    const h = await startHarness(cfg.file, cfg.dbFile);
    stops.push(() => h.stop());
    const attack = (await scenario.attack({ reentries: 2 })).toLowerCase();
    const attackBlock = await scenario.provider.getBlockNumber();
    await waitFor("the attack's block processed", async () => (await cursor(h)) >= attackBlock, 30_000);
    const gap = await waitFor("the attack's trace-gap finding", () => h.sink.findings.find((f) => f.evidence.kind === "trace-gap" && f.txHash === attack), 10_000);
    expect(gap.detectorId).to.equal("chain-integrity");
    expect(gap.txHash).to.equal(attack);
    expect(gap.contract).to.equal(scenario.bank);
    expect(h.guardian.health[0].lastError).to.match(/no usable trace/);
  });

  it("a clock 600 s off the chain's block timestamps is an alert: a finding, an error log and an unhealthy chain", async () => {
    const cfg = writeGuardianConfig({ anvil, bank: scenario.bank });
    const h = await startHarness(cfg.file, cfg.dbFile);
    stops.push(() => h.stop());
    await waitFor("catch-up", async () => (await cursor(h)) >= (await scenario.provider.getBlockNumber()), 60_000);
    expect(h.guardian.health[0].clockSkewSeconds, "in step at first").to.equal(undefined);
    // The node's clock and the guardian's now disagree by 600 s (as a guardian host 600 s behind would see it).
    const head = (await scenario.provider.getBlock("latest"))!;
    await scenario.provider.send("evm_setNextBlockTimestamp", [Math.max(head.timestamp + 1, Math.floor(Date.now() / 1000) + 600)]);
    await scenario.deposit(10n ** 16n);
    const skewed = await scenario.provider.getBlockNumber();
    await waitFor("the skewed block processed", async () => (await cursor(h)) >= skewed, 30_000);
    const skew = h.guardian.health[0].clockSkewSeconds!;
    expect(skew, "the guardian's clock is behind the block by about 600 s").to.be.within(-610, -590);
    const finding = h.sink.findings.find((f) => f.detectorId === "chain-integrity" && f.evidence.kind === "clock-skew");
    expect(finding?.blockNumber).to.equal(skewed);
    expect(finding?.severity).to.equal("high");
    expect(logLines(h).some((l) => l.level === 50 && /clock skew/.test(l.msg))).to.equal(true);
  });
});
