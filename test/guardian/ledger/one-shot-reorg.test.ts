import { expect } from "chai";
import path from "node:path";
import { parseEther } from "ethers";
import { reportingConfigSchema } from "../../../guardian/ledger/config";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IndexStore } from "../../../guardian/ledger/index-store";
import { Indexer } from "../../../guardian/ledger/indexer";
import { ReportingScope } from "../../../guardian/ledger/reporting-scope";
import type { ReportDeps } from "../../../guardian/ledger/report-context";
import { capTableReport } from "../../../guardian/ledger/cap-table";
import { failedChecks } from "../../../guardian/ledger/report";
import { reportsFixture, type ReportsFixture } from "./fixture";

/**
 * The report command without a guardian running: each run is a fresh Indexer that calls syncToHead, so
 * no reorg event ever reaches it. What happened on the node since the last run must still be undone.
 */
describe("one-shot report path across reorgs", function () {
  let f: ReportsFixture;
  let tokensOnly: ReportDeps;
  let tokensDb: Db;

  before(async () => {
    f = await reportsFixture();
    tokensDb = openDatabase(path.join(f.dir, "tokens-only.sqlite"));
    const scope = new ReportingScope(reportingConfigSchema.parse({ fromBlock: 1, tokens: f.deps.scope.config.tokens }));
    tokensOnly = { store: new IndexStore(tokensDb), scope, rpc: f.rpc };
  });
  after(async () => {
    tokensDb?.close();
    await f?.stop();
  });

  const run = (deps: ReportDeps) => new Indexer({ rpc: deps.rpc, store: deps.store, scope: deps.scope }).syncToHead();
  const mine = (blocks: number) => f.rpc.request("anvil_mine", ["0x" + blocks.toString(16)]);
  const balanceOf = async (deps: ReportDeps, holder: string) => deps.store.balance(deps.scope.tokens()[0].address, "", holder.toLowerCase());

  it("follows a reorg whose replaced tail is followed by newer blocks (accounts followed: block by block)", async () => {
    const [a, , c, , e] = f.holders;
    await (await f.token.mint(a.address, parseEther("10"))).wait();
    await run(f.deps);
    await (await f.token.connect(a).transfer(e.address, parseEther("7"))).wait();
    const orphaned = await run(f.deps);
    expect(await balanceOf(f.deps, e.address)).to.equal(parseEther("7"));

    // The block holding a -> e is replaced by one holding a -> c, and three more blocks follow.
    const replacement = await f.token.connect(a).transfer.populateTransaction(c.address, parseEther("1"));
    await f.rpc.request("anvil_reorg", [1, [[{ from: a.address, to: replacement.to, data: replacement.data }, 0]]]);
    await mine(3);

    const head = await run(f.deps); // on main: "block N+1 has parent 0x…, but the index holds 0x… at N", every run
    expect(head.hash).to.equal((await f.provider.getBlock("latest"))!.hash);
    expect(f.db.prepare("SELECT count(*) FROM idx_movements WHERE block_hash = ?").pluck().get(orphaned.hash)).to.equal(0);
    expect(await balanceOf(f.deps, e.address)).to.equal(0n);
    expect(await balanceOf(f.deps, c.address)).to.equal(await f.token.balanceOf(c.address));
    const report = await capTableReport(f.deps, { token: "RPT" });
    expect(failedChecks(report)).to.deep.equal([]);
  });

  it("drops orphaned transfers when the blocks after the cursor have no logs (tokens only: log ranges)", async () => {
    const [a, , , d] = f.holders;
    await run(tokensOnly);
    await (await f.token.connect(a).transfer(d.address, parseEther("2"))).wait();
    const orphaned = await run(tokensOnly);
    expect(await balanceOf(tokensOnly, d.address)).to.equal(parseEther("2"));

    // The transfer's block is replaced by an empty one; the blocks after it have no transfers either.
    await f.rpc.request("anvil_reorg", [1, []]);
    await mine(2);

    const head = await run(tokensOnly); // on main: exits fine, still holding the orphaned transfer
    expect(head.hash).to.equal((await f.provider.getBlock("latest"))!.hash);
    expect(tokensDb.prepare("SELECT count(*) FROM idx_movements WHERE block_hash = ?").pluck().get(orphaned.hash)).to.equal(0);
    expect(await balanceOf(tokensOnly, d.address)).to.equal(0n);
    const report = await capTableReport(tokensOnly, { token: "RPT" });
    expect(failedChecks(report)).to.deep.equal([]);
    // Every holder whose balance changed since the last verified block was checked (d never held any on the chain that stayed).
    expect(report.summary.find(([k]) => k === "self-check")?.[1]).to.match(/^(\d+) of \1 holders whose balance changed/);
    expect(report.checks.map((c) => c.name)).to.include(`balanceOf(${a.address.toLowerCase()}) at block ${head.number}`);
  });
});
