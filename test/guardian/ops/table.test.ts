import { expect } from "chai";
import { renderTable } from "../../../guardian/ops/table";
import { prng } from "../../support/prng";


describe("renderTable: the CLI's one table printer", () => {
  it("lays out big tables itself exactly as cli-table3 lays out small ones: widths, wrapping, alignment, rule", () => {
    const random = prng(7);
    const word = (max: number) => Array.from({ length: Math.floor(random() * max) }, () => "abc def 0123456789\u001b[31m"[Math.floor(random() * 22)]).join("");
    for (let round = 0; round < 200; round++) {
      const columns = 1 + Math.floor(random() * 6);
      const head = Array.from({ length: columns }, (_, i) => `COL${i}${word(6)}`);
      const rows = Array.from({ length: Math.floor(random() * 12) }, () => head.map(() => word(40)));
      const width = random() < 0.3 ? undefined : 20 + Math.floor(random() * 120);
      const options = { width: width ?? 100_000, noWrap: random() < 0.5 ? [0] : [], right: random() < 0.5 ? [columns - 1] : [], rule: random() < 0.5 };
      const reference = renderTable(head, rows, { ...options, engine: "cli-table3" });
      expect(renderTable(head, rows, { ...options, engine: "fast" }), `round ${round}`).to.equal(reference);
    }
  });

  it("fits the width by wrapping the widest column, escapes control characters, and right-aligns numbers", () => {
    const text = renderTable(["NAME", "AMOUNT"], [["\u001b[2Jtoken with a long name", "1.5"], ["x", "1,000.25"]], { width: 20, right: [1], rule: true });
    expect(text).to.not.match(/\u001b/);
    for (const line of text.split("\n")) expect(line.length).to.be.at.most(20);
    expect(text).to.include("\\x1b[2J");
    expect(text.split("\n")).to.include.members(["----------  --------"]);
    expect(text).to.match(/ {5}1\.5\n/);
  });
});
