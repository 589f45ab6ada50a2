import { expect } from "chai";
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { freePort, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { OneShotBankExploit__factory } from "../../../typechain-types";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { waitFor } from "../support/guardian-harness";

const ROOT = path.resolve(__dirname, "../../..");
const BIN = path.join(ROOT, "bin/failsafe.cjs");

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
    const logFile = path.join(config.dir, "guard.log");
    const out = openSync(logFile, "w");
    const child = spawn(process.execPath, [BIN, "guard", "--config", config.file], { cwd: ROOT, stdio: ["ignore", out, out] });
    closeSync(out);
    const lines = () =>
      readFileSync(logFile, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as LogLine);
    try {
      const head = await scenario.provider.getBlockNumber();
      await waitFor("the guardian at the head", async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!res || res.status !== 200) return undefined;
        const body = (await res.json()) as { chains: { cursor: number }[] };
        return body.chains[0].cursor >= head ? true : undefined;
      });
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
      child.kill("SIGTERM");
    }
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).to.equal(0);
  });
});
