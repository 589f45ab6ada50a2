import { expect } from "chai";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseEther } from "ethers";
import chromium from "@sparticuz/chromium";
import puppeteer, { type Browser } from "puppeteer-core";
import { reportingConfigSchema } from "../../../guardian/ledger/config";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IndexStore } from "../../../guardian/ledger/index-store";
import { Indexer } from "../../../guardian/ledger/indexer";
import { ReportingScope } from "../../../guardian/ledger/reporting-scope";
import type { ReportDeps } from "../../../guardian/ledger/report-context";
import { startLedgerServer, type LedgerServer } from "../../../guardian/ledger/server";
import { capTableReport } from "../../../guardian/ledger/cap-table";
import { toJson } from "../../../guardian/ledger/format";
import { LedgerDiceGame__factory, LedgerNamedToken__factory } from "../../../typechain-types";
import { reportsFixture, type ReportsFixture } from "./fixture";

/** Screenshots stay as test artifacts (gitignored) for a human to look at. */
const ARTIFACTS = path.resolve(__dirname, "../../../test-artifacts/ledger");
const EVIL = `<img src=x onerror="window.__xss=1">`;

describe("failsafe ledger serve", function () {
  let f: ReportsFixture;
  let db: Db;
  let deps: ReportDeps;
  let server: LedgerServer;
  let browser: Browser | undefined;

  before(async () => {
    f = await reportsFixture();
    const [treasury, b] = f.holders;
    const evil = await (await new LedgerNamedToken__factory(f.owner).deploy(EVIL, `"><script>window.__xss=2</script>`)).waitForDeployment();
    const dice = await (await new LedgerDiceGame__factory(f.owner).deploy(9_000, 10_889, 9_800, "0x" + "42".repeat(32))).waitForDeployment();
    await (await f.owner.sendTransaction({ to: await dice.getAddress(), value: parseEther("20") })).wait();
    await (await f.token.mint(treasury.address, parseEther("100"))).wait();
    await (await evil.mint(b.address, parseEther("3"))).wait();
    await (await evil.mint(treasury.address, parseEther("1"))).wait();
    for (let i = 0; i < 6; i++) await (await dice.connect(treasury).play(20, { value: parseEther("0.2") })).wait();
    await (await f.token.connect(treasury).transfer(b.address, parseEther("30"))).wait();
    const scope = new ReportingScope(
      reportingConfigSchema.parse({
        fromBlock: 1,
        tokens: [...f.deps.scope.config.tokens, { name: "EVIL", address: await evil.getAddress(), standard: "erc20" }],
        accounts: [{ name: "treasury", address: treasury.address }, { name: "dice", address: await dice.getAddress() }],
        games: [
          {
            name: "dice-game",
            address: await dice.getAddress(),
            bet: { event: "BetPlaced(uint256 indexed betId, address indexed player, uint256 stake)", id: "betId", amount: "stake" },
            payout: { event: "BetPaid(uint256 indexed betId, address indexed player, uint256 payout)", id: "betId", amount: "payout" },
            claimedRtp: 0.98,
            bankroll: [await f.owner.getAddress()],
          },
        ],
      }),
    );
    db = openDatabase(path.join(f.dir, "serve.sqlite"));
    deps = { store: new IndexStore(db), scope, rpc: f.rpc };
    const indexer = new Indexer({ rpc: f.rpc, store: deps.store, scope });
    await indexer.syncToHead();
    server = await startLedgerServer({ deps, indexer, syncIntervalMs: 100 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    db?.close();
    await f?.stop();
  });

  const get = async (pathAndQuery: string, init?: RequestInit) => {
    const res = await fetch(server.url + pathAndQuery, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("binds 127.0.0.1 and answers the same report as the CLI, as JSON", async () => {
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { status, body } = await get("/api/cap-table?token=RPT");
    expect(status).to.equal(200);
    // The same rows at the same block; the self-check's wording differs once a block has been verified.
    const cli = JSON.parse(JSON.stringify(toJson(await capTableReport(deps, { token: "RPT" })))) as Record<string, unknown>;
    for (const key of ["kind", "title", "block", "sections", "notes"]) expect(body[key], key).to.deep.equal(cli[key]);
    const row = (body.sections as { rows: { balance: { amount: string; decimals: number; symbol: string } }[] }[])[0].rows[0];
    expect(row.balance).to.deep.equal({ amount: String(parseEther("70")), decimals: 18, symbol: "RPT" });
  });

  it("stays fresh to the last indexed block without a restart", async () => {
    await (await f.token.mint(f.holders[2].address, parseEther("5"))).wait();
    const head = await f.provider.getBlockNumber();
    for (let i = 0; i < 100; i++) {
      const { body } = await get("/api/status");
      if ((body.block as { number: number }).number === head) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { body } = await get("/api/cap-table?token=RPT");
    expect((body.block as { number: number }).number).to.equal(head);
    expect((body.sections as { rows: unknown[] }[])[0].rows).to.have.length(3);
  });

  it("says what is wrong with a request, and is read-only", async () => {
    expect(await get("/api/cap-table?token=NOPE")).to.deep.equal({ status: 400, body: { error: '--token: unknown token "NOPE" (configured tokens: RPT, EVIL)' } });
    expect(await get("/api/statement")).to.deep.equal({ status: 400, body: { error: "account: the query needs account=..." } });
    expect((await get("/api/cap-table?token=RPT", { method: "POST" })).status).to.equal(405);
    expect((await get("/nope")).status).to.equal(404);
  });

  it("draws the four charts in headless Chromium and shows token-controlled text as text", async () => {
    browser = await puppeteer.launch({
      executablePath: await chromium.executablePath(),
      args: [...chromium.args, "--no-sandbox", "--disable-background-networking"],
      headless: true,
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    await page.setViewport({ width: 1280, height: 1000 });
    await page.goto(`${server.url}/?token=EVIL&account=treasury&contract=dice&game=dice-game`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "ledger-page.png"), fullPage: true });
    // Evaluated in the page (a string: the test's TypeScript has no DOM types).
    const state = (await page.evaluate(`({
      charts: ["holders", "balance", "flows", "payouts"].map((id) => document.querySelectorAll("#" + id + " svg rect, #" + id + " svg polyline").length),
      errors: [...document.querySelectorAll(".error")].map((e) => e.textContent),
      xss: window.__xss,
      images: document.querySelectorAll("img").length,
      holders: document.getElementById("holders-subject").textContent,
      payouts: document.getElementById("payouts-subject").textContent,
    })`)) as { charts: number[]; errors: string[]; xss?: number; images: number; holders: string; payouts: string };
    expect(errors).to.deep.equal([]);
    expect(state.errors).to.deep.equal([]);
    expect(state.charts.every((n) => n > 0), JSON.stringify(state.charts)).to.equal(true);
    expect(state.xss).to.equal(undefined);
    expect(state.images).to.equal(0);
    expect(state.holders).to.include(`symbol "><script>window.__xss=2</script>`);
    expect(state.payouts).to.match(/realised \d+\.\d+%, 95% interval \d+\.\d+% to \d+\.\d+%/);
  });
});
