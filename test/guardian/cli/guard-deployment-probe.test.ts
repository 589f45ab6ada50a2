import { expect } from "chai";
import { freePort, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { OneShotBankExploit__factory } from "../../../typechain-types";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { spawnGuard, waitFor } from "../support/guardian-harness";

interface LogLine {
  msg: string;
  stage?: string;
  detector_id?: string;
  severity?: string;
  created?: string;
  selector?: string;
}

/**
 * Exploit contracts are deployed before they are fired. The guardian simulates each entry point of a new
 * contract that names a protected one, from its deployer, and runs the detectors on the simulated call: a
 * one-shot drain is found while the bank still holds every wei, before the attacker sends the attack.
 */
describe("failsafe guard simulates a new contract that names a protected one", function () {
  let anvil: AnvilInstance;
  let scenario: BankScenario;

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(10n * 10n ** 18n);
  });
  after(async () => anvil?.stop());

  it("finds the drain in the exploit's attack() before it is sent, and nothing in a contract whose entry points revert", async () => {
    const port = await freePort();
    const config = writeGuardianConfig({ anvil, bank: scenario.bank, metricsPort: port, bankDetectors: "      exploit-deployment: true\n" });
    const guard = spawnGuard(config.file);
    const lines = () => guard.lines<LogLine>();
    try {
      await guard.healthyAt(port, await scenario.provider.getBlockNumber());
      // The scenario's ReentrancyAttacker names the bank too, but its entry points revert without a stake.
      expect(lines().filter((l) => l.stage === "probe" && l.created === scenario.attacker && l.msg.includes("in simulation"))).to.deep.equal([]);

      const before = await scenario.provider.getBalance(scenario.bank);
      const exploit = await new OneShotBankExploit__factory(scenario.thief).deploy(scenario.bank, { value: 10n ** 18n });
      await exploit.waitForDeployment();
      const created = (await exploit.getAddress()).toLowerCase();
      await scenario.mine(5);

      const flagged = await waitFor("the simulated drain flagged", async () =>
        lines().find((l) => l.stage === "findings" && l.detector_id === "reentrancy" && l.msg.startsWith("Simulated call") && l.msg.includes(created)),
      );
      expect(flagged.severity).to.equal("critical");
      const selector = exploit.interface.getFunction("attack")!.selector;
      expect(lines().find((l) => l.stage === "probe" && l.created === created)).to.include({ selector });
      // Found from the deployment alone: the attack was never sent and the bank holds every wei.
      expect(await scenario.provider.getTransactionCount(scenario.thief.address)).to.equal(2);
      expect(await scenario.provider.getBalance(scenario.bank)).to.equal(before);
    } finally {
      expect(await guard.stop()).to.equal(0);
    }
  });
});
