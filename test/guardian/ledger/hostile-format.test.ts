import { expect } from "chai";
import { renderReport } from "../../../guardian/ledger/format";
import type { Report } from "../../../guardian/ledger/report";

/**
 * A token's name() and symbol() are the deployer's text, so an attacker's. The ledger's table must not let
 * them drive the terminal, and its Markdown must not let them open links or HTML.
 */
describe("ledger report formats: token-controlled text is escaped", () => {
  const evil = "Evil\u001b[2J\u001b]8;;https://phish.example\u0007click\u001b]8;;\u0007 [link](https://phish.example) <img src=x>";
  const report: Report = {
    kind: "cap-table",
    title: `Cap table of ${evil}`,
    chainId: 31337,
    anchor: { number: 7, hash: "0x" + "07".repeat(32), timestamp: 1_764_000_000 },
    summary: [
      ["name", evil],
      ["total held", { amount: 2n * 10n ** 18n, decimals: 18, symbol: "EVIL\u001b[31m" }],
    ],
    sections: [{ title: "holders", columns: ["rank", "holder", "name", "balance"], rows: [[1, "0x" + "aa".repeat(20), evil, { amount: 10n ** 18n, decimals: 18, symbol: "EVIL" }]] }],
    checks: [{ name: `sum of ${evil}`, ok: true, expected: "1", actual: "1" }],
    notes: [`name() of ${evil} reverted`],
  } as Report;

  it("the terminal table shows control sequences as visible escapes and keeps one row per line", () => {
    const text = renderReport(report, "table");
    expect(text).to.not.match(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(text).to.include("Evil\\x1b[2J");
    expect(text).to.match(/^\s+1\s+0xaaaa/m);
  });

  it("the terminal table fits the terminal's width (COLUMNS), wrapping the long name, with amounts right-aligned", () => {
    const previous = process.env.COLUMNS;
    process.env.COLUMNS = "70";
    try {
      const lines = renderReport(report, "table").split("\n");
      const start = lines.indexOf("holders");
      const table = lines.slice(start + 1, lines.indexOf("", start + 1));
      for (const line of table) expect(line.length, line).to.be.at.most(70);
      expect(table.length, "the long name wraps onto more lines").to.be.greaterThan(3);
      expect(table[1]).to.match(/^-+( +-+){3}$/);
      // The balance column is right-aligned: its value ends where the column's rule ends.
      const value = table.find((l) => /\s1\.0$/.test(l));
      expect(value?.length, "1.0 ends where the balance column's rule ends").to.equal(table[1].length);
    } finally {
      if (previous === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = previous;
    }
  });

  it("the Markdown opens no link, image or HTML from token text", () => {
    const text = renderReport(report, "markdown");
    expect(text).to.not.match(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(text).to.not.include("[link](");
    expect(text).to.not.include("<img");
    expect(text).to.include("\\[link\\]");
  });
});
