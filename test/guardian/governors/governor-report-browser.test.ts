import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { JsonRpcProvider, Wallet, ZeroAddress, id as keccakUtf8, parseUnits } from "ethers";
import type { Browser } from "puppeteer-core";
import { MockERC20__factory, PausableVault__factory, TimelockedRecovery__factory } from "../../../typechain-types";
import { makeFinding } from "../../../guardian/detectors/finding";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { safeBatchChecksum, type SafeBatchFile } from "../../../guardian/reports/governance-payloads";
import { escapeTerminal } from "../../../guardian/reports/governor-format";
import { writeGovernorReport, type GovernorReport } from "../../../guardian/reports/governor-report";
import { IncidentRecorder } from "../../../guardian/reports/incident-record";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IncidentStore } from "../../../guardian/state/incident-store";
import { silentLogger } from "../notifiers/fixtures";
import { VIEWPORTS, horizontalOverflow, launchBrowser, screenshot } from "./browser";

/** A symbol an attacker's token returns: a Markdown link, an HTML image and a terminal "clear screen". */
const EVIL_SYMBOL = "[x](https://e.x)<img src=x>\u001b[2J";
const units = (n: string) => parseUnits(n, 18);

/**
 * The governor report as a governor opens it: the HTML file in headless Chromium at desktop and phone widths,
 * with a token whose symbol is hostile. Screenshots are kept in test-artifacts/browser.
 */
describe("governor report in a real browser", function () {
  this.timeout(180_000);
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let browser: Browser;
  let dir: string;
  let db: Db;
  let report: GovernorReport;
  let files: { markdown: string; json: string; html: string };

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    const deployer = new Wallet(anvilKey(0), provider);
    const guardian = new Wallet(anvilKey(1), provider);
    const depositor = new Wallet(anvilKey(3), provider);
    const token = await (await new MockERC20__factory(deployer).deploy("Evil", EVIL_SYMBOL, 18)).waitForDeployment();
    const timelock = await (await new TimelockedRecovery__factory(deployer).deploy(3_600, [deployer.address], [deployer.address], ZeroAddress)).waitForDeployment();
    const vault = await (
      await new PausableVault__factory(deployer).deploy(await token.getAddress(), "Vault", "fsEVL", {
        governance: await timelock.getAddress(),
        recovery: Wallet.createRandom().address,
        guardians: [guardian.address],
        tripDuration: 7_200,
        outflowBps: 2_000,
        outflowWindow: 3_600,
        outflowAction: 0,
        claimDelay: 7_200, // above the timelock delay + the vault's 30-minute claim-order margin
      })
    ).waitForDeployment();
    const vaultAddress = (await vault.getAddress()).toLowerCase();
    await (await token.mint(depositor.address, units("10000"))).wait();
    await (await token.connect(depositor).approve(vaultAddress, units("10000"))).wait();
    await (await vault.connect(depositor).deposit(units("10000"), depositor.address)).wait();
    for (let i = 0; i < 3; i++) await provider.send("evm_mine", []);
    // The drain: two withdrawals inside the limit's burst, then the trip.
    await (await vault.connect(depositor).withdraw(units("600"), depositor.address, depositor.address)).wait();
    const drained = (await (await vault.connect(depositor).withdraw(units("350"), depositor.address, depositor.address)).wait())!;
    const incidentId = keccakUtf8("browser incident");
    const trip = (await (await vault.connect(guardian).trip(incidentId)).wait())!;
    for (let i = 0; i < 3; i++) await provider.send("evm_mine", []);

    dir = mkdtempSync(path.join(tmpdir(), "failsafe-governor-browser-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));
    const recorder = new IncidentRecorder({
      store: new IncidentStore(db),
      dir: path.join(dir, "incidents"),
      logger: silentLogger,
      provider: () => provider,
      breakerInfo: () => ({ name: "Vault", timelock: undefined }),
    });
    const finding = makeFinding({
      detectorId: "outflow-spike",
      severity: "critical",
      title: `Outflow of 950 ${EVIL_SYMBOL} in two blocks`,
      block: { chainId: 31337, number: drained.blockNumber, hash: drained.blockHash },
      txHash: drained.hash,
      contract: vaultAddress,
      subject: "outflow",
      evidence: { revert: "Error(\"<b>bold</b>\u001b[31m\")" },
    });
    await recorder.open({ id: incidentId, chainId: 31337, breaker: vaultAddress, findings: [finding], dryRun: false });
    const record = await recorder.recordOutcome(incidentId, {
      status: "included",
      incidentId,
      breaker: vaultAddress,
      via: "bundle",
      txHash: trip.hash,
      blockNumber: trip.blockNumber,
      blockHash: trip.blockHash,
      bundleHashes: [],
      timeline: [{ step: "included", at: new Date().toISOString(), ms: 380, blockNumber: trip.blockNumber, txHash: trip.hash }],
    });
    ({ report, files } = await writeGovernorReport(record, { provider, timelock: await timelock.getAddress(), explorerUrl: "https://explorer.test", governance: { safe: Wallet.createRandom().address } }));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    db?.close();
    provider?.destroy();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const viewport of VIEWPORTS) {
    it(`reads at ${viewport.width} px: summary first, charts drawn, nothing wider than the screen, raw hex folded`, async () => {
      const page = await browser.newPage();
      await page.setViewport({ width: viewport.width, height: viewport.height });
      const requests: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) requests.push(r.url());
      });
      await page.goto(pathToFileURL(files.html).href, { waitUntil: "load" });
      await screenshot(page, `governor-report-${viewport.name}`);

      expect(await horizontalOverflow(page)).to.equal(0);
      expect(requests, "the page loads nothing from the network").to.deep.equal([]);
      // The one-minute summary is the first thing on screen.
      const glanceTop = await page.$eval("#glance", (el) => el.getBoundingClientRect().top);
      expect(glanceTop).to.be.lessThan(viewport.height / 2);
      const labels = await page.$$eval("#glance dt", (els) => els.map((e) => e.textContent));
      expect(labels).to.include.members(["What happened", "Money", "The switch", "Decide by", "Choices"]);
      // Both charts are drawn, as wide as their column allows, and the outflow one has its limit line.
      for (const id of ["chart-balance", "chart-outflow"]) {
        const width = await page.$eval(`#${id}`, (el) => el.getBoundingClientRect().width);
        expect(width).to.be.greaterThan(viewport.width < 600 ? 300 : 400);
      }
      expect(await page.$$eval("#chart-outflow rect[fill='#dc2626']", (els) => els.length)).to.be.greaterThanOrEqual(2);
      expect(await page.$$eval("#chart-outflow path", (els) => els.length)).to.equal(1);
      // Raw calldata is folded away until asked for.
      const lift = report.decisions.find((d) => d.decision === "lift")!.payload!;
      const hexVisible = (await page.evaluate("document.body.innerText")) as string;
      expect(hexVisible.includes(lift.timelock.schedule.data)).to.equal(false);
      await page.close();
    });
  }

  it("shows hostile token text as text: no image, no link, no escape sequence", async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(files.html).href, { waitUntil: "load" });
    expect(await page.$$eval("img", (els) => els.length)).to.equal(0);
    const hrefs = await page.$$eval("a[href]", (els) => els.map((a) => a.getAttribute("href")!));
    expect(hrefs.every((h) => h.startsWith("https://explorer.test/") || h.startsWith("data:application/json"))).to.equal(true);
    const text = (await page.evaluate("document.body.innerText")) as string;
    expect(text).to.include("[x](https://e.x)<img src=x>\\x1b[2J");
    expect(text).to.not.include("\u001b");
    await page.close();

    const md = readFileSync(files.markdown, "utf8");
    expect(md).to.not.include("\u001b");
    expect(md).to.not.include("[x](https");
    expect(md).to.not.include("<img");
    expect(md).to.include("\\[x\\](https\\:\\/\\/e.x)&lt;img src=x\\>\\\\x1b\\[2J");
    expect(escapeTerminal(`${EVIL_SYMBOL}\u202e`)).to.equal("[x](https://e.x)<img src=x>\\x1b[2J\\x202e");
  });

  it("downloads the Safe batch and the Governor proposal the page links to, byte for byte", async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(files.html).href, { waitUntil: "load" });
    const links = await page.$$eval("#decision-lift a.download", (els) => els.map((a) => ({ name: a.getAttribute("download")!, href: a.getAttribute("href")! })));
    await page.close();
    const base = `governor-${report.incidentId.slice(2, 14)}.lift`;
    expect(links.map((l) => l.name)).to.deep.equal([`${base}.safe-schedule.json`, `${base}.safe-execute.json`, `${base}.governor.json`, `${base}.timelock.json`]);
    const body = (href: string) => JSON.parse(decodeURIComponent(href.slice(href.indexOf(",") + 1)));
    const batch = body(links[0].href) as SafeBatchFile;
    expect(safeBatchChecksum(batch)).to.equal(batch.meta.checksum);
    expect(batch).to.deep.equal(JSON.parse(readFileSync(path.join(path.dirname(files.html), links[0].name), "utf8")));
    const lift = report.decisions.find((d) => d.decision === "lift")!.payload!;
    expect(body(links[2].href).timelockControlled.proposalId).to.equal(lift.governor.timelockControlled.proposalId);
  });
});
