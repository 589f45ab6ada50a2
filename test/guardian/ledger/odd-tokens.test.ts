import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, Wallet, parseEther } from "ethers";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { reportingConfigSchema } from "../../../guardian/ledger/config";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IndexStore } from "../../../guardian/ledger/index-store";
import { Indexer } from "../../../guardian/ledger/indexer";
import { ReportArgumentError, ReportingScope } from "../../../guardian/ledger/reporting-scope";
import type { ReportDeps } from "../../../guardian/ledger/report-context";
import { capTableReport } from "../../../guardian/ledger/cap-table";
import { holdingsReport } from "../../../guardian/ledger/holdings";
import { statementReport } from "../../../guardian/ledger/statement";
import { failedChecks, isAmount, type Report } from "../../../guardian/ledger/report";
import { REPORT_FORMATS, renderReport } from "../../../guardian/ledger/format";
import { exportFromStore } from "../../../guardian/ledger/audit-export";
import {
  LedgerBytes32Token__factory,
  LedgerIndexedValueToken__factory,
  LedgerRebasingToken__factory,
  LedgerSelfMintToken__factory,
  LedgerSilentToken__factory,
  LedgerWrappedEther__factory,
  ReportToken__factory,
} from "../../../typechain-types";

const rows = (report: Report) => report.sections[0].rows.map((r) => [r[1], isAmount(r[3]) ? r[3].amount : r[3]]);
const summary = (report: Report, key: string) => report.summary.find(([k]) => k === key)?.[1];

/**
 * Token shapes found on mainnet that the ledger used to stop on, all in one configuration next to a plain
 * token: each must be decoded, or set aside alone with its reason while the others are reported exactly.
 * Both catch-up paths are run: block by block (an account's ether is followed) and from log ranges.
 */
describe("odd tokens in the ledger", function () {
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let dir: string;
  const dbs: Db[] = [];
  const runs: { name: string; deps: ReportDeps }[] = [];
  let a: Wallet;
  let b: Wallet;
  let c: Wallet;
  const addr: Record<string, string> = {};

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    provider.pollingInterval = 50;
    const owner = new NonceManager(new Wallet(anvilKey(0), provider));
    [a, b, c] = [1, 2, 3].map((i) => new Wallet(anvilKey(i), provider));
    const wait = async (tx: Promise<{ wait(): Promise<unknown> }>) => (await tx).wait();
    const plain = await (await new ReportToken__factory(owner).deploy(await owner.getAddress())).waitForDeployment();
    const weth = await (await new LedgerWrappedEther__factory(owner).deploy()).waitForDeployment();
    const selfMint = await (await new LedgerSelfMintToken__factory(owner).deploy()).waitForDeployment();
    const indexed = await (await new LedgerIndexedValueToken__factory(owner).deploy()).waitForDeployment();
    const mkr = await (await new LedgerBytes32Token__factory(owner).deploy()).waitForDeployment();
    const silent = await (await new LedgerSilentToken__factory(owner).deploy()).waitForDeployment();
    const rebasing = await (await new LedgerRebasingToken__factory(owner).deploy()).waitForDeployment();
    for (const [name, contract] of Object.entries({ plain, weth, selfMint, indexed, mkr, silent, rebasing })) addr[name] = (await contract.getAddress()).toLowerCase();

    await wait(plain.mint(a.address, parseEther("100")));
    await wait(plain.connect(a).transfer(b.address, parseEther("10")));
    await wait(weth.connect(a).deposit({ value: parseEther("3") }));
    await wait(weth.connect(a).transfer(b.address, parseEther("1")));
    await wait(weth.connect(b).withdraw(parseEther("0.5")));
    await wait(selfMint.mint(a.address, 50_000_000n));
    await wait(indexed.mint(a.address, 7n));
    await wait(plain.connect(a).transfer(c.address, parseEther("1"))); // after both odd tokens: still indexed
    await wait(mkr.mint(a.address, 1234n));
    await wait(silent.mint(b.address, 5n));
    await wait(rebasing.mint(a.address, 100n));
    await wait(rebasing.connect(a).transfer(b.address, 40n));
    await wait(rebasing.rebase(3n)); // every balance triples, without a Transfer
    await wait(rebasing.connect(b).transfer(c.address, 30n));

    const rpc = new HttpRpcClient({ chainId: 31337, urls: [anvil.url], maxAttempts: 2 });
    const tokens = [
      { name: "RPT", address: addr.plain, standard: "erc20", decimals: 9 },
      { name: "WETH", address: addr.weth, standard: "erc20" },
      { name: "SLF", address: addr.selfMint, standard: "erc20" },
      { name: "IDX", address: addr.indexed, standard: "erc20" },
      { name: "MKR", address: addr.mkr, standard: "erc20" },
      { name: "SILENT", address: addr.silent, standard: "erc20", decimals: 2 },
      { name: "RBT", address: addr.rebasing, standard: "erc20", balances: "state" },
    ];
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-ledger-odd-"));
    for (const [name, accounts] of [
      ["block by block", [{ name: "alice", address: a.address }]],
      ["log ranges", []],
    ] as const) {
      const db = openDatabase(path.join(dir, `${name.replace(/ /g, "-")}.sqlite`));
      dbs.push(db);
      const scope = new ReportingScope(reportingConfigSchema.parse({ fromBlock: 1, tokens, accounts }));
      const deps = { store: new IndexStore(db), scope, rpc };
      await new Indexer({ rpc, store: deps.store, scope }).syncToHead(); // on main: stops at the first odd token
      runs.push({ name, deps });
    }
  });
  after(async () => {
    for (const db of dbs) db.close();
    provider?.destroy();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sets aside only the tokens whose events cannot be folded, each with its reason", () => {
    for (const { name, deps } of runs) {
      const aside = deps.store.unverifiable();
      expect([...aside.keys()].sort(), name).to.deep.equal([addr.selfMint, addr.indexed].sort());
      expect(aside.get(addr.selfMint)!.reason).to.match(new RegExp(`balance of ${addr.selfMint} in ${addr.selfMint} would fall below zero .*balances: state`));
      expect(aside.get(addr.indexed)!.reason).to.match(/is not a well-formed ERC-20 Transfer/);
    }
  });

  it("reports the plain token exactly after the odd ones, with decimals from the chain", async () => {
    for (const { name, deps } of runs) {
      const report = await capTableReport(deps, { token: "RPT" });
      expect(failedChecks(report), name).to.deep.equal([]);
      expect(rows(report)).to.deep.equal([
        [a.address.toLowerCase(), parseEther("89")],
        [b.address.toLowerCase(), parseEther("10")],
        [c.address.toLowerCase(), parseEther("1")],
      ]);
      expect(summary(report, "decimals")).to.equal(18); // the config said 9; the token says 18
      expect(summary(report, "symbol")).to.equal("RPT");
      expect(report.notes.join("\n")).to.match(/decimals\(\) returned 18; the configured 9 is ignored/);
    }
  });

  it("decodes WETH9 deposits and withdrawals as mints and burns", async () => {
    for (const { name, deps } of runs) {
      const report = await capTableReport(deps, { token: "WETH" });
      expect(failedChecks(report), name).to.deep.equal([]);
      expect(rows(report)).to.deep.equal([
        [a.address.toLowerCase(), parseEther("2")],
        [b.address.toLowerCase(), parseEther("0.5")],
      ]);
      expect(report.checks.map((c) => c.name)).to.include(`sum of balances = totalSupply() at block ${report.anchor.number}`);
    }
  });

  it("names an unverifiable token instead of reporting it, and leaves it out of holdings with a note", async () => {
    const { deps } = runs[0];
    try {
      await capTableReport(deps, { token: "SLF" });
      expect.fail("SLF is unverifiable");
    } catch (err) {
      expect(err).to.be.instanceOf(ReportArgumentError);
      expect((err as Error).message).to.match(/^--token: SLF is unverifiable since block \d+ and left out: balance of/);
    }
    const holdings = await holdingsReport(deps, { account: a.address });
    expect(failedChecks(holdings)).to.deep.equal([]);
    expect(holdings.sections[0].rows.map((r) => r[0])).to.deep.equal(["ETH", "RPT", "WETH", "MKR", "SILENT", "RBT"]);
    expect(holdings.notes.join("\n")).to.match(/SLF is unverifiable/).and.match(/IDX is unverifiable/);
  });

  it("reads bytes32 names, survives decimals() of 255 and reverting views, in every format", async () => {
    const { deps } = runs[1];
    const mkr = await capTableReport(deps, { token: "MKR" });
    expect(failedChecks(mkr)).to.deep.equal([]);
    expect([summary(mkr, "name"), summary(mkr, "symbol"), summary(mkr, "decimals")]).to.deep.equal(["Maker", "MKR", 0]);
    expect(mkr.notes.join("\n")).to.match(/decimals\(\) returned 255, more than any amount can have; amounts are in base units/);
    const silent = await capTableReport(deps, { token: "SILENT" });
    expect(failedChecks(silent)).to.deep.equal([]);
    expect([summary(silent, "name"), summary(silent, "symbol"), summary(silent, "decimals")]).to.deep.equal(["(none)", "(none)", 2]);
    expect(silent.notes.join("\n")).to.match(/name\(\) did not answer/).and.match(/decimals\(\) did not answer; using the configured 2/);
    for (const format of REPORT_FORMATS) {
      expect(renderReport(mkr, format)).to.include("1234");
      expect(renderReport(silent, format)).to.match(/0\.05|"5"|,5,/);
    }
  });

  it("reads a rebasing token's balances from state, says so, and explains the rebase in a statement", async () => {
    for (const { name, deps } of runs) {
      const report = await capTableReport(deps, { token: "RBT" });
      expect(failedChecks(report), name).to.deep.equal([]);
      expect(rows(report)).to.deep.equal([
        [a.address.toLowerCase(), 180n],
        [b.address.toLowerCase(), 90n],
        [c.address.toLowerCase(), 30n],
      ]);
      expect(summary(report, "balances")).to.match(/^from state: balanceOf at block \d+/);
      const plain = await capTableReport(deps, { token: "RPT" });
      expect(summary(plain, "balances")).to.match(/^from events/);
    }
    const statement = await statementReport(runs[0].deps, { account: b.address });
    expect(failedChecks(statement)).to.deep.equal([]);
    const rbt = statement.sections.find((s) => s.title === "RBT")!;
    expect(rbt.rows.map((r) => [r[3], isAmount(r[8]) ? r[8].amount : null])).to.deep.equal([
      ["opening balance", 0n],
      ["erc20", 40n],
      ["adjustment (rebase or share accounting)", 120n],
      ["erc20", 90n],
      ["closing balance", 90n],
    ]);
  });

  it("refuses to export history that cannot fold into balances, naming why", async () => {
    const { deps } = runs[0];
    const refusal = async (contract: string) => {
      try {
        await exportFromStore(deps, { contract });
      } catch (err) {
        expect(err).to.be.instanceOf(ReportArgumentError);
        return (err as Error).message;
      }
      return expect.fail(`exported ${contract}`);
    };
    expect(await refusal("RBT")).to.match(/^--contract: RBT has balances: state .* cannot be exported for verification$/);
    expect(await refusal("SLF")).to.match(/^--contract: SLF is unverifiable since block \d+/);
    const alice = await exportFromStore(deps, { contract: "alice" });
    expect(alice.subject.tokens.map((t) => t.name)).to.deep.equal(["RPT", "WETH", "MKR", "SILENT"]);
    expect(alice.movements.every((m) => m.token !== addr.rebasing && m.token !== addr.selfMint)).to.equal(true);
  });
});
