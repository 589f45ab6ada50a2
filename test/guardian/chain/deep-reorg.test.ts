import { expect } from "chai";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { startHarness, waitFor, type Harness } from "../support/guardian-harness";

/**
 * A reorg deeper than the guardian's window (maxReorgDepth): the old tracker guessed an ancestor inside the window,
 * left the orphaned attack finding below it standing and never processed the new branch's first blocks. Now the
 * window is not trusted: the range is re-verified from one window further back, only findings whose blocks left the
 * chain are retracted, and the reorg itself is a critical finding.
 */
describe("guardian: a reorg one deeper than the window", function () {
  this.timeout(120_000);
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  let h: Harness | undefined;

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(100n * 10n ** 18n);
  });
  after(async () => {
    await h?.stop();
    await anvil?.stop();
  });

  it("retracts the orphaned finding below the window, reports a critical finding and processes the whole new branch", async () => {
    const window = 6;
    const cfg = writeGuardianConfig({ anvil, bank: scenario.bank, window, confirmations: 2, startBlock: await scenario.provider.getBlockNumber() });
    h = await startHarness(cfg.file, cfg.dbFile);
    const cursor = async () => (await h!.guardian.store.cursor(31337))?.number ?? -1;

    // A finding that stays (its block is older than the reorg), then the attack the reorg takes away.
    await scenario.attack({ reentries: 2 });
    const kept = await scenario.provider.getBlockNumber();
    await scenario.mine(2);
    await scenario.attack({ reentries: 2 });
    const attackBlock = await scenario.provider.getBlockNumber();
    await scenario.mine(window);
    const head = await scenario.provider.getBlockNumber();
    await waitFor("the guardian at the head", async () => (await cursor()) >= head, 30_000);
    const orphanedFindings = (await h.guardian.store.findings(31337)).filter((f) => f.blockNumber === attackBlock);
    const keptFindings = (await h.guardian.store.findings(31337)).filter((f) => f.blockNumber === kept);
    expect(orphanedFindings.length, "the attack was found").to.be.greaterThan(0);
    expect(keptFindings.length).to.be.greaterThan(0);

    // One deeper than the window: the attack's block and everything after it are replaced by empty blocks.
    const depth = head - attackBlock + 1;
    expect(depth).to.equal(window + 1);
    await scenario.provider.send("anvil_reorg", [depth, []]);
    const newHead = (await scenario.provider.getBlock("latest"))!;
    expect(newHead.number).to.equal(head);
    await waitFor("the guardian on the new branch", async () => h!.committed.length > 0 && (await h!.guardian.store.cursor(31337))?.hash === newHead.hash, 30_000);

    const live = (await h.guardian.store.findings(31337));
    for (const f of orphanedFindings) expect(live.map((x) => x.id), `orphaned finding ${f.id} retracted`).to.not.include(f.id);
    for (const f of keptFindings) expect(live.map((x) => x.id), "the finding of a block still on the chain stands").to.include(f.id);
    expect(h.sink.retractions.flatMap((r) => r.retracted.map((f) => f.id))).to.include.members(orphanedFindings.map((f) => f.id));
    expect(h.sink.retractions.flatMap((r) => r.retracted.map((f) => f.id)), "nothing still canonical was retracted").to.not.include.members(keptFindings.map((f) => f.id));

    const critical = h.sink.findings.find((f) => f.detectorId === "chain-integrity" && f.evidence.kind === "reorg-beyond-window");
    expect(critical?.severity).to.equal("critical");
    expect(h.guardian.health[0].critical?.join(" ")).to.match(/reorg deeper than the window/);
    // Every block of the new branch was processed, the first one included.
    for (let n = attackBlock; n <= head; n++) {
      const block = (await scenario.provider.getBlock(n))!;
      expect(h.committed.lastIndexOf(n), `new block ${n} processed`).to.be.greaterThan(h.committed.indexOf(head));
      expect(block.hash).to.not.equal(undefined);
    }
  });
});
