import { expect } from "chai";
import { parseEther } from "ethers";
import { capTableReport } from "../../../guardian/ledger/cap-table";
import { flowsReport } from "../../../guardian/ledger/flows";
import { groupReport } from "../../../guardian/ledger/group";
import { holdingsReport } from "../../../guardian/ledger/holdings";
import { statementReport } from "../../../guardian/ledger/statement";
import { failedChecks, isAmount, type Report } from "../../../guardian/ledger/report";
import { ReportArgumentError } from "../../../guardian/ledger/reporting-scope";
import { ETHER } from "../../../guardian/ledger/movement";
import { reportsFixture, type ReportsFixture } from "./fixture";

const amountIn = (report: Report, section: number, row: number, column: string): bigint => {
  const s = report.sections[section];
  const cell = s.rows[row][s.columns.indexOf(column)];
  if (!isAmount(cell)) throw new Error(`${column} is not an amount`);
  return cell.amount;
};

describe("reports on anvil", function () {
  let f: ReportsFixture;
  /** Blocks at which the cap table was checked again later, with the balances the chain had then. */
  const checkpoints: number[] = [];

  before(async () => {
    f = await reportsFixture();
  });
  after(async () => {
    await f?.stop();
  });

  async function mined(tx: Promise<{ wait(): Promise<unknown> }>): Promise<number> {
    await (await tx).wait();
    return f.provider.getBlockNumber();
  }

  describe("cap table", () => {
    it("matches totalSupply and balanceOf at several blocks through mints, transfers and burns", async () => {
      const [a, b, c, d] = f.holders;
      const t = f.token;
      checkpoints.push(await mined(t.mint(a.address, parseEther("1000"))));
      await mined(t.mint(b.address, parseEther("500")));
      checkpoints.push(await mined(t.connect(a).transfer(c.address, parseEther("100"))));
      await mined(t.connect(b).transfer(d.address, parseEther("50")));
      checkpoints.push(await mined(t.burn(c.address, parseEther("30"))));
      await mined(t.connect(d).transfer(a.address, parseEther("50")));
      await f.feed.sync();

      for (const block of [...checkpoints, undefined]) {
        const report = await capTableReport(f.deps, { token: "RPT", block: block === undefined ? undefined : String(block) });
        expect(failedChecks(report), `checks at ${block ?? "head"}`).to.deep.equal([]);
        const tag = block ?? (await f.provider.getBlockNumber());
        const holders = report.sections[0].rows.map((r) => r[1] as string);
        let sum = 0n;
        for (const holder of holders) sum += await t.balanceOf(holder, { blockTag: tag });
        expect(amountIn(report, 0, 0, "balance") > 0n).to.equal(true);
        expect(sum).to.equal(await t.totalSupply({ blockTag: tag }));
        report.sections[0].rows.forEach((row, i) => expect(amountIn(report, 0, i, "balance")).to.be.a("bigint"));
      }
      const head = await capTableReport(f.deps, { token: "RPT", top: 2 });
      expect(head.sections[0].rows.map((r) => r[1])).to.deep.equal([f.holders[0].address.toLowerCase(), f.holders[1].address.toLowerCase()]);
      expect(amountIn(head, 0, 0, "balance")).to.equal(parseEther("950"));
      expect(head.summary.find(([k]) => k === "holders")?.[1]).to.equal(3); // d sent all it got back
    });

    it("drops what orphaned blocks wrote after anvil_reorg and still matches the chain", async () => {
      const [a, , c, , e] = f.holders;
      await mined(f.token.connect(a).transfer(e.address, parseEther("7")));
      await mined(f.token.mint(c.address, parseEther("3")));
      await f.feed.sync();
      const before = f.deps.store.cursor()!;
      expect(f.deps.store.balance(f.deps.scope.tokens()[0].address, "", e.address.toLowerCase())).to.equal(parseEther("7"));

      // Replace the last two blocks: the new branch carries a different transfer from a.
      const replacement = await f.token.connect(a).transfer.populateTransaction(c.address, parseEther("1"));
      await f.rpc.request("anvil_reorg", [2, [[{ from: a.address, to: replacement.to, data: replacement.data }, 0]]]);
      await f.feed.sync();

      expect(f.feed.reorgs.map((e) => e.kind === "reorg" && e.reorg.depth)).to.deep.equal([2]);
      const after = f.deps.store.cursor()!;
      expect(after.number).to.equal(before.number);
      expect(after.hash).to.not.equal(before.hash);
      const orphanedRows = f.db.prepare("SELECT count(*) AS n FROM idx_movements WHERE block_hash = ?").get(before.hash) as { n: number };
      expect(orphanedRows.n).to.equal(0);
      expect(f.deps.store.balance(f.deps.scope.tokens()[0].address, "", e.address.toLowerCase())).to.equal(0n);
      const report = await capTableReport(f.deps, { token: "RPT" });
      expect(failedChecks(report)).to.deep.equal([]);
      expect(report.anchor.hash).to.equal(after.hash);
      const historic = await capTableReport(f.deps, { token: "RPT", block: String(checkpoints[1]) });
      expect(failedChecks(historic)).to.deep.equal([]);
    });
  });

  describe("statement, flows and group", () => {
    let from: number;

    it("reconciles a statement to the balance change, ether fees and internal payouts included", async () => {
      const [treasury, b] = f.holders;
      from = (await f.provider.getBlockNumber()) + 1;
      const ethBefore = await f.provider.getBalance(treasury.address, from - 1);
      const rptBefore = await f.token.balanceOf(treasury.address, { blockTag: from - 1 });
      await mined(f.game.connect(treasury).play({ value: parseEther("1") }));
      await mined(f.game.connect(treasury).play({ value: parseEther("1") })); // pays 2 ETH back internally
      await mined(f.token.connect(treasury).transfer(b.address, parseEther("25")));
      await mined(treasury.sendTransaction({ to: b.address, value: parseEther("0.5") }));
      await f.feed.sync();
      const to = await f.provider.getBlockNumber();

      const report = await statementReport(f.deps, { account: "treasury", from: String(from), to: String(to) });
      expect(failedChecks(report)).to.deep.equal([]);
      const eth = report.sections.find((s) => s.title === "ETH")!;
      const rpt = report.sections.find((s) => s.title === "RPT")!;
      const last = (s: typeof eth) => s.rows[s.rows.length - 1];
      const bal = (cell: unknown) => (isAmount(cell) ? cell.amount : -1n);
      expect(bal(last(eth)[8]) - bal(eth.rows[0][8])).to.equal((await f.provider.getBalance(treasury.address, to)) - ethBefore);
      expect(bal(last(rpt)[8]) - bal(rpt.rows[0][8])).to.equal((await f.token.balanceOf(treasury.address, { blockTag: to })) - rptBefore);
      const movements = eth.rows.slice(1, -1).map((r) => r[3]);
      expect(movements.filter((m) => m === "fee:base")).to.have.length(4);
      expect(movements.filter((m) => m === "fee:tip")).to.have.length(4);
      expect(movements.filter((m) => m === "ether:top-level")).to.have.length(3);
      // Every row's running balance was reconciled with eth_getBalance at its block.
      expect(report.summary.find(([k]) => k === "ETH rows reconciled")?.[1]).to.match(/^4 of 4 blocks with movements checked/);
      // The 2 ETH payout is an internal call from the game, visible only in the trace.
      const payout = eth.rows.find((r) => r[3] === "ether:internal" && isAmount(r[6]) && r[6].amount === parseEther("2"));
      expect(payout?.[4]).to.equal((await f.game.getAddress()).toLowerCase());
    });

    it("reports the game's flows and payout ratio", async () => {
      const report = await flowsReport(f.deps, { contract: await f.game.getAddress(), from: String(from) });
      expect(failedChecks(report)).to.deep.equal([]);
      const eth = report.sections[0].rows.find((r) => r[0] === "ETH")!;
      expect(isAmount(eth[1]) && eth[1].amount).to.equal(parseEther("2"));
      expect(isAmount(eth[2]) && eth[2].amount).to.equal(parseEther("2"));
      expect(eth[8]).to.equal("100.0000%");
    });

    it("reports a group's holdings with totals, checked member by member", async () => {
      const report = await groupReport(f.deps, { group: "treasury" });
      expect(failedChecks(report)).to.deep.equal([]);
      expect(report.checks.length).to.be.greaterThan(2);
      const total = report.sections[0].rows.find((r) => r[0] === "RPT")!;
      const expected = (await f.token.balanceOf(f.holders[0].address)) + (await f.token.balanceOf(f.holders[1].address));
      expect(isAmount(total[2]) && total[2].amount).to.equal(expected);
      const industry = await groupReport(f.deps, { group: "gambling", from: String(from) });
      const flows = industry.sections.find((s) => s.title === "flows")!;
      expect(flows.rows.find((r) => r[1] === "ETH")?.[9]).to.equal("100.0000%");
      expect([...new Set(industry.sections[1].rows.map((r) => r[1]))]).to.deep.equal([(await f.game.getAddress()).toLowerCase()]);
      expect(failedChecks(industry)).to.deep.equal([]);
    });

    it("reports holdings with ether from maintained state", async () => {
      const report = await holdingsReport(f.deps, { account: f.holders[0].address });
      expect(failedChecks(report)).to.deep.equal([]);
      expect(report.sections[0].rows[0][2]).to.equal(ETHER);
      const outsider = await holdingsReport(f.deps, { account: f.holders[2].address });
      expect(outsider.sections[0].rows.map((r) => r[0])).to.deep.equal(["RPT"]);
      expect(outsider.notes.join(" ")).to.match(/ether of .* is not followed/);
    });

    it("shows a mismatch instead of hiding it when the index is wrong", async () => {
      const ref = "(SELECT id FROM idx_addresses WHERE address = ?)";
      const token = f.deps.scope.tokens()[0].address;
      const holder = f.holders[2].address.toLowerCase();
      const tamper = (sql: string, ...params: unknown[]) => f.db.prepare(sql).run(...params);
      const balance = f.db.prepare(`SELECT balance FROM idx_balances WHERE asset = ${ref} AND holder = ${ref}`).pluck().get(token, holder) as string;
      const totals = f.db.prepare(`SELECT total FROM idx_totals WHERE asset = ${ref}`).pluck().get(token) as string;
      try {
        tamper(`UPDATE idx_totals SET total = ? WHERE asset = ${ref}`, "1", token);
        const top = await capTableReport(f.deps, { token: "RPT", top: 1 });
        expect(failedChecks(top).map((c) => c.name)).to.deep.equal([`sum of balances = totalSupply() at block ${top.anchor.number}`]);
        tamper(`UPDATE idx_totals SET total = ? WHERE asset = ${ref}`, totals, token);
        tamper(`UPDATE idx_balances SET balance = ? WHERE asset = ${ref} AND holder = ${ref}`, "11", token, holder);
        const full = await capTableReport(f.deps, { token: "RPT" });
        expect(failedChecks(full).map((c) => c.name)).to.have.members([
          "sum of listed balances = the index's maintained total",
          `balanceOf(${holder}) at block ${full.anchor.number}`,
        ]);
      } finally {
        tamper(`UPDATE idx_totals SET total = ? WHERE asset = ${ref}`, totals, token);
        tamper(`UPDATE idx_balances SET balance = ? WHERE asset = ${ref} AND holder = ${ref}`, balance, token, holder);
      }
    });
  });

  describe("bad arguments", () => {
    const rejects = async (promise: Promise<unknown>, argument: string, message: RegExp) => {
      try {
        await promise;
      } catch (err) {
        expect(err).to.be.instanceOf(ReportArgumentError);
        expect((err as ReportArgumentError).argument).to.equal(argument);
        expect((err as Error).message).to.match(message);
        return;
      }
      expect.fail("expected a ReportArgumentError");
    };

    it("names an unknown token, a future block and a malformed address", async () => {
      await rejects(capTableReport(f.deps, { token: "NOPE" }), "--token", /unknown token "NOPE" \(configured tokens: RPT\)/);
      await rejects(capTableReport(f.deps, { token: "RPT", block: "99999" }), "--block", /block 99999 is in the future: the indexed head is block \d+/);
      await rejects(capTableReport(f.deps, { token: "RPT", block: "ten" }), "--block", /not a block number/);
      await rejects(holdingsReport(f.deps, { account: "0x1234" }), "--account", /neither a configured name nor a valid address/);
      await rejects(statementReport(f.deps, { account: "treasury", from: "9", to: "3" }), "--from", /after --to/);
      await rejects(groupReport(f.deps, { group: "lending" }), "--group", /unknown group or industry "lending"/);
    });
  });
});
