import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { reportingConfigSchema } from "../../../guardian/ledger/config";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IndexStore } from "../../../guardian/ledger/index-store";
import { Indexer } from "../../../guardian/ledger/indexer";
import { ReportingScope, ReportArgumentError } from "../../../guardian/ledger/reporting-scope";
import type { ReportDeps } from "../../../guardian/ledger/report-context";
import { capTableReport } from "../../../guardian/ledger/cap-table";
import { holdingsReport } from "../../../guardian/ledger/holdings";
import { statementReport } from "../../../guardian/ledger/statement";
import { failedChecks, isAmount } from "../../../guardian/ledger/report";
import { ReportCollectible__factory, ReportMultiToken__factory, type ReportCollectible, type ReportMultiToken } from "../../../typechain-types";
import { ChainEventFeed } from "./fixture";

describe("reports on ERC-721 and ERC-1155 tokens", function () {
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let db: Db;
  let dir: string;
  let deps: ReportDeps;
  let feed: ChainEventFeed;
  let nft: ReportCollectible;
  let multi: ReportMultiToken;
  let a: Wallet;
  let b: Wallet;

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    provider.pollingInterval = 50;
    const owner = new NonceManager(new Wallet(anvilKey(0), provider));
    [a, b] = [1, 2].map((i) => new Wallet(anvilKey(i), provider));
    nft = await (await new ReportCollectible__factory(owner).deploy(await owner.getAddress())).waitForDeployment();
    multi = await (await new ReportMultiToken__factory(owner).deploy(await owner.getAddress())).waitForDeployment();
    const rpc = new HttpRpcClient({ chainId: 31337, urls: [anvil.url], maxAttempts: 2 });
    const scope = new ReportingScope(
      reportingConfigSchema.parse({
        fromBlock: 1,
        tokens: [
          { name: "NFT", address: await nft.getAddress(), standard: "erc721" },
          { name: "MULTI", address: await multi.getAddress(), standard: "erc1155" },
        ],
      }),
    );
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-reports-nft-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));
    const store = new IndexStore(db);
    deps = { store, scope, rpc };
    feed = new ChainEventFeed(rpc, new Indexer({ rpc, store, scope }));

    const wait = async (tx: Promise<{ wait(): Promise<unknown> }>) => (await tx).wait();
    for (const id of [1, 2, 3]) await wait(nft.mint(a.address, id));
    await wait(nft.connect(a).transferFrom(a.address, b.address, 2));
    await wait(nft.burn(3));
    await wait(multi.mintBatch(a.address, [1, 2], [10, 20]));
    await wait(multi.connect(a).safeTransferFrom(a.address, b.address, 1, 4, "0x"));
    await wait(multi.connect(a).safeBatchTransferFrom(a.address, b.address, [1, 2], [1, 5], "0x"));
    await wait(multi.burn(b.address, 2, 2));
    await feed.sync();
  });
  after(async () => {
    db?.close();
    provider?.destroy();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("counts ERC-721 tokens per holder and says that there is no totalSupply to check against", async () => {
    const report = await capTableReport(deps, { token: "NFT" });
    expect(failedChecks(report)).to.deep.equal([]);
    expect(report.sections[0].rows.map((r) => [r[1], isAmount(r[3]) && r[3].amount])).to.have.deep.members([
      [a.address.toLowerCase(), 1n],
      [b.address.toLowerCase(), 1n],
    ]);
    expect(report.notes.join(" ")).to.match(/NFT has no totalSupply\(\) view/);
    expect(report.checks.filter((c) => c.name.startsWith("balanceOf("))).to.have.length(2);
  });

  it("lists ERC-1155 holders per id, checked against totalSupply(id) and balanceOf(holder, id)", async () => {
    const one = await capTableReport(deps, { token: "MULTI", id: "1" });
    expect(failedChecks(one)).to.deep.equal([]);
    expect(one.checks.map((c) => c.name)).to.include(`sum of balances = totalSupply() at block ${one.anchor.number}`);
    expect(one.sections[0].rows.map((r) => isAmount(r[3]) && r[3].amount)).to.deep.equal([5n, 5n]);
    const two = await capTableReport(deps, { token: "MULTI", id: "2" });
    expect(failedChecks(two)).to.deep.equal([]);
    expect(two.sections[0].rows.map((r) => [r[1], isAmount(r[3]) && r[3].amount])).to.deep.equal([
      [a.address.toLowerCase(), 15n],
      [b.address.toLowerCase(), 3n],
    ]);
    try {
      await capTableReport(deps, { token: "MULTI" });
      expect.fail("an ERC-1155 cap table needs an id");
    } catch (err) {
      expect(err).to.be.instanceOf(ReportArgumentError);
      expect((err as ReportArgumentError).argument).to.equal("--id");
    }
  });

  it("shows a holder's NFTs and ERC-1155 ids, and the ids in its statement", async () => {
    const holdings = await holdingsReport(deps, { account: b.address });
    expect(failedChecks(holdings)).to.deep.equal([]);
    expect(holdings.sections[0].rows.map((r) => [r[0], r[3], isAmount(r[4]) && r[4].amount])).to.deep.equal([
      ["NFT", "", 1n],
      ["MULTI", "1", 5n],
      ["MULTI", "2", 3n],
    ]);
    const statement = await statementReport(deps, { account: b.address });
    expect(failedChecks(statement)).to.deep.equal([]);
    const nftLines = statement.sections.find((s) => s.title === "NFT")!.rows.map((r) => r[3]);
    expect(nftLines).to.deep.equal(["opening balance", "erc721 #2", "closing balance"]);
    expect(statement.sections.map((s) => s.title)).to.include.members(["MULTI #1", "MULTI #2"]);
  });
});
