import { expect } from "chai";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, openSync, closeSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { waitFor } from "../support/guardian-harness";
import { main } from "../../../guardian/cli";

const ROOT = path.resolve(__dirname, "../../..");
const BIN = path.join(ROOT, "bin/failsafe.cjs");

async function failsafe(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, FAILSAFE_DEBUG: "" } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function noStack(text: string): void {
  expect(text).to.not.match(/\n\s+at /);
  expect(text).to.not.match(/node:internal|\.ts:\d+:\d+/);
}

describe("failsafe CLI", function () {
  this.timeout(120_000);

  describe("config check", () => {
    it("accepts the shipped example", async () => {
      const r = await failsafe("config", "check", "guardian/config/failsafe.example.yaml");
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/failsafe\.example\.yaml: ok/);
      expect(r.stdout).to.match(/detectors: reorg, flash-loan, reentrancy@vault, outflow-spike@vault/);
    });

    it("lists every mistake by path, exits non-zero, and prints no stack trace", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "failsafe-cli-"));
      const file = path.join(dir, "bad.yaml");
      writeFileSync(
        file,
        `chains:
  - id: 1
    rpc: [http://127.0.0.1:8545, "ftp://example.org"]
    confirmations: -1
contracts:
  - { name: bank, chain: 1, address: "0x12", abi: VulnerableBank }
`,
      );
      const r = await failsafe("config", "check", file);
      expect(r.code).to.equal(2);
      expect(r.stdout).to.equal("");
      expect(r.stderr).to.contain(`error: ${file}: invalid config`);
      expect(r.stderr).to.contain("chains[0].rpc[1]: expected an http(s) URL");
      expect(r.stderr).to.contain("chains[0].confirmations: Number must be greater than or equal to 0");
      expect(r.stderr).to.contain("contracts[0].address: expected a 0x-prefixed 20-byte hex address");
      noStack(r.stderr);
    });

    it("reports a missing file and YAML syntax errors the same way", async () => {
      const missing = await failsafe("config", "check", "no/such/file.yaml");
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.equal("error: no/such/file.yaml: file not found (pass --config <file> or set FAILSAFE_CONFIG; the default is ./failsafe.yaml)\n");
      const dir = mkdtempSync(path.join(tmpdir(), "failsafe-cli-"));
      writeFileSync(path.join(dir, "broken.yaml"), "chains: [\n  - id: 1\n");
      const broken = await failsafe("config", "check", path.join(dir, "broken.yaml"));
      expect(broken.code).to.equal(2);
      expect(broken.stderr).to.match(/line \d+, column \d+: /);
      noStack(broken.stderr);
    });

    it("guard refuses a bad config before touching the network", async () => {
      const r = await failsafe("guard", "--config", "no/such/file.yaml");
      expect(r.code).to.equal(2);
      expect(r.stderr).to.equal("error: no/such/file.yaml: file not found (pass --config <file> or set FAILSAFE_CONFIG; the default is ./failsafe.yaml)\n");
    });
  });

  describe("usage errors", () => {
    /** The same program in-process (a child per case would cost seconds each); stderr captured. */
    async function inProcess(...args: string[]): Promise<{ code: number; stderr: string }> {
      let stderr = "";
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string | Uint8Array) => {
        stderr += chunk.toString();
        return true;
      }) as typeof process.stderr.write;
      try {
        const code = await main(["node", "failsafe", ...args]);
        return { code, stderr };
      } finally {
        process.stderr.write = write;
      }
    }

    it("rejects unknown commands, missing options and bad arguments with a clear message", async () => {
      const example = "guardian/config/failsafe.example.yaml";
      for (const [args, message] of [
        [["replay", "--block", "1", "--config", "no-such.yaml"], /no-such\.yaml: file not found \(pass --config <file> or set FAILSAFE_CONFIG; the default is \.\/failsafe\.yaml\)/],
        [["replay", "--config", example], /give exactly one of --tx <hash>, --block <n>, --range <a>\.\.<b>/],
        [["replay", "--config", example, "--range", "9..3"], /--range: 9 is after 3/],
        [["replay", "--config", example, "--range", "3-9"], /--range: expected <from>\.\.<to> \(inclusive\), got "3-9"/],
        [["replay", "--config", example, "--tx", "0x12"], /--tx: expected a 0x-prefixed 32-byte transaction hash/],
        [["replay", "--config", example, "--block", "1", "--format", "xml"], /--format: expected json or table/],
      ] as [string[], RegExp][]) {
        const r = await inProcess(...args);
        expect(r.code, args.join(" ")).to.not.equal(0);
        expect(r.stderr, args.join(" ")).to.match(message);
        noStack(r.stderr);
      }
    });

    it("the real binary exits non-zero on an unknown command, without a stack trace", async () => {
      const r = await failsafe("bogus");
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/^error: unknown command 'bogus'/);
      noStack(r.stderr);
    });
  });

  describe("replay and guard on anvil", () => {
    let anvil: AnvilInstance;
    let scenario: BankScenario;
    let attackOk: string;
    let attackReverted: string;
    let config: ReturnType<typeof writeGuardianConfig>;

    before(async () => {
      anvil = await startAnvil();
      scenario = await deployBankScenario(anvil);
      await scenario.deposit(10n * 10n ** 18n);
      attackOk = await scenario.attack();
      attackReverted = await scenario.attack({ minProfit: 10n ** 30n });
      await scenario.deposit(10n ** 17n);
      config = writeGuardianConfig({ anvil, bank: scenario.bank, metricsPort: await freePort() });
    });
    after(async () => anvil?.stop());

    it("replay --range prints one JSON finding per line; --tx and --block select the same findings", async () => {
      const head = await scenario.provider.getBlockNumber();
      const range = await failsafe("replay", "--config", config.file, "--range", `0..${head}`);
      expect(range.code, range.stderr).to.equal(0);
      const findings = range.stdout.trim().split("\n").map((l) => JSON.parse(l) as { txHash: string; detectorId: string; evidence: { txStatus: string } });
      expect(findings.map((f) => [f.detectorId, f.txHash, f.evidence.txStatus])).to.deep.equal([
        ["reentrancy", attackOk.toLowerCase(), "success"],
        ["reentrancy", attackReverted.toLowerCase(), "reverted"],
      ]);
      const tx = await failsafe("replay", "--config", config.file, "--tx", attackReverted);
      expect(JSON.parse(tx.stdout)).to.deep.equal(findings[1]);
      const receipt = await scenario.provider.getTransactionReceipt(attackOk);
      const block = await failsafe("replay", "--config", config.file, "--block", String(receipt!.blockNumber), "--format", "table");
      expect(block.stdout.split("\n")[0]).to.match(/^BLOCK\s+SEVERITY\s+DETECTOR\s+TX\s+TITLE$/);
      expect(block.stdout).to.match(/critical\s+reentrancy\s+0x[0-9a-f]{8}…\s+Reentrancy into bank/);
      const beyond = await failsafe("replay", "--config", config.file, "--block", String(head + 100));
      expect(beyond.code).to.equal(2);
      expect(beyond.stderr).to.equal(`error: block ${head + 100} is beyond the chain head (${head})\n`);
    });

    it("guard serves /metrics and /healthz on 127.0.0.1 and stops cleanly on SIGTERM", async () => {
      const logFile = path.join(config.dir, "guard.log");
      const out = openSync(logFile, "w");
      const child = spawn(process.execPath, [BIN, "guard", "--config", config.file], { cwd: ROOT, stdio: ["ignore", out, out] });
      closeSync(out);
      try {
        const text = readFileSync(config.file, "utf8");
        const port = Number(/port: (\d+)/.exec(text)![1]);
        const head = await scenario.provider.getBlockNumber();
        const health = await waitFor("a healthy guardian at the head", async () => {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          if (!res || res.status !== 200) return undefined;
          const body = (await res.json()) as { status: string; chains: { cursor: number; lag: number }[] };
          return body.chains[0].cursor === head ? body : undefined;
        });
        expect(health.status).to.equal("ok");
        expect(health.chains[0].lag).to.equal(0);
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).to.match(new RegExp(`failsafe_blocks_processed_total\\{chain="31337"\\} ${head + 1}`));
        expect(metrics).to.match(/failsafe_findings_total\{chain="31337",detector="reentrancy",severity="critical"\} 2/);
        expect(metrics).to.match(/failsafe_head_lag_blocks\{chain="31337"\} 0/);
      } finally {
        child.kill("SIGTERM");
      }
      const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
      expect(code).to.equal(0);
      const lines = readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { msg: string; stage?: string });
      expect(lines.map((l) => l.msg)).to.include.members(["shutting down", "guardian stopped"]);
      expect([...new Set(lines.map((l) => l.stage))]).to.include.members(["chain", "pipeline", "findings", "ops"]);
    });
  });
});
