import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";

const ROOT = path.resolve(__dirname, "../../..");
const BIN = path.join(ROOT, "bin/failsafe.cjs");

function failsafe(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, FAILSAFE_DEBUG: "", ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Checks {
  file: string;
  ok: boolean;
  checks: { check: string; path: string; ok: boolean; message: string }[];
}

/**
 * `failsafe config check` runs the checks `guard` runs before it touches the network, so a config it calls
 * ok is one guard starts with. Each mistake below passed the old check (schema only) and stopped guard.
 */
describe("failsafe config check", function () {
  this.timeout(120_000);
  let dir: string;
  const secret = { FAILSAFE_CC_SECRET: "config-check-secret-0123456789abcdef" };
  const key = { FAILSAFE_CC_KEY: Wallet.createRandom().privateKey };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-config-check-"));
    writeFileSync(path.join(dir, "a-file"), "not a folder\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A config with one knob per check; `mistakes` turns each into the error it names. */
  function config(name: string, mistakes: boolean): string {
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `chains:
  - id: 31337
    rpc: [http://127.0.0.1:9]
    detectors:
      invariant:
        invariants:
          - { name: supply, expr: "bank.${mistakes ? "totalSupplyy" : "balanceOf"}(bank) <= eth.balance(bank)" }
contracts:
  - { name: bank, chain: 31337, address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", abi: VulnerableBank }
store: { path: ${mistakes ? path.join(dir, "a-file", "guardian.sqlite") : path.join(dir, "state", "guardian.sqlite")} }
metrics: { enabled: false }
responders:
  trip: { type: flashbots-trip, relays: [{ url: "http://127.0.0.1:9" }], signer: { keyEnv: FAILSAFE_CC_KEY } }
notifiers:
  ops: { type: webhook, url: "http://127.0.0.1:9/hook", secret: { env: FAILSAFE_CC_SECRET } }
alerts:
  routes: [{ match: { kinds: [trip] }, notify: [${mistakes ? "pager" : "ops"}] }]
policy:
  breakers: [{ contract: ${mistakes ? "vault" : "bank"} }]
  incidentReports: ${path.join(dir, "incidents")}
`,
    );
    return file;
  }

  it("says ok, exit 0, to a config guard accepts, listing what it checked", async () => {
    const file = config("good", false);
    const r = await failsafe(["config", "check", file], { ...secret, ...key });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`${file}: ok`);
    expect(r.stdout).to.match(/signer +responders\.trip\.signer +guardian key loads: 0x[0-9a-fA-F]{40}/);
    expect(r.stdout).to.match(/breaker +policy\.breakers\[0\] +bank \(0x5fbdb2315678afecb367f032d93f642f64180aa3\) trips through trip/);
    const json = JSON.parse((await failsafe(["config", "check", file, "--json"], { ...secret, ...key })).stdout) as Checks;
    expect(json.ok).to.equal(true);
    expect(json.checks.map((c) => c.check)).to.include.members(["schema", "detectors", "responder", "signer", "breaker", "alerts", "path"]);
  });

  it("names every problem guard would refuse, by config path, exit 2, as a table or JSON", async () => {
    const file = config("bad", true);
    const r = await failsafe(["config", "check", file], secret);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal("");
    expect(r.stderr).to.include(`error: ${file}: 5 problems that guard would refuse to start with`);
    expect(r.stderr).to.not.match(/\n\s+at /);
    const json = await failsafe(["config", "check", file, "--json"], secret);
    expect(json.code).to.equal(2);
    const failed = (JSON.parse(json.stdout) as Checks).checks.filter((c) => !c.ok).map((c) => [c.path, c.message]);
    expect(failed).to.deep.equal([
      ["chains[0]", 'detector invariant: invariant "supply": "bank.totalSupplyy(bank)": no function totalSupplyy with 1 argument(s) in bank\'s ABI'],
      ["responders.trip.signer", "environment variable FAILSAFE_CC_KEY (guardian key) is not set"],
      ["policy.breakers[0].contract", 'no contract named "vault" (known: bank)'],
      ["alerts.routes[0].notify[0]", 'no notifier named "pager" (known: ops)'],
      ["store.path", `${path.join(dir, "a-file", "guardian.sqlite")}: ${path.join(dir, "a-file")} is a file, not a folder`],
    ]);
  });

  it("agrees with guard: the breaker mistake it reports is the one guard stops on", async () => {
    const file = config("bad-guard", true);
    const guard = await failsafe(["guard", "-c", file], { ...secret, ...key });
    expect(guard.code).to.not.equal(0);
    expect(guard.stderr).to.match(/policy\.breakers\[0\]\.contract|totalSupplyy|a-file/);
  });

  it("reports schema errors in JSON too, exit 2", async () => {
    const file = path.join(dir, "schema.yaml");
    writeFileSync(file, "chains:\n  - id: 1\n    rpc: [ftp://example.org]\n");
    const r = await failsafe(["config", "check", file, "--json"]);
    expect(r.code).to.equal(2);
    const json = JSON.parse(r.stdout) as Checks;
    expect(json.ok).to.equal(false);
    expect(json.checks[0]).to.deep.include({ check: "schema", path: "chains[0].rpc[0]", ok: false });
  });
});
