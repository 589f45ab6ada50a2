import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../../guardian/ops/anvil";
import { readSteps, runDocSteps, stopAll } from "./run-doc-commands";

/**
 * docs/quickstart.md, the security teams' first five minutes, run block by block as a reader types it: anvil, the
 * Ignition deploy, the shipped example config, `config check`, `guard` in the background, the attack script and
 * the replay. The documented ports (8545, 9464) become free ones; the files the guide creates at the top of the
 * repository are moved aside first and put back afterwards.
 */
const ROOT = path.join(__dirname, "../..");
const GUIDE = path.join(ROOT, "docs/quickstart.md");
const CREATED = ["failsafe.yaml", "guardian.log", ".failsafe", "deploy/deployments/chain-31337"];

describe("docs/quickstart.md (security teams' quickstart)", function () {
  this.timeout(600_000);
  const aside = mkdtempSync(path.join(tmpdir(), "failsafe-quickstart-aside-"));

  before(() => {
    for (const rel of CREATED) if (existsSync(path.join(ROOT, rel))) renameSync(path.join(ROOT, rel), path.join(aside, rel.replace(/\//g, "_")));
  });

  after(() => {
    for (const rel of CREATED) {
      rmSync(path.join(ROOT, rel), { recursive: true, force: true });
      const saved = path.join(aside, rel.replace(/\//g, "_"));
      if (existsSync(saved)) renameSync(saved, path.join(ROOT, rel));
    }
    rmSync(aside, { recursive: true, force: true });
  });

  it("every command of the guide runs as shown and the running guardian reports the attack", async () => {
    const [rpcPort, metricsPort] = [await freePort(), await freePort()];
    const replace: [string, string][] = [
      ["--port 8545", `--port ${rpcPort}`],
      ["127.0.0.1:9464", `127.0.0.1:${metricsPort}`],
    ];
    const env = { ...process.env, FAILSAFE_RPC_URL: `http://127.0.0.1:${rpcPort}`, NO_COLOR: "1", FORCE_COLOR: "0" };
    const steps = readSteps(GUIDE);
    expect(steps.map((s) => s.command.split(" ").slice(0, 3).join(" "))).to.include.members([
      "npx anvil --port",
      "npx hardhat ignition",
      "npx failsafe config",
      "npx failsafe guard",
      "npx failsafe replay",
    ]);
    const { background, results } = await runDocSteps(steps, {
      cwd: ROOT,
      env,
      replace,
      timeoutMs: 300_000,
      afterStep: async ({ step }) => {
        if (step.command.startsWith("npx anvil")) await waitForRpc(env.FAILSAFE_RPC_URL);
        // The reader's failsafe.yaml talks to anvil on 8545 and serves metrics on 9464; the test's to free ports.
        if (step.command.startsWith("cp guardian/config/failsafe.example.yaml")) {
          const file = path.join(ROOT, "failsafe.yaml");
          writeFileSync(file, readFileSync(file, "utf8").replace(/127\.0\.0\.1:8545/g, `127.0.0.1:${rpcPort}`).replace(/port: 9464/, `port: ${metricsPort}`));
        }
      },
    });
    // The replay's table is for people: the spike's amount in the token's own units, not base units.
    const table = results.find((r) => r.step.command.includes("failsafe replay") && r.step.command.includes("--format table"));
    expect(table?.output, "the replay table step").to.match(/Outflow spike from vault: [\d,.]+ [A-Za-z]+ \(0x[0-9a-f]{40}\) over \d+ blocks/);
    try {
      // The guardian started before the attack: it must have found it on its own, not only the replay.
      const log = path.join(ROOT, "guardian.log");
      const deadline = Date.now() + 60_000;
      while (!(existsSync(log) && /"detector_id":"outflow-spike"/.test(readFileSync(log, "utf8")))) {
        if (Date.now() > deadline) throw new Error(`the guardian logged no outflow-spike finding:\n${existsSync(log) ? readFileSync(log, "utf8").slice(-4000) : "(no log)"}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
      expect(health.status, await health.text()).to.equal(200);
    } finally {
      await stopAll(background);
    }
  });
});

async function waitForRpc(url: string | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(url!, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`anvil did not answer at ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
