import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseEther } from "ethers";
import { reportsFixture, type ReportsFixture } from "./fixture";

const BIN = path.resolve(__dirname, "../../../bin/failsafe.cjs");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function failsafe(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, FAILSAFE_DEBUG: "" }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("failsafe report and audit commands", function () {
  let f: ReportsFixture;

  before(async () => {
    f = await reportsFixture();
    const [a, b, c] = f.holders;
    await (await f.token.mint(a.address, parseEther("100"))).wait();
    await (await f.token.mint(b.address, parseEther("40"))).wait();
    await (await f.token.connect(a).transfer(c.address, parseEther("10"))).wait();
    await (await f.game.connect(a).play({ value: parseEther("1") })).wait();
    await (await f.game.connect(a).play({ value: parseEther("1") })).wait();
    await (await f.token.burn(b.address, parseEther("5"))).wait();
  });
  after(async () => {
    await f?.stop();
  });

  it("prints a cap table as JSON with its block, hash and passing checks", async () => {
    const run = await failsafe(["report", "cap-table", "--config", f.configFile, "--token", "RPT", "--format", "json"]);
    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
    const report = JSON.parse(run.stdout);
    const head = await f.provider.getBlock("latest");
    expect(report.block).to.deep.equal({ number: head!.number, hash: head!.hash, timestamp: head!.timestamp });
    expect(report.sections[0].rows.map((r: { balance: { amount: string } }) => r.balance.amount)).to.deep.equal([parseEther("90"), parseEther("35"), parseEther("10")].map(String));
    expect(report.checks.every((c: { ok: boolean }) => c.ok)).to.equal(true);
  });

  it("prints a statement as CSV and Markdown anchored to the range's last block", async () => {
    const csv = await failsafe(["report", "statement", "--config", f.configFile, "--account", "treasury", "--format", "csv", "--no-sync"]);
    expect(csv.code, csv.stderr).to.equal(0);
    const lines = csv.stdout.trim().split("\n");
    expect(lines[0]).to.equal("chain_id,block_number,block_hash,section,block,time,tx,movement,counterparty,name,in,out,balance");
    const rows = lines.slice(1).map((l) => l.split(","));
    const payout = rows.find((r) => r[3] === "ETH" && r[7] === "ether:internal" && r[10] === String(parseEther("2")));
    expect(payout?.[8]).to.equal((await f.game.getAddress()).toLowerCase());
    // Three transactions from the treasury: each pays a burnt base fee and a tip to the fee recipient.
    expect(rows.filter((r) => r[3] === "ETH" && r[7] === "fee:base")).to.have.length(3);
    expect(rows.filter((r) => r[3] === "ETH" && r[7] === "fee:tip")).to.have.length(3);
    expect(rows.filter((r) => r[3] === "RPT").map((r) => r[7])).to.deep.equal(["opening balance", "erc20", "erc20", "closing balance"]);
    const md = await failsafe(["report", "flows", "--config", f.configFile, "--contract", await f.game.getAddress(), "--format", "markdown", "--no-sync"]);
    expect(md.code).to.equal(0);
    expect(md.stdout).to.match(/\| ETH \| 2\.0 \| 2\.0 \| 0\.0 \| 0\.0 \| 2 \| 1 \| 1 \| 100\.0000% \|/);
    const group = await failsafe(["report", "group", "--config", f.configFile, "--group", "treasury", "--no-sync"]);
    expect(group.code).to.equal(0);
    expect(group.stdout).to.match(/^Group treasury\nchain 31337\nat   block \d+ \(0x[0-9a-f]{64}, /);
  });

  it("gives clear errors for bad arguments, with a non-zero exit and no stack trace", async () => {
    const cases: [string[], RegExp][] = [
      [["report", "cap-table", "--token", "NOPE"], /^error: --token: unknown token "NOPE" \(configured tokens: RPT\)\n$/],
      [["report", "cap-table", "--token", "RPT", "--block", "1000000"], /^error: --block: block 1000000 is in the future: the indexed head is block \d+\n$/],
      [["report", "holdings", "--account", "0xnot-an-address"], /^error: --account: "0xnot-an-address" is neither a configured name nor a valid address\n$/],
      [["report", "cap-table", "--token", "RPT", "--format", "xml"], /^error: --format: "xml" is not one of table, csv, json, markdown\n$/],
    ];
    for (const [args, message] of cases) {
      const run = await failsafe([...args, "--config", f.configFile, "--no-sync"]);
      expect(run.code, args.join(" ")).to.equal(2);
      expect(run.stderr, args.join(" ")).to.match(message);
      expect(run.stderr).to.not.match(/\n\s+at /);
    }
  });

  it("exports reproducibly, verifies against the node, and catches a tampered file", async () => {
    const dirA = path.join(f.dir, "export-a");
    const dirB = path.join(f.dir, "export-b");
    const exportA = await failsafe(["audit", "export", "--config", f.configFile, "--contract", "RPT", "--to", dirA]);
    expect(exportA.code, exportA.stderr).to.equal(0);
    const exportB = await failsafe(["audit", "export", "--config", f.configFile, "--contract", "RPT", "--to", dirB, "--no-sync"]);
    expect(exportB.code).to.equal(0);
    const files = readdirSync(dirA).sort();
    expect(files).to.deep.equal(["balances.csv", "balances.json", "manifest.json", "movements.csv", "movements.json", "opening-balances.csv", "opening-balances.json"]);
    for (const file of files) expect(readFileSync(path.join(dirB, file)), file).to.deep.equal(readFileSync(path.join(dirA, file)));
    const manifest = JSON.parse(readFileSync(path.join(dirA, "manifest.json"), "utf8"));
    expect(manifest.anchors.to.hash).to.equal((await f.provider.getBlock(manifest.anchors.to.number))!.hash);

    const verified = await failsafe(["audit", "verify", dirA, "--rpc", f.anvil.url]);
    expect(verified.stdout).to.match(/verified: \d+ checks passed\n$/);
    expect(verified.code).to.equal(0);

    const balances = path.join(dirA, "balances.csv");
    writeFileSync(balances, readFileSync(balances, "utf8").replace(String(parseEther("35")), String(parseEther("36"))));
    const tampered = await failsafe(["audit", "verify", dirA, "--rpc", f.anvil.url]);
    expect(tampered.code).to.equal(3);
    expect(tampered.stdout).to.match(/MISMATCH  balances\.csv matches its manifest hash: sha256 is [0-9a-f]{64}, manifest says [0-9a-f]{64}/);
    expect(tampered.stdout).to.match(/MISMATCH  balances\.csv equals the recomputation from the node: line \d+: node gives ".*35000000000000000000", file has ".*36000000000000000000"/);
  });

  it("verifies an account export whose ether comes from traces, fees and internal payouts", async () => {
    const dir = path.join(f.dir, "export-treasury");
    const exported = await failsafe(["audit", "export", "--config", f.configFile, "--contract", "treasury", "--to", dir, "--no-sync"]);
    expect(exported.code, exported.stderr).to.equal(0);
    const movements = JSON.parse(readFileSync(path.join(dir, "movements.json"), "utf8")) as { kind: string }[];
    expect(movements.map((m) => m.kind)).to.include.members(["fee:base", "fee:tip", "ether:top-level", "ether:internal", "erc20"]);
    const verified = await failsafe(["audit", "verify", dir, "--rpc", f.anvil.url]);
    expect(verified.code, verified.stdout).to.equal(0);
  });
});
