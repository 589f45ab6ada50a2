import { expect } from "chai";
import { readFileSync } from "node:fs";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bankScenario";
import { startHarness, waitFor, type Harness } from "../support/guardianHarness";

describe("HeadFollower", function () {
  this.timeout(60_000);
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  let harness: Harness;

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(10n ** 19n);
  });
  after(async () => {
    await harness?.stop();
    await anvil?.stop();
  });

  describe("run", () => {
    it("follows the head through eth_subscribe newHeads when a websocket is configured", async () => {
      // Polling every 10 minutes: only the subscription can bring these blocks in within the test.
      const cfg = writeGuardianConfig({ anvil, bank: scenario.bank, ws: true, pollIntervalMs: 600_000 });
      harness = await startHarness(cfg.file, cfg.dbFile);
      const reached = (n: number) => () => (harness.guardian.store.cursor(31337)?.number ?? -1) >= n;
      await waitFor("the initial catch-up", reached(await scenario.provider.getBlockNumber()));
      await waitFor("the subscription", () => readFileSync(harness.logFile, "utf8").includes('"subscribed to newHeads"'));

      const attack = await scenario.attack();
      await scenario.mine(3);
      const head = await scenario.provider.getBlockNumber();
      await waitFor("blocks announced by newHeads", reached(head), 20_000);
      expect(harness.committed.slice(-4)).to.deep.equal([head - 3, head - 2, head - 1, head]);
      expect(harness.sink.findings.map((f) => f.txHash)).to.include(attack.toLowerCase());
    });
  });
});
