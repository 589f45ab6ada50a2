import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, ZeroAddress, ZeroHash, id as keccakUtf8, parseUnits } from "ethers";
import type { Browser } from "puppeteer-core";
import { MockERC20__factory, PausableVault__factory, TimelockedRecovery__factory } from "../../../typechain-types";
import { openIncidents, type IncidentContext } from "../../../guardian/commands/incident-context";
import { startDashboard, type Dashboard } from "../../../guardian/dashboard/server";
import { makeFinding } from "../../../guardian/detectors/finding";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { IncidentRecorder } from "../../../guardian/reports/incident-record";
import { openDatabase } from "../../../guardian/state/database";
import { IncidentStore } from "../../../guardian/state/incident-store";
import { silentLogger } from "../notifiers/fixtures";
import { VIEWPORTS, horizontalOverflow, launchBrowser, screenshot } from "./browser";

const ROOT = path.resolve(__dirname, "../../..");
const BIN = path.join(ROOT, "bin/failsafe.cjs");
const HOSTILE_TITLE = "<img src=x onerror=alert(1)> drained 9,000 fsUSD";

function failsafe(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, FAILSAFE_DEBUG: "" }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A raw HTTP request, to send what a browser would not: other methods, a forged Host header. */
function raw(url: string, init: { method?: string; host?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: init.method ?? "GET", headers: init.host ? { host: init.host } : {} }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * `failsafe dashboard`: the read-only page of incidents, switches, findings and governance steps, served on
 * 127.0.0.1 from a real store and a real chain, looked at in headless Chromium at desktop and phone widths.
 */
describe("failsafe dashboard", function () {
  this.timeout(180_000);
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let browser: Browser;
  let dir: string;
  let configFile: string;
  let ctx: IncidentContext;
  let dashboard: Dashboard;
  const incidentId = keccakUtf8("dashboard incident");

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    const deployer = new Wallet(anvilKey(0), provider);
    const guardian = new Wallet(anvilKey(1), provider);
    const governor = new Wallet(anvilKey(2), provider);
    const token = await (await new MockERC20__factory(deployer).deploy("USD", "fsUSD", 18)).waitForDeployment();
    const timelock = await (await new TimelockedRecovery__factory(deployer).deploy(3_600, [governor.address], [governor.address], ZeroAddress)).waitForDeployment();
    const timelockAddress = await timelock.getAddress();
    const vault = await (
      await new PausableVault__factory(deployer).deploy(await token.getAddress(), "Vault", "fsV", {
        governance: timelockAddress,
        recovery: Wallet.createRandom().address,
        guardians: [guardian.address],
        tripDuration: 7_200,
        outflowBps: 0,
        outflowWindow: 0,
        outflowAction: 0,
        claimDelay: 7_200, // above the timelock delay + the vault's 30-minute claim-order margin
      })
    ).waitForDeployment();
    const vaultAddress = (await vault.getAddress()).toLowerCase();
    const trip = (await (await vault.connect(guardian).trip(incidentId)).wait())!;

    dir = mkdtempSync(path.join(tmpdir(), "failsafe-dashboard-"));
    const storePath = path.join(dir, "guardian.sqlite");
    configFile = path.join(dir, "failsafe.yaml");
    writeFileSync(
      configFile,
      `chains:
  - { id: 31337, rpc: [${anvil.url}], confirmations: 0 }
contracts:
  - { name: vault, chain: 31337, address: "${vaultAddress}", abi: PausableVault }
store: { path: ${storePath} }
metrics: { enabled: false }
policy:
  breakers: [{ contract: vault, timelock: "${timelockAddress}" }]
  incidentReports: ${path.join(dir, "incidents")}
`,
    );
    // The store as the guardian leaves it: an incident with a finding and its trip, then a scheduled lift.
    const db = openDatabase(storePath);
    const recorder = new IncidentRecorder({ store: new IncidentStore(db), dir: path.join(dir, "incidents"), logger: silentLogger, provider: () => provider, breakerInfo: () => ({ name: "vault", timelock: timelockAddress }) });
    const finding = makeFinding({
      detectorId: "outflow-spike",
      severity: "critical",
      title: HOSTILE_TITLE,
      block: { chainId: 31337, number: trip.blockNumber, hash: trip.blockHash },
      contract: vaultAddress,
      subject: "outflow",
      evidence: {},
    });
    // A detector's title in base units, as outflow-spike writes it: the page shows it in the token's units.
    const spike = makeFinding({
      detectorId: "outflow-spike",
      severity: "high",
      title: `Outflow spike from vault: 9000000000000000000000 of token ${await token.getAddress()} over 50 blocks`,
      block: { chainId: 31337, number: trip.blockNumber, hash: trip.blockHash },
      contract: vaultAddress,
      subject: "outflow-2",
      evidence: {},
    });
    await recorder.open({ id: incidentId, chainId: 31337, breaker: vaultAddress, findings: [finding, spike], dryRun: false });
    await recorder.recordOutcome(incidentId, { status: "included", incidentId, breaker: vaultAddress, via: "public", txHash: trip.hash, blockNumber: trip.blockNumber, blockHash: trip.blockHash, bundleHashes: [], timeline: [] });
    const lift = PausableVault__factory.createInterface().encodeFunctionData("lift", [incidentId]);
    const scheduled = (await (await timelock.connect(governor).schedule(vaultAddress, 0, lift, ZeroHash, incidentId, 3_600)).wait())!;
    const operationId = await timelock.hashOperation(vaultAddress, 0, lift, ZeroHash, incidentId);
    await recorder.recordGovernance(incidentId, {
      decision: "lift",
      step: "scheduled",
      at: new Date().toISOString(),
      operationId,
      timelock: timelockAddress,
      call: { to: vaultAddress, data: lift, predecessor: ZeroHash, salt: incidentId },
      txHash: scheduled.hash,
      blockNumber: scheduled.blockNumber,
      readyAt: Number(await timelock.getTimestamp(operationId)),
    });
    // A dry run: the guardian decided to trip and sent nothing. It is kept as a decision, not an incident.
    const dryId = keccakUtf8("dashboard dry run");
    await recorder.open({ id: dryId, chainId: 31337, breaker: vaultAddress, findings: [finding], dryRun: true });
    await recorder.recordOutcome(dryId, { status: "dry-run", incidentId: dryId, breaker: vaultAddress, via: "bundle", bundleHashes: [], timeline: [] });
    db.close();

    ctx = await openIncidents(configFile);
    dashboard = await startDashboard(ctx, { host: "127.0.0.1", port: 0 });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await dashboard?.close();
    await ctx?.close();
    provider?.destroy();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("binds 127.0.0.1 by default", () => {
    expect(dashboard.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const viewport of VIEWPORTS) {
    it(`shows the switch, the incident, its finding and the scheduled lift at ${viewport.width} px`, async () => {
      const page = await browser.newPage();
      await page.setViewport({ width: viewport.width, height: viewport.height });
      const response = await page.goto(dashboard.url, { waitUntil: "load" });
      expect(response?.status()).to.equal(200);
      await screenshot(page, `dashboard-${viewport.name}`);
      expect(await horizontalOverflow(page)).to.equal(0);

      const switchRow = await page.$eval("#switches tbody tr", (tr) => (tr as unknown as { innerText: string }).innerText);
      expect(switchRow).to.include("vault");
      expect(switchRow).to.include("TRIPPED");
      expect(switchRow).to.match(/\(in (1 h 59 min|2 h)\)/);
      expect(await page.$eval("#incidents tbody tr", (tr) => (tr as unknown as { innerText: string }).innerText)).to.include("tripped");
      expect(await page.$eval("#findings tbody tr", (tr) => (tr as unknown as { innerText: string }).innerText)).to.include(HOSTILE_TITLE);
      expect(await page.$$eval("img", (els) => els.length)).to.equal(0);
      const findingsText = await page.$eval("#findings tbody", (el) => (el as unknown as { innerText: string }).innerText);
      expect(findingsText).to.include("Outflow spike from vault: 9,000 fsUSD (0x");
      expect(findingsText).to.not.include("9000000000000000000000");
      expect(await page.$eval("#governance tbody tr", (tr) => (tr as unknown as { innerText: string }).innerText)).to.include("lift scheduled");
      await page.close();
    });
  }

  it("keeps dry runs out of the incidents (list, page, state); `incident list --decisions` lists them", async () => {
    const list = await failsafe(["incident", "list", "-c", configFile, "--format", "json"]);
    expect(list.code, list.stderr).to.equal(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((r) => r.id)).to.deep.equal([incidentId]);
    const decisions = await failsafe(["incident", "list", "-c", configFile, "--format", "json", "--decisions"]);
    expect(decisions.code, decisions.stderr).to.equal(0);
    expect((JSON.parse(decisions.stdout) as { status: string }[]).map((r) => r.status)).to.deep.equal(["dry-run"]);
    const table = await failsafe(["incident", "list", "-c", configFile]);
    expect(table.stderr).to.include("1 trip decision that tripped nothing (dry run or already tripped) is not an incident; --decisions lists them");
    const page = await browser.newPage();
    await page.goto(dashboard.url, { waitUntil: "load" });
    expect(await page.$$eval("#incidents tbody tr", (rows) => rows.length)).to.equal(1);
    const state = (await (await fetch(`${dashboard.url}/api/state`)).json()) as { incidents: { id: string }[]; decisions: { status: string }[] };
    expect(state.incidents.map((r) => r.id)).to.deep.equal([incidentId]);
    expect(state.decisions.map((r) => r.status)).to.deep.equal(["dry-run"]);
    await page.close();
  });

  it("opens the governor report of an incident from its link", async () => {
    const page = await browser.newPage();
    await page.goto(dashboard.url, { waitUntil: "load" });
    await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click("#incidents tbody a")]);
    expect(page.url()).to.equal(`${dashboard.url}/incidents/${incidentId}`);
    expect(await page.$eval("h1", (h) => h.textContent)).to.include("report for governors");
    expect(await page.$eval("#decision-lift", (el) => (el as unknown as { innerText: string }).innerText)).to.match(/waiting|ready at/);
    await page.close();
  });

  it("refuses to change anything, and answers only to loopback host names (DNS rebinding)", async () => {
    expect((await raw(dashboard.url, { method: "POST" })).status).to.equal(405);
    expect((await raw(dashboard.url, { method: "DELETE" })).status).to.equal(405);
    expect((await raw(dashboard.url, { host: "attacker.example" })).status).to.equal(421);
    expect((await raw(dashboard.url, { host: `localhost:${new URL(dashboard.url).port}` })).status).to.equal(200);
    expect((await raw(`${dashboard.url}/incidents/0xdeadbeef`, {})).status).to.equal(404);
  });

  it("refuses a non-loopback host without --allow-remote, and a store path that does not exist", async () => {
    const remote = await failsafe(["dashboard", "-c", configFile, "--host", "0.0.0.0"]);
    expect(remote.code).to.equal(2);
    expect(remote.stderr).to.include("--host 0.0.0.0 is not a loopback address");
    expect(remote.stderr).to.include("--allow-remote");

    // A command line that does not parse is a usage error too: exit 2, not commander's 1.
    for (const args of [["dashboard"], ["incident", "list"], ["incident", "show", "0xdead", "-c", configFile, "--bogus"], ["governance", "execute", "-c", configFile]]) {
      const r = await failsafe(args);
      expect(r.code, args.join(" ")).to.equal(2);
      expect(r.stderr).to.match(/^error: /);
    }

    const typo = path.join(dir, "typo.yaml");
    const missing = path.join(dir, "guardain.sqlite");
    writeFileSync(typo, `chains:\n  - { id: 31337, rpc: [${anvil.url}] }\nstore: { path: ${missing} }\nmetrics: { enabled: false }\n`);
    for (const args of [["dashboard", "-c", typo, "--port", "0"], ["incident", "list", "-c", typo], ["incident", "show", "0xdead", "-c", typo], ["governance", "propose", "lift", "--incident", "0xdead", "-c", typo]]) {
      const r = await failsafe(args);
      expect(r.code, args.join(" ")).to.equal(2);
      expect(r.stderr).to.include(`store.path ${missing} does not exist`);
      expect(r.stderr).to.not.match(/\n\s+at /);
    }
    expect(existsSync(missing)).to.equal(false);
  });
});
