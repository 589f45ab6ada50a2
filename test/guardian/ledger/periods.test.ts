import { expect } from "chai";
import { parseEther } from "ethers";
import { statementReport } from "../../../guardian/ledger/statement";
import { capTableReport } from "../../../guardian/ledger/cap-table";
import { parsePeriod } from "../../../guardian/ledger/report-context";
import { ReportArgumentError } from "../../../guardian/ledger/reporting-scope";
import { failedChecks, isAmount } from "../../../guardian/ledger/report";
import { reportsFixture, type ReportsFixture } from "./fixture";

const at = (iso: string) => Date.parse(iso) / 1000;

/** Reports by date and period: blocks are picked by their timestamps, edges included exactly. */
describe("reports by period and date", function () {
  let f: ReportsFixture;
  const blocks: Record<string, number> = {};

  before(async () => {
    f = await reportsFixture();
    const [a, b] = f.holders;
    const mineAt = async (label: string, iso: string, send: () => Promise<{ wait(): Promise<unknown> }>) => {
      await f.rpc.request("evm_setNextBlockTimestamp", [at(iso)]);
      await (await send()).wait();
      blocks[label] = await f.provider.getBlockNumber();
    };
    await mineAt("q4", "2027-12-31T23:59:59Z", () => f.token.mint(a.address, parseEther("100")));
    await mineAt("q1-first", "2028-01-01T00:00:00Z", () => f.token.connect(a).transfer(b.address, parseEther("1")));
    await mineAt("q1-mid", "2028-02-15T10:00:00Z", () => f.token.connect(a).transfer(b.address, parseEther("2")));
    await mineAt("q1-last", "2028-03-31T23:59:59Z", () => f.token.connect(a).transfer(b.address, parseEther("4")));
    await mineAt("q2", "2028-04-01T00:00:00Z", () => f.token.connect(a).transfer(b.address, parseEther("8")));
    await f.feed.sync();
  });
  after(async () => {
    await f?.stop();
  });

  it("maps quarters, months and years to days", () => {
    expect(parsePeriod("2026-Q3")).to.deep.equal(["2026-07-01", "2026-09-30"]);
    expect(parsePeriod("2028-02")).to.deep.equal(["2028-02-01", "2028-02-29"]);
    expect(parsePeriod("2027")).to.deep.equal(["2027-01-01", "2027-12-31"]);
    expect(parsePeriod("2027-Q5")).to.equal(null);
  });

  it("reports a quarter: exactly the blocks stamped inside it", async () => {
    const report = await statementReport(f.deps, { account: f.holders[1].address, period: "2028-Q1" });
    expect(failedChecks(report)).to.deep.equal([]);
    expect([report.from!.number, report.anchor.number]).to.deep.equal([blocks["q1-first"], blocks["q1-last"]]);
    const rpt = report.sections.find((s) => s.title === "RPT")!;
    expect(rpt.rows.slice(1, -1).map((r) => (isAmount(r[6]) ? r[6].amount : null))).to.deep.equal([parseEther("1"), parseEther("2"), parseEther("4")]);
  });

  it("takes dates for --from/--to and --block", async () => {
    const feb = await statementReport(f.deps, { account: f.holders[1].address, from: "2028-02-01", to: "2028-03-30" });
    expect([feb.from!.number, feb.anchor.number]).to.deep.equal([blocks["q1-mid"], blocks["q1-mid"]]);
    const endOfYear = await capTableReport(f.deps, { token: "RPT", block: "2027-12-31" });
    expect(endOfYear.anchor.number).to.equal(blocks.q4);
    expect(failedChecks(endOfYear)).to.deep.equal([]);
  });

  it("names a bad period or date", async () => {
    for (const [options, message] of [
      [{ period: "2028-Q7" }, /--period: "2028-Q7" is not a period/],
      [{ from: "2028-02-30" }, /--from: "2028-02-30" is not a calendar date/],
      [{ period: "2028-Q1", from: "2028-01-01" }, /--period: give either --period or --from\/--to/],
      [{ period: "2031" }, /--from: no indexed block on or after 2031-01-01/],
    ] as const) {
      try {
        await statementReport(f.deps, { account: "treasury", ...options });
        expect.fail(`accepted ${JSON.stringify(options)}`);
      } catch (err) {
        expect(err).to.be.instanceOf(ReportArgumentError);
        expect((err as Error).message).to.match(message);
      }
    }
  });
});
