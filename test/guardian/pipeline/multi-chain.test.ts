import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, type BankScenario } from "../support/bank-scenario";
import { startHarness, waitFor, type Harness } from "../support/guardian-harness";

/**
 * One guardian process follows two chains: each chain has its own pipeline, cursor and detectors, and an attack on
 * one is reported with that chain's id while the other keeps following. (bench:guardian --chains N measures it.)
 */
describe("one guardian, two chains", function () {
  this.timeout(120_000);
  const ids = [31337, 31338];
  let anvils: AnvilInstance[] = [];
  let banks: BankScenario[] = [];
  let harness: Harness | undefined;
  let dir: string;

  before(async () => {
    anvils = await Promise.all(ids.map((chainId) => startAnvil({ chainId })));
    banks = await Promise.all(anvils.map((a) => deployBankScenario(a)));
    for (const bank of banks) await bank.deposit(5n * 10n ** 18n);
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-multichain-"));
    const chains = ids.map((id, i) => `  - { id: ${id}, rpc: [${anvils[i].url}], traces: parity, pollIntervalMs: 50, confirmations: 2, maxReorgDepth: 8, startBlock: 1 }\n`).join("");
    const contracts = ids.map((id, i) => `  - { name: bank-${id}, chain: ${id}, address: "${banks[i].bank}", abi: VulnerableBank, detectors: { reentrancy: true } }\n`).join("");
    const file = path.join(dir, "guardian.yaml");
    writeFileSync(file, `chains:\n${chains}contracts:\n${contracts}store: { path: ${path.join(dir, "guardian.sqlite")} }\nmetrics: { enabled: false }\n`);
    harness = await startHarness(file, path.join(dir, "guardian.sqlite"));
  });

  after(async () => {
    await harness?.stop();
    for (const a of anvils) await a.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reports an attack on the second chain with its chain id, and both cursors follow their own heads", async () => {
    const attack = await banks[1].attack();
    const finding = await waitFor("the reentrancy finding on chain 31338", () => harness!.sink.findings.find((f) => f.detectorId === "reentrancy" && f.txHash === attack));
    expect(finding.chainId).to.equal(31338);
    expect(finding.contract).to.equal(banks[1].bank);
    expect(harness!.sink.findings.filter((f) => f.detectorId === "reentrancy" && f.chainId === 31337)).to.deep.equal([]);

    // Chain 31337 moves on alone: its cursor follows its head, not the other chain's.
    await banks[0].mine(3);
    const heads = await Promise.all(banks.map((b) => b.provider.getBlockNumber()));
    for (const [i, id] of ids.entries()) {
      await waitFor(`chain ${id}'s cursor at its head ${heads[i]}`, async () => ((await harness!.guardian.store.cursor(id))?.number ?? -1) >= heads[i]);
    }
    expect(heads[0]).to.not.equal(heads[1]);
    const attackOnFirst = await banks[0].attack();
    const first = await waitFor("the reentrancy finding on chain 31337", () => harness!.sink.findings.find((f) => f.txHash === attackOnFirst && f.detectorId === "reentrancy"));
    expect(first.chainId).to.equal(31337);
  });
});
