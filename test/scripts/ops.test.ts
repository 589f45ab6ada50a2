import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { encryptKeystoreJson, id, JsonRpcProvider, Wallet } from "ethers";
import { anvilKey, startAnvil, type AnvilInstance } from "../../guardian/ops/anvil";
import { deployFailsafe } from "../../deploy/deploy-failsafe";
import localhost from "../../deploy/parameters/localhost.json";
import { PausableVault__factory } from "../../typechain-types";
import { REPO_ROOT } from "../helpers/hardhat-cli";

const TSX_CLI = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const GUARDIAN_KEY = anvilKey(1);
const GOVERNOR_KEY = anvilKey(2);
const OUTSIDER_KEY = anvilKey(5);

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an operator script exactly as an operator would: `npx tsx scripts/ops/<name>.ts ...`, with only the given key env. */
function runScript(name: string, args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("FAILSAFE_")));
  const child = spawn(process.execPath, [TSX_CLI, path.join("scripts", "ops", `${name}.ts`), ...args], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

/** A failure an operator can read: exit 1, one `error:` line naming the problem, no stack trace. */
function expectOperatorError(run: ScriptRun, message: string | RegExp): void {
  expect(run.code, run.stdout + run.stderr).to.equal(1);
  expect(run.stderr).to.match(/^error: /);
  if (typeof message === "string") expect(run.stderr).to.contain(message);
  else expect(run.stderr).to.match(message);
  expect(run.stderr).not.to.match(/^\s+at /m);
}

describe("scripts/ops", function () {
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let vault: string;
  let timelock: string;
  let rpc: string[];
  let tmp: string;

  before(async function () {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url);
    const deployment = await deployFailsafe({ rpcUrl: anvil.url, module: "FailsafeLocal", parameters: localhost });
    vault = deployment.addresses.vault;
    timelock = deployment.addresses.timelock;
    rpc = ["--rpc", anvil.url];
    tmp = await mkdtemp(path.join(os.tmpdir(), "failsafe-ops-"));
  });

  after(async function () {
    provider?.destroy();
    await anvil?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  describe("status", function () {
    it("shows an open breaker with its guardians, governance, limit and recovery address", async function () {
      const run = await runScript("status", ["--breaker", vault, ...rpc]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^state\s+open$/m);
      expect(run.stdout).to.match(/^incident\s+none \(never tripped\)$/m);
      expect(run.stdout).to.match(new RegExp(`^guardians\\s+${localhost.FailsafeLocal.guardians[0]}$`, "m"));
      expect(run.stdout).to.match(new RegExp(`^governance\\s+${timelock}$`, "m"));
      expect(run.stdout).to.match(/^outflow limit\s+0x[0-9a-fA-F]{40}: 20% of holdings per 6h, over it: delay$/m);
      expect(run.stdout).to.match(new RegExp(`^recovery\\s+${localhost.FailsafeLocal.recovery}$`, "m"));
    });

    it("prints one JSON object with --json", async function () {
      const run = await runScript("status", ["--breaker", vault, "--json", ...rpc]);
      expect(run.code, run.stderr).to.equal(0);
      const status = JSON.parse(run.stdout) as { tripped: boolean; guardians: string[]; tripDurationSeconds: number };
      expect(status.tripped).to.equal(false);
      expect(status.guardians).to.deep.equal(localhost.FailsafeLocal.guardians);
      expect(status.tripDurationSeconds).to.equal(localhost.FailsafeLocal.tripDuration);
    });

    it("rejects an address that is not a breaker", async function () {
      const run = await runScript("status", ["--breaker", timelock, ...rpc]);
      expectOperatorError(run, `--breaker ${timelock} is not a Failsafe circuit breaker`);
    });
  });

  describe("trip", function () {
    it("refuses without a guardian key, naming the variables to set", async function () {
      const run = await runScript("trip", ["--breaker", vault, "--incident", "INC-1", ...rpc]);
      expectOperatorError(run, "no guardian key: set FAILSAFE_GUARDIAN_KEY, or FAILSAFE_GUARDIAN_KEYSTORE");
    });

    it("refuses a key that is not a guardian's, without sending anything", async function () {
      const outsider = new Wallet(OUTSIDER_KEY).address;
      const run = await runScript("trip", ["--breaker", vault, "--incident", "INC-1", ...rpc], { FAILSAFE_GUARDIAN_KEY: OUTSIDER_KEY });
      expectOperatorError(run, `${outsider} (the guardian key) does not hold GUARDIAN_ROLE on ${vault}`);
      expect(await provider.getTransactionCount(outsider)).to.equal(0);
    });

    it("names a malformed address, an address without code and a malformed key", async function () {
      const env = { FAILSAFE_GUARDIAN_KEY: GUARDIAN_KEY };
      expectOperatorError(await runScript("trip", ["--breaker", "0x1234", "--incident", "x", ...rpc], env), "--breaker is not an address");
      const empty = Wallet.createRandom().address;
      expectOperatorError(
        await runScript("trip", ["--breaker", empty, "--incident", "x", ...rpc], env),
        `--breaker ${empty} has no contract code on chain 31337`,
      );
      const badKey = await runScript("trip", ["--breaker", vault, "--incident", "x", ...rpc], { FAILSAFE_GUARDIAN_KEY: "0xnotakey" });
      expectOperatorError(badKey, "FAILSAFE_GUARDIAN_KEY is not a valid private key");
      expect(badKey.stderr).not.to.contain("0xnotakey");
    });

    it("names an unreachable node", async function () {
      const run = await runScript("trip", ["--breaker", vault, "--incident", "x", "--rpc", "http://127.0.0.1:1"], {
        FAILSAFE_GUARDIAN_KEY: GUARDIAN_KEY,
      });
      expectOperatorError(run, "cannot reach the node at http://127.0.0.1:1");
    });

    it("trips with the guardian key; a second trip is a no-op that sends nothing", async function () {
      const run = await runScript("trip", ["--breaker", vault, "--incident", "INC-1", ...rpc], { FAILSAFE_GUARDIAN_KEY: GUARDIAN_KEY });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.contain(`tripped ${vault}`);
      expect(run.stdout).to.contain(`incident   ${id("INC-1")} (keccak256 of "INC-1")`);
      const breaker = PausableVault__factory.connect(vault, provider);
      expect(await breaker.isTripped()).to.equal(true);
      expect((await breaker.incident()).incidentId).to.equal(id("INC-1"));

      const guardian = new Wallet(GUARDIAN_KEY).address;
      const nonce = await provider.getTransactionCount(guardian);
      const again = await runScript("trip", ["--breaker", vault, "--incident", "INC-2", ...rpc], { FAILSAFE_GUARDIAN_KEY: GUARDIAN_KEY });
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.contain(`already tripped: incident ${id("INC-1")}`);
      expect(await provider.getTransactionCount(guardian)).to.equal(nonce);
    });

    it("loads the guardian key from an encrypted keystore, and names a wrong password", async function () {
      const keystore = path.join(tmp, "guardian.json");
      const wallet = new Wallet(GUARDIAN_KEY);
      // A cheap scrypt cost keeps the test fast; real keystores use ethers' default.
      await writeFile(keystore, await encryptKeystoreJson(wallet, "correct horse", { scrypt: { N: 1 << 10 } }));
      const ok = await runScript("trip", ["--breaker", vault, "--incident", "INC-3", ...rpc], {
        FAILSAFE_GUARDIAN_KEYSTORE: keystore,
        FAILSAFE_GUARDIAN_KEYSTORE_PASSWORD: "correct horse",
      });
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stdout).to.contain("already tripped");

      const wrong = await runScript("trip", ["--breaker", vault, "--incident", "INC-3", ...rpc], {
        FAILSAFE_GUARDIAN_KEYSTORE: keystore,
        FAILSAFE_GUARDIAN_KEYSTORE_PASSWORD: "wrong",
      });
      expectOperatorError(wrong, `cannot decrypt the keystore ${keystore}`);
    });
  });

  describe("status while tripped", function () {
    it("shows the trip, its incident and expiry", async function () {
      const run = await runScript("status", ["--breaker", vault, ...rpc]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^state\s+TRIPPED$/m);
      expect(run.stdout).to.match(new RegExp(`^incident\\s+${id("INC-1")}$`, "m"));
      // The trip lasts tripDuration (1h); a few seconds of the test's own blocks may have passed.
      expect(run.stdout).to.match(/^ {2}expires\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (1h|59m \d+s)\)$/m);
    });
  });

  describe("schedule-lift", function () {
    const governorEnv = { FAILSAFE_GOVERNOR_KEY: GOVERNOR_KEY };

    it("refuses a key without PROPOSER_ROLE", async function () {
      const run = await runScript("schedule-lift", ["--timelock", timelock, "--breaker", vault, ...rpc], { FAILSAFE_GOVERNOR_KEY: GUARDIAN_KEY });
      expectOperatorError(run, "does not hold PROPOSER_ROLE");
    });

    it("refuses an incident that is not the current one", async function () {
      const run = await runScript("schedule-lift", ["--timelock", timelock, "--breaker", vault, "--incident", "INC-0", ...rpc], governorEnv);
      expectOperatorError(run, `is not the breaker's current incident ${id("INC-1")}`);
    });

    it("schedules the lift through the timelock, refuses to execute it early, then executes it", async function () {
      const args = ["--timelock", timelock, "--breaker", vault, ...rpc];
      const scheduled = await runScript("schedule-lift", args, governorEnv);
      expect(scheduled.code, scheduled.stderr).to.equal(0);
      expect(scheduled.stdout).to.contain(`scheduled the lift of ${vault}`);
      expect(scheduled.stdout).to.match(/^ {2}ready\s+\S+ \(in 1m\)$/m);
      const operationId = /operation {2}(0x[0-9a-f]{64})/.exec(scheduled.stdout)![1]!;

      expectOperatorError(await runScript("schedule-lift", args, governorEnv), `already scheduled as operation ${operationId}`);
      expectOperatorError(await runScript("schedule-lift", [...args, "--execute"], governorEnv), `operation ${operationId} is not ready`);
      expect(await PausableVault__factory.connect(vault, provider).isTripped()).to.equal(true);

      await provider.send("evm_increaseTime", [localhost.FailsafeLocal.timelockDelay]);
      await provider.send("evm_mine", []);
      const executed = await runScript("schedule-lift", [...args, "--execute"], governorEnv);
      expect(executed.code, executed.stderr).to.equal(0);
      expect(executed.stdout).to.contain(`lifted ${vault}`);
      expect(await PausableVault__factory.connect(vault, provider).isTripped()).to.equal(false);
    });

    it("refuses to schedule a lift when nothing is tripped", async function () {
      const run = await runScript("schedule-lift", ["--timelock", timelock, "--breaker", vault, "--salt", id("again"), ...rpc], governorEnv);
      expectOperatorError(run, "is not active: its trip ended");
    });

    it("reports a missing required option through commander, without a stack", async function () {
      const run = await runScript("schedule-lift", ["--breaker", vault, ...rpc], governorEnv);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.contain("required option '--timelock <address>' not specified");
    });
  });
});
