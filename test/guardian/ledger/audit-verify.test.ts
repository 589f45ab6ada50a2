import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseEther } from "ethers";
import { exportFromStore, foldBalances, renderExport, writeExport, type ExportData } from "../../../guardian/ledger/audit-export";
import { verifyExport, type VerifyFinding } from "../../../guardian/ledger/audit-verify";
import { ETHER } from "../../../guardian/ledger/movement";
import { reportsFixture, type ReportsFixture } from "./fixture";

const failures = (findings: VerifyFinding[]) => findings.filter((f) => !f.ok).map((f) => `${f.what}: ${f.detail ?? ""}`);

/**
 * The attacker here is the exporter: each forgery is re-rendered with consistent SHA-256 hashes, so only
 * a verifier that derives the scope from the chain and checks final balances at the anchor catches it.
 */
describe("audit verify against forged exports", function () {
  let f: ReportsFixture;
  let tokenExport: ExportData;
  let accountExport: ExportData;
  let cut: { number: number; hash: string };

  before(async () => {
    f = await reportsFixture();
    const [treasury, b, c] = f.holders;
    await (await f.token.mint(treasury.address, parseEther("100"))).wait();
    await (await f.token.mint(b.address, parseEther("40"))).wait();
    await (await f.token.connect(treasury).transfer(c.address, parseEther("10"))).wait();
    const block = await f.provider.getBlock("latest");
    cut = { number: block!.number, hash: block!.hash! };
    await (await f.token.connect(c).transfer(b.address, parseEther("4"))).wait();
    await (await f.game.connect(treasury).play({ value: parseEther("1") })).wait();
    await (await f.game.connect(treasury).play({ value: parseEther("1") })).wait();
    await (await treasury.sendTransaction({ to: b.address, value: parseEther("0.3") })).wait();
    await f.feed.sync();
    tokenExport = await exportFromStore(f.deps, { contract: "RPT" });
    accountExport = await exportFromStore(f.deps, { contract: "treasury" });
  });
  after(async () => {
    await f?.stop();
  });

  const verify = async (name: string, data: ExportData, edit?: (dir: string) => void) => {
    const dir = path.join(f.dir, name);
    writeExport(dir, renderExport(data));
    edit?.(dir);
    return verifyExport(dir, f.rpc);
  };

  it("verifies honest token and account exports", async () => {
    expect(failures(await verify("honest-token", tokenExport))).to.deep.equal([]);
    const account = await verify("honest-account", accountExport);
    expect(failures(account)).to.deep.equal([]);
    expect(account.map((x) => x.what)).to.include("the export covers every token contract the account moved tokens of on the chain (1)");
  });

  it("fails history truncated to start later (negative balances)", async () => {
    const subject = { ...tokenExport.subject, from: cut };
    const movements = tokenExport.movements.filter((m) => m.blockNumber > cut.number);
    const forged = { subject, opening: [], movements, balances: foldBalances(subject, [], movements) };
    const found = failures(await verify("truncated", forged)).join("\n");
    expect(found).to.match(/history starts at or before the token's first transfer .*: \d+ transfer logs of the token in blocks \d+-\d+ are left out/);
    expect(found).to.match(/no balance folded from the history is negative: 1 negative/);
    expect(found).to.match(/final balances equal balanceOf/);
  });

  it("fails an account export whose ether rows were removed with subject.ether=false", async () => {
    const subject = { ...accountExport.subject, ether: false };
    const forged = { subject, opening: [], movements: accountExport.movements.filter((m) => m.token !== ETHER), balances: accountExport.balances.filter((b) => b.token !== ETHER) };
    expect(failures(await verify("no-ether", forged)).join("\n")).to.match(/the export leaves out ether \(subject\.ether=false\).*: eth_getBalance went from \d+ to \d+: the export hides ether movements/);
  });

  it("fails an account export with a token removed from manifest.tokens", async () => {
    const rpt = f.deps.scope.tokens()[0].address;
    const subject = { ...accountExport.subject, tokens: [] };
    const forged = { subject, opening: accountExport.opening, movements: accountExport.movements.filter((m) => m.token !== rpt), balances: accountExport.balances.filter((b) => b.token !== rpt) };
    expect(failures(await verify("no-token", forged))).to.include(`the export covers every token contract the account moved tokens of on the chain (1): left out: ${rpt}`);
  });

  it("reports a file the manifest does not list", async () => {
    const found = failures(await verify("extra-file", tokenExport, (dir) => writeFileSync(path.join(dir, "adjustments.csv"), "holder,balance\n")));
    expect(found).to.deep.equal(["every file is listed in the manifest: adjustments.csv is not: an unlisted file is not part of what was exported"]);
  });

  it("gives a finding, not a crash, for a changed standard in the manifest", async () => {
    const found = await verify("changed-standard", tokenExport, (dir) => {
      const file = path.join(dir, "manifest.json");
      writeFileSync(file, readFileSync(file, "utf8").replace('"standard": "erc20"', '"standard": "erc721"'));
    });
    expect(failures(found)).to.include(`standard of ${tokenExport.subject.address}: the manifest says erc721, the chain says erc20`);
    // The data files are still recomputed and compared, with the chain's standard; only the manifest differs.
    const compared = found.filter((x) => x.what.endsWith("equals the recomputation from the node"));
    expect(compared.filter((x) => !x.ok).map((x) => x.what)).to.deep.equal(["manifest.json equals the recomputation from the node"]);
  });
});
