import { expect } from "chai";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { startHarness, waitFor, type Harness } from "../support/guardian-harness";
import { ReentrancyAttacker__factory } from "../../../typechain-types";

describe("Pipeline on anvil reorgs", function () {
  this.timeout(120_000);
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  let harness: Harness;

  const head = async () => {
    const b = await scenario.provider.send("eth_getBlockByNumber", ["latest", false]);
    return { number: Number(b.number), hash: (b.hash as string).toLowerCase() };
  };
  const caughtUp = async () => {
    const h = await head();
    const cursor = (await harness.guardian.store.cursor(31337));
    return cursor?.number === h.number && cursor.hash === h.hash ? h : undefined;
  };
  const canonicalHash = async (n: number) =>
    ((await scenario.provider.send("eth_getBlockByNumber", [`0x${n.toString(16)}`, false])).hash as string).toLowerCase();

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(100n * 10n ** 18n);
    const { file, dbFile } = writeGuardianConfig({ anvil, bank: scenario.bank, reorgMaxDepth: 3 });
    harness = await startHarness(file, dbFile);
    await waitFor("the guardian to catch up", caughtUp);
  });
  after(async () => {
    await harness?.stop();
    await anvil?.stop();
  });

  for (const depth of [1, 2, 5, 20]) {
    it(`depth ${depth}: emits the reorg, retracts the orphaned attack, and finds the new branch's attack`, async () => {
      const attackHash = await scenario.attack();
      if (depth > 1) await scenario.mine(depth - 1);
      await waitFor("the attack block to be processed", caughtUp);
      const orphanedFinding = (await harness.guardian.store.findings(31337)).find((f) => f.detectorId === "reentrancy" && f.txHash === attackHash.toLowerCase());
      expect(orphanedFinding, "reentrancy finding before the reorg").to.not.equal(undefined);
      const retractionsBefore = harness.sink.retractions.length;

      // The new branch carries a different attack: one that reverts (evidence still) in its first block.
      const calldata = ReentrancyAttacker__factory.createInterface().encodeFunctionData("attack", [2, 10n ** 30n]);
      await scenario.provider.send("anvil_reorg", [
        depth,
        [[{ from: scenario.thief.address, to: scenario.attacker, data: calldata, value: "0xde0b6b3a7640000", gas: "0xf4240" }, 0]],
      ]);
      await waitFor("the guardian to follow the new branch", caughtUp);

      const [{ retracted, reorg }] = harness.sink.retractions.slice(retractionsBefore);
      expect(reorg.depth).to.equal(depth);
      expect(reorg.orphaned.map((b) => b.hash)).to.include(orphanedFinding!.blockHash);
      expect(retracted.map((f) => f.id)).to.include(orphanedFinding!.id);

      const live = (await harness.guardian.store.findings(31337));
      expect(live.find((f) => f.id === orphanedFinding!.id), "orphaned finding no longer live").to.equal(undefined);
      for (const f of live) expect(f.blockHash, `${f.detectorId} finding ${f.id} sits on the canonical chain`).to.equal(await canonicalHash(f.blockNumber));

      const newBranchStart = reorg.commonAncestor.number + 1;
      const newAttack = live.find((f) => f.detectorId === "reentrancy" && f.blockNumber === newBranchStart);
      expect(newAttack, "reentrancy finding on the new branch").to.not.equal(undefined);
      expect(newAttack!.evidence.txStatus).to.equal("reverted");

      const reorgFinding = live.find((f) => f.detectorId === "reorg" && (f.evidence as { depth: number }).depth === depth && f.blockHash === reorg.added[0].hash);
      expect(reorgFinding, "reorg finding").to.not.equal(undefined);
      expect(reorgFinding!.severity).to.equal(depth > 3 ? "high" : "info");
    });
  }
});
