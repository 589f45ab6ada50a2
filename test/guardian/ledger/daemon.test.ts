import { expect } from "chai";
import { parseEther } from "ethers";
import { capTableReport } from "../../../guardian/ledger/cap-table";
import { failedChecks, isAmount } from "../../../guardian/ledger/report";
import { startHarness, waitFor, type Harness } from "../support/guardian-harness";
import { reportsFixture, type ReportsFixture } from "./fixture";

describe("report index in the running guardian", function () {
  let f: ReportsFixture;
  let harness: Harness | undefined;

  before(async () => {
    f = await reportsFixture();
  });
  after(async () => {
    await harness?.stop();
    await f?.stop();
  });

  const caughtUp = () =>
    waitFor("the report index to reach the node's head", async () => {
      const head = await f.provider.getBlock("latest");
      return f.deps.store.cursor()?.hash === head!.hash;
    });

  it("keeps the cap table current block by block, through a reorg, without any report command", async () => {
    const [a, b, c] = f.holders;
    await (await f.token.mint(a.address, parseEther("10"))).wait();
    harness = await startHarness(f.configFile, f.dbFile);
    await caughtUp();
    await (await f.token.connect(a).transfer(b.address, parseEther("4"))).wait();
    await caughtUp();
    let report = await capTableReport(f.deps, { token: "RPT" });
    expect(failedChecks(report)).to.deep.equal([]);
    expect(report.sections[0].rows.map((r) => isAmount(r[3]) && r[3].amount)).to.deep.equal([parseEther("6"), parseEther("4")]);

    await (await f.token.connect(b).transfer(c.address, parseEther("1"))).wait();
    await caughtUp();
    await f.rpc.request("anvil_reorg", [1, []]);
    await caughtUp();
    report = await capTableReport(f.deps, { token: "RPT" });
    expect(failedChecks(report)).to.deep.equal([]);
    expect(report.sections[0].rows.map((r) => r[1])).to.deep.equal([a.address.toLowerCase(), b.address.toLowerCase()]);
  });
});
