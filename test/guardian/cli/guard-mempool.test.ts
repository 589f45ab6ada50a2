import { expect } from "chai";
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { waitFor } from "../support/guardian-harness";

const ROOT = path.resolve(__dirname, "../../..");
const BIN = path.join(ROOT, "bin/failsafe.cjs");

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
        await waitFor("the guardian at the head and watching the mempool", async () => {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          if (!res || res.status !== 200) return undefined;
          const body = (await res.json()) as { chains: { cursor: number }[] };
          return body.chains[0].cursor === head && lines().some((l) => l.msg === "watching the mempool") ? true : undefined;
        });

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
        child.kill("SIGTERM");
      }
      const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
      expect(code).to.equal(0);
      expect(lines().map((l) => l.msg)).to.include("guardian stopped");
    });
  }
});
