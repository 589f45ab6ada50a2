import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, ZeroAddress, id as keccakUtf8, parseUnits } from "ethers";
import {
  ICircuitBreaker__factory,
  IPausableVault__factory,
  MockERC20__factory,
  PausableVault__factory,
  TimelockedRecovery__factory,
} from "../../../typechain-types";
import type { MockERC20, PausableVault, TimelockedRecovery } from "../../../typechain-types";
import { makeFinding } from "../../../guardian/detectors/finding";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { buildGovernorReport, writeGovernorReport, type GovernorReport, type GovernorReportDeps } from "../../../guardian/reports/governor-report";
import { renderGovernorHtml } from "../../../guardian/reports/governor-report-html";
import { renderGovernorMarkdown } from "../../../guardian/reports/governor-report-markdown";
import { IncidentRecorder, type IncidentRecord } from "../../../guardian/reports/incident-record";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IncidentStore } from "../../../guardian/state/incident-store";
import { silentLogger } from "../notifiers/fixtures";

const breakerInterface = ICircuitBreaker__factory.createInterface();
const vaultInterface = IPausableVault__factory.createInterface();
const timelockInterface = TimelockedRecovery__factory.createInterface();
const EXPLORER = "https://explorer.test/";
const DELAY = 3_600;
const units = (n: string) => parseUnits(n, 18);

describe("governor report", function () {
  this.timeout(60_000);
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let dir: string;
  let db: Db;
  let token: MockERC20;
  let vault: PausableVault;
  let timelock: TimelockedRecovery;
  let vaultAddress: string;
  let timelockAddress: string;
  let recorder: IncidentRecorder;
  let record: IncidentRecord;
  let deps: GovernorReportDeps;
  let withdrawal: { hash: string; blockNumber: number };
  const recovery = Wallet.createRandom().address;
  const standby = Wallet.createRandom().address;
  const incidentId = keccakUtf8("governor report incident");

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    const deployer = new Wallet(anvilKey(0), provider);
    const guardian = new Wallet(anvilKey(1), provider);
    const governor = new Wallet(anvilKey(2), provider);
    const depositor = new Wallet(anvilKey(3), provider);
    token = await (await new MockERC20__factory(deployer).deploy("Asset", "AST", 18)).waitForDeployment();
    timelock = await (await new TimelockedRecovery__factory(deployer).deploy(DELAY, [governor.address], [governor.address], ZeroAddress)).waitForDeployment();
    timelockAddress = await timelock.getAddress();
    vault = await (
      await new PausableVault__factory(deployer).deploy(await token.getAddress(), "Vault", "fsAST", {
        governance: timelockAddress,
        recovery,
        guardians: [guardian.address],
        tripDuration: 7_200,
        outflowBps: 0,
        outflowWindow: 0,
        outflowAction: 0,
        claimDelay: 7_200, // above the timelock delay + the vault's 30-minute claim-order margin
      })
    ).waitForDeployment();
    vaultAddress = (await vault.getAddress()).toLowerCase();
    await (await token.mint(depositor.address, units("1000"))).wait();
    await (await token.connect(depositor).approve(vaultAddress, units("1000"))).wait();
    await (await vault.connect(depositor).deposit(units("1000"), depositor.address)).wait();

    // The "attack": 250 leave in the block the finding is about; the trip lands in the next block.
    const sent = await vault.connect(depositor).withdraw(units("250"), depositor.address, depositor.address);
    const receipt = (await sent.wait())!;
    withdrawal = { hash: receipt.hash, blockNumber: receipt.blockNumber };
    const trip = (await (await vault.connect(guardian).trip(incidentId)).wait())!;

    dir = mkdtempSync(path.join(tmpdir(), "failsafe-governor-report-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));
    recorder = new IncidentRecorder({
      store: new IncidentStore(db),
      dir: path.join(dir, "incidents"),
      logger: silentLogger,
      provider: () => provider,
      breakerInfo: () => ({ name: "Vault", timelock: timelockAddress }),
    });
    const finding = makeFinding({
      detectorId: "outflow-spike",
      severity: "critical",
      title: "<script>alert(1)</script> | 25% of the vault left in one block",
      block: { chainId: 31337, number: withdrawal.blockNumber, hash: receipt.blockHash },
      txHash: withdrawal.hash,
      contract: vaultAddress,
      subject: "outflow",
      evidence: { asset: await token.getAddress(), outflow: units("250"), note: "```not a fence```" },
    });
    await recorder.open({ id: incidentId, chainId: 31337, breaker: vaultAddress, findings: [finding], dryRun: false });
    const at = new Date().toISOString();
    record = await recorder.recordOutcome(incidentId, {
      status: "included",
      incidentId,
      breaker: vaultAddress,
      via: "public",
      txHash: trip.hash,
      blockNumber: trip.blockNumber,
      blockHash: trip.blockHash,
      bundleHashes: [],
      timeline: [
        { step: "detected", at, ms: 0 },
        { step: "included", at, ms: 420, blockNumber: trip.blockNumber, txHash: trip.hash },
      ],
    });
    deps = { provider, timelock: timelockAddress, explorerUrl: EXPLORER, governance: { standbyGuardian: standby }, configFile: "failsafe.yaml", createdAt: 1_763_700_000_000 };
  });

  after(async () => {
    db?.close();
    provider?.destroy();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("measures funds at risk before the detected block and saved once the trip landed, read on-chain at those blocks", async () => {
    const report = await buildGovernorReport(record, deps);
    if (!("assets" in report.funds)) throw new Error(`funds unavailable: ${report.funds.unavailable}`);
    expect(report.funds.atRiskBlock).to.equal(withdrawal.blockNumber - 1);
    expect(report.funds.tripBlock).to.equal(record.trip!.blockNumber);
    expect(report.funds.assets).to.have.length(1);
    expect(report.funds.assets[0]).to.deep.include({
      asset: await token.getAddress(),
      symbol: "AST",
      atRisk: units("1000").toString(),
      afterTrip: units("750").toString(),
      saved: units("750").toString(),
      lost: units("250").toString(),
      now: units("750").toString(),
    });
    expect(report.summary).to.include("1,000 AST").and.include("lost: 250 AST");
  });

  it("reads the switch's state and expiry from the chain", async () => {
    const report = await buildGovernorReport(record, deps);
    const incident = await vault.incident();
    expect(report.switch).to.deep.include({ isTripped: true, isThisIncident: true, currentIncidentId: incidentId, tripDurationSeconds: 7_200 });
    expect(report.switch.expiresAt).to.equal(new Date(Number(incident.expiresAt) * 1000).toISOString());
    expect(report.switch.expiresInSeconds).to.be.within(7_000, 7_200);
    expect(report.timelock).to.deep.include({ minDelaySeconds: DELAY, governsBreaker: true });
  });

  it("offers the four decisions with payloads whose calldata decodes back to the intended calls", async () => {
    const report = await buildGovernorReport(record, deps);
    const by = Object.fromEntries(report.decisions.map((d) => [d.decision, d]));
    for (const d of report.decisions) {
      expect(d.available, `${d.decision}: ${d.reason}`).to.equal(true);
      expect(d.operation).to.deep.include({ state: "unscheduled" });
      const p = d.payload!;
      const schedule = timelockInterface.decodeFunctionData("schedule", p.timelock.schedule.data);
      expect([schedule.target, schedule.data, schedule.delay]).to.deep.equal([p.action.to, p.action.data, BigInt(DELAY)]);
      expect(p.governor.calldatas).to.deep.equal([p.timelock.schedule.data]);
      expect(p.safe.execute.transactions[0].data).to.equal(p.timelock.execute.data);
    }
    expect(breakerInterface.decodeFunctionData("lift", by.lift.payload!.action.data)[0]).to.equal(incidentId);
    const [ratified, expiresAt] = breakerInterface.decodeFunctionData("ratify", by.ratify.payload!.action.data);
    expect(ratified).to.equal(incidentId);
    const head = (await provider.getBlock("latest"))!.timestamp;
    expect(Number(expiresAt)).to.equal(head + DELAY + 7 * 24 * 3600);
    expect(vaultInterface.decodeFunctionData("recover", by.recover.payload!.action.data).map(String)).to.deep.equal([await token.getAddress(), units("750").toString()]);
    expect(by.recover.payload!.title).to.include(`registered recovery address ${recovery}`);
    const rotation = breakerInterface.decodeFunctionData("rotateGuardian", by["rotate-guardian"].payload!.action.data);
    expect([rotation[0], rotation[1]]).to.deep.equal([new Wallet(anvilKey(1)).address, standby]);

    const withoutStandby = await buildGovernorReport(record, { ...deps, governance: {} });
    expect(withoutStandby.decisions.find((d) => d.decision === "rotate-guardian")).to.deep.include({
      available: false,
      reason: "no replacement guardian: configure governance.standbyGuardian or pass --new-guardian",
    });
    const withoutTimelock = await buildGovernorReport(record, { ...deps, timelock: undefined });
    expect(withoutTimelock.decisions.every((d) => !d.available && d.reason === "no timelock is configured for this breaker (policy.breakers[].timelock)")).to.equal(true);
  });

  it("renders Markdown with explorer links, the timeline, the funds and every payload format", async () => {
    const report = await buildGovernorReport(record, deps);
    const md = renderGovernorMarkdown(report);
    expect(md).to.include(`[${record.trip!.txHash}](https://explorer.test/tx/${record.trip!.txHash})`);
    expect(md).to.include(`(https://explorer.test/tx/${withdrawal.hash})`);
    expect(md).to.include(`(https://explorer.test/address/${vaultAddress})`);
    expect(md).to.include("| 1,000 AST | 750 AST | 750 AST | 250 AST | 750 AST |");
    expect(md).to.include("| finding: critical outflow-spike |");
    for (const d of ["lift", "ratify", "recover", "rotate-guardian"]) expect(md).to.include(`### ${d}\n`);
    for (const d of report.decisions) {
      expect(md).to.include(d.payload!.timelock.schedule.data);
      expect(md).to.include(d.payload!.timelock.execute.data);
      expect(md).to.include(d.payload!.safe.schedule.meta.checksum);
      expect(md).to.include(d.payload!.governor.proposalId);
    }
    // Detector and chain text cannot inject HTML or break the tables and fences.
    expect(md).to.not.include("<script>");
    expect(md).to.include("&lt;script\\>alert(1)&lt;/script\\> \\| 25% of the vault");
    expect(md).to.include('````json\n{\n  "asset"');
    // The evidence's amounts read in the token's units beside the raw evidence.
    expect(report.findings[0].evidenceHuman).to.deep.equal({ outflow: "250 AST" });
    expect(md).to.include("`outflow` 250 AST");

    const parsed = JSON.parse(JSON.stringify(report)) as GovernorReport;
    expect(parsed.decisions.map((d) => d.payload?.action.data)).to.deep.equal(report.decisions.map((d) => d.payload?.action.data));
  });

  it("renders static HTML with every value escaped and links only to the explorer", async () => {
    const html = renderGovernorHtml(await buildGovernorReport(record, deps));
    expect(html).to.match(/^<!doctype html>/);
    expect(html).to.not.include("<script");
    expect(html).to.include("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).to.include(`<a href="https://explorer.test/tx/${record.trip!.txHash}" rel="noreferrer">`);
    expect(html.match(/<a href="([^"]+)"/g)!.every((a) => a.startsWith('<a href="https://explorer.test/'))).to.equal(true);
    // The only other links are the payload files, inline as data: downloads.
    const downloads = html.match(/<a class="download" download="[^"]+" href="([^"]+)"/g)!;
    expect(downloads.length).to.equal(4 * 4);
    expect(downloads.every((a) => a.includes('href="data:application/json;charset=utf-8,'))).to.equal(true);
  });

  it("writes the three files beside the incident record, for the demo and for governors", async () => {
    const { report, files } = await writeGovernorReport(record, deps);
    expect(path.dirname(files.markdown)).to.equal(path.dirname(record.files.markdown));
    expect(JSON.parse(readFileSync(files.json, "utf8")).incidentId).to.equal(report.incidentId);
    expect(readFileSync(files.markdown, "utf8")).to.equal(renderGovernorMarkdown(report));
    expect(readFileSync(files.html, "utf8")).to.include(report.incidentId);
    // Every file the Markdown links to by relative name is there, and parses.
    const linked = [...readFileSync(files.markdown, "utf8").matchAll(/\]\(\.\/([^)]+)\)/g)].map((m) => m[1]);
    expect(linked).to.include(`governor-${report.incidentId.slice(2, 14)}.lift.safe-schedule.json`);
    expect(linked).to.include(`governor-${report.incidentId.slice(2, 14)}.balance.svg`);
    for (const name of linked) {
      const body = readFileSync(path.join(path.dirname(files.markdown), name), "utf8");
      if (name.endsWith(".json")) JSON.parse(body);
      else expect(body).to.match(/^<svg /);
    }
  });
});
