import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { REPO_ROOT } from "../helpers/hardhat-cli";

const TSX = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");

interface DemoRun {
  code: number | null;
  output: string;
}

/** Runs scripts/demo.ts as `npm run demo` does after compiling; `onOutput` may signal the child mid-run. */
function runDemo(args: string[], onOutput?: (output: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<DemoRun> {
  const child = spawn(process.execPath, [TSX, "scripts/demo.ts", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    onOutput?.(output, (signal) => child.kill(signal));
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, output })));
}

/** The anvil the demo started, from its first step's line. */
function anvilUrl(output: string): string {
  const match = /^1\. anvil (http:\/\/127\.0\.0\.1:\d+);/m.exec(output);
  if (!match) throw new Error(`no anvil URL in the demo's output:\n${output}`);
  return match[1];
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) });
    return true;
  } catch {
    return false;
  }
}

describe("scripts/demo.ts (npm run demo)", function () {
  this.timeout(120_000);
  let reports: string;

  before(function () {
    reports = mkdtempSync(path.join(tmpdir(), "failsafe-demo-"));
  });

  after(function () {
    rmSync(reports, { recursive: true, force: true });
  });

  it("deploys, runs the attack, trips the vault, writes the incident report, says where it is, and stops anvil", async function () {
    const { code, output } = await runDemo(["--reports", reports]);
    expect(code, output).to.equal(0);
    expect(output).to.include("anvil's well-known dev keys");
    expect(output).to.include("deployed with deploy/modules/FailsafeLocal.ts");
    expect(output).to.match(/TRIP 0x[0-9a-f]{64} by guardian/);
    expect(output).to.match(/reverted \(vault tripped\)/);
    // The finding reads in the token's own units, as alerts and reports show it.
    expect(output).to.match(/guardian: high outflow-spike finding in block \d+: Outflow spike from vault: [\d,.]+ fsUSD \(0x[0-9a-f]{40}\)/);
    const report = /^ {2}report {7}(\S+\.md) and (\S+\.json)$/m.exec(output);
    expect(report, output).to.not.equal(null);
    const json = path.resolve(REPO_ROOT, report![2]);
    expect(existsSync(path.resolve(REPO_ROOT, report![1]))).to.equal(true);
    const incident = JSON.parse(readFileSync(json, "utf8")) as { status: string; trip?: { via: string }; findings: { detectorId: string }[] };
    expect(incident.status).to.equal("tripped");
    expect(incident.trip?.via).to.equal("bundle");
    expect(incident.findings.map((f) => f.detectorId)).to.include("outflow-spike");
    expect(path.dirname(json).startsWith(reports)).to.equal(true);
    expect(await reachable(anvilUrl(output)), "anvil stopped").to.equal(false);
  });

  it("stops the guardian, the relay and anvil on SIGTERM and exits 130", async function () {
    let signalled = false;
    const { code, output } = await runDemo(["--reports", reports], (text, kill) => {
      if (!signalled && text.includes("4. attack")) {
        signalled = true;
        kill("SIGTERM");
      }
    });
    expect(signalled, output).to.equal(true);
    expect(code, output).to.equal(130);
    expect(output).to.include("SIGTERM: stopping the guardian, the relay and anvil");
    expect(await reachable(anvilUrl(output)), "anvil stopped").to.equal(false);
  });

  it("refuses a bad argument with a message that names it, and no stack trace", async function () {
    const { code, output } = await runDemo(["--block-time-ms", "fast"]);
    expect(code).to.equal(1);
    expect(output).to.include('--block-time-ms: expected an integer >= 100, got "fast"');
    expect(output).to.not.match(/^\s+at /m);
  });
});
