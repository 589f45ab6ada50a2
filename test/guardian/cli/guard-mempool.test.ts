import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { freePort, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { spawnGuard, waitFor } from "../support/guardian-harness";

interface LogLine {
  msg: string;
  stage?: string;
  tx_hash?: string;
  detector_id?: string;
  block_number?: number;
  block_hash?: string;
  findings?: string[];
}

describe("failsafe guard with chains[].mempool", function () {
  let anvil: AnvilInstance;
  let scenario: BankScenario;

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(10n * 10n ** 18n);
    // From here on nothing is mined until the test says so: the attack waits in the mempool.
    await scenario.provider.send("evm_setAutomine", [false]);
  });
  after(async () => anvil?.stop());

  for (const mode of ["poll", "subscribe"] as const) {
    it(`flags a pending reentrancy attack before it is mined (mode: ${mode}), then again once mined`, async () => {
      const port = await freePort();
      const config = writeGuardianConfig({ anvil, bank: scenario.bank, metricsPort: port, ws: mode === "subscribe" });
      const text = readFileSync(config.file, "utf8");
      writeFileSync(config.file, text.replace(/^(    startBlock: .*)$/m, `$1\n    mempool: { mode: ${mode}, pollIntervalMs: 50 }`));
      const guard = spawnGuard(config.file);
      const lines = () => guard.lines<LogLine>();
      try {
        const head = await scenario.provider.getBlockNumber();
        await guard.healthyAt(port, head);
        await waitFor("the guardian watching the mempool", () => lines().some((l) => l.msg === "watching the mempool") || undefined);

        const attack = scenario.attack().then(() => undefined);
        const attackHash = await waitFor("the attack in the mempool", async () => {
          const pool = (await scenario.provider.send("txpool_content", [])) as { pending: Record<string, Record<string, { hash: string; from: string }>> };
          const txs = Object.values(pool.pending).flatMap((byNonce) => Object.values(byNonce));
          return txs.find((t) => t.from.toLowerCase() === scenario.thief.address.toLowerCase())?.hash.toLowerCase();
        });
        const pendingFinding = await waitFor("a pending reentrancy finding", async () =>
          lines().find((l) => l.stage === "findings" && l.detector_id === "reentrancy" && l.tx_hash === attackHash),
        );
        // Found while the transaction was still waiting: no receipt, no new block.
        expect(await scenario.provider.getTransactionReceipt(attackHash)).to.equal(null);
        expect(await scenario.provider.getBlockNumber()).to.equal(head);
        expect(pendingFinding.block_number).to.equal(head + 1);
        expect(lines().find((l) => l.stage === "mempool" && l.msg === "pending transaction flagged")).to.include({ tx_hash: attackHash });

        await scenario.mine();
        await attack;
        const mined = await scenario.provider.getTransactionReceipt(attackHash);
        const minedFinding = await waitFor("the same attack's finding in its mined block", async () =>
          lines().find((l) => l.stage === "findings" && l.detector_id === "reentrancy" && l.tx_hash === attackHash && l.block_hash === mined!.blockHash.toLowerCase()),
        );
        expect(minedFinding.block_number).to.equal(mined!.blockNumber);
      } finally {
        expect(await guard.stop()).to.equal(0);
      }
      expect(lines().map((l) => l.msg)).to.include("guardian stopped");
    });
  }
});
