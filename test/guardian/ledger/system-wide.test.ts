import { expect } from "chai";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseEther } from "ethers";
import { stringify } from "yaml";
import { SystemIndex, syncSystemIndex } from "../../../guardian/ledger/system-index";
import { addressHoldingsReport, systemGroupReport, topTokensReport } from "../../../guardian/ledger/system-reports";
import { loadTaxonomy, SHIPPED_TAXONOMY, TaxonomyError } from "../../../guardian/ledger/taxonomy";
import { isAmount, type Report } from "../../../guardian/ledger/report";
import { LedgerSelfMintToken__factory, ReportCollectible__factory, ReportToken__factory, type ReportToken } from "../../../typechain-types";
import { reportsFixture, type ReportsFixture } from "./fixture";

const amounts = (report: Report, section: string) =>
  report.sections.find((s) => s.title === section)!.rows.map((r) => r.map((c) => (isAmount(c) ? c.amount : c)));

/** No token configured: the system-wide index finds every ERC-20 and ERC-721 Transfer on its own. */
describe("system-wide ledger index", function () {
  let f: ReportsFixture;
  let other: ReportToken;
  let index: SystemIndex;
  const exchange: string[] = [];
  let nftAddress: string;
  let oddAddress: string;

  before(async () => {
    f = await reportsFixture();
    const [a, b, c, d, e] = f.holders;
    exchange.push(d.address.toLowerCase(), e.address.toLowerCase());
    other = await (await new ReportToken__factory(f.owner).deploy(await f.owner.getAddress())).waitForDeployment();
    const nft = await (await new ReportCollectible__factory(f.owner).deploy(await f.owner.getAddress())).waitForDeployment();
    const odd = await (await new LedgerSelfMintToken__factory(f.owner).deploy()).waitForDeployment();
    nftAddress = (await nft.getAddress()).toLowerCase();
    oddAddress = (await odd.getAddress()).toLowerCase();
    const wait = async (tx: Promise<{ wait(): Promise<unknown> }>) => (await tx).wait();
    await wait(f.token.mint(a.address, parseEther("100")));
    await wait(f.token.connect(a).transfer(b.address, parseEther("10")));
    await wait(f.token.connect(a).transfer(c.address, parseEther("5")));
    await wait(other.mint(a.address, 7n));
    await wait(other.mint(d.address, 100n));
    await wait(other.connect(d).transfer(e.address, 40n)); // inside the exchange group: netted out
    await wait(other.connect(e).transfer(b.address, 15n)); // out of the group
    await wait(other.connect(a).transfer(d.address, 2n)); // into the group
    for (const id of [1, 2, 3]) await wait(nft.mint(a.address, id));
    await wait(nft.connect(a).transferFrom(a.address, d.address, 2));
    await wait(odd.mint(a.address, 5n)); // logged as Transfer(token, a): the token is incomplete, not the index
    index = new SystemIndex(f.db);
    await syncSystemIndex(f.rpc, index, { fromBlock: 0, confirmations: 0, chunkBlocks: 5 });
  });
  after(async () => {
    await f?.stop();
  });

  it("ranks every token of the chain by transfers and by holders", async () => {
    const byTransfers = await topTokensReport({ rpc: f.rpc, index }, { by: "transfers" });
    expect(byTransfers.sections[0].rows.map((r) => [r[1], r[2], r[3], r[4]])).to.deep.equal([
      [(await other.getAddress()).toLowerCase(), "erc20", 5, 4],
      [nftAddress, "erc721", 4, 2],
      [(await f.token.getAddress()).toLowerCase(), "erc20", 3, 3],
      [oddAddress, "erc20", 1, 0],
    ]);
    expect(byTransfers.sections[0].rows[3][6]).to.match(/^incomplete: a balance would fall below zero/);
    const byHolders = await topTokensReport({ rpc: f.rpc, index }, { by: "holders", top: "1" });
    expect(byHolders.sections[0].rows.map((r) => r[1])).to.deep.equal([(await other.getAddress()).toLowerCase()]);
  });

  it("lists an address's holdings across all tokens", async () => {
    const report = await addressHoldingsReport({ rpc: f.rpc, index }, { address: f.holders[0].address });
    const held = new Map(amounts(report, "holdings").map((r) => [r[0], r[2]]));
    expect(held.get((await f.token.getAddress()).toLowerCase())).to.equal(await f.token.balanceOf(f.holders[0].address));
    expect(held.get((await other.getAddress()).toLowerCase())).to.equal(5n);
    expect(held.size).to.equal(3); // RPT, the other token, 2 NFTs; nothing of the incomplete token
  });

  it("reports a taxonomy group with transfers between members netted out", async () => {
    const file = path.join(f.dir, "taxonomy.yaml");
    writeFileSync(file, stringify({ industries: ["exchange", "lending"], chains: { 31337: [{ name: "test-exchange", industry: "exchange", members: exchange }] } }));
    const report = await systemGroupReport({ rpc: f.rpc, index }, loadTaxonomy(file), { group: "exchange" });
    const token = (await other.getAddress()).toLowerCase();
    expect(amounts(report, "totals").find((r) => r[0] === token)).to.deep.equal([token, 87n]);
    // in: mint 100 + 2 from a; out: 15 to b; the 40 from d to e is internal.
    expect(amounts(report, "flows").find((r) => r[0] === token)).to.deep.equal([token, 102n, 15n, 87n, 40n, 4]);
  });

  it("ships a taxonomy that loads, and names what is wrong in an edited one", () => {
    const shipped = loadTaxonomy(SHIPPED_TAXONOMY);
    expect(shipped.industries).to.include.members(["exchange", "lending", "bridge", "gaming", "stablecoin"]);
    const file = path.join(f.dir, "bad-taxonomy.yaml");
    writeFileSync(file, stringify({ industries: ["exchange"], chains: { 1: [{ name: "x", industry: "casino", members: ["0x1"] }] } }));
    expect(() => loadTaxonomy(file)).to.throw(TaxonomyError, /bad-taxonomy\.yaml: chains\.1\.0\.members\.0: not a valid 0x-prefixed 20-byte address/);
  });

  it("runs from the CLI: failsafe ledger index, then ledger tokens", async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [path.resolve(__dirname, "../../../bin/failsafe.cjs"), ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const indexed = await run(["ledger", "index", "--config", f.configFile]);
    expect(indexed.code, indexed.stderr).to.equal(0);
    expect(indexed.stdout).to.match(/^system-wide index at block \d+ \(0x[0-9a-f]{64}\): 4 tokens, \d+ addresses, \d+ non-zero balances/);
    const tokens = await run(["ledger", "tokens", "--config", f.configFile, "--format", "json"]);
    expect(tokens.code, tokens.stderr).to.equal(0);
    expect(JSON.parse(tokens.stdout).sections[0].rows[0].token).to.equal((await other.getAddress()).toLowerCase());
  });
});
