import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, Wallet, parseEther, parseUnits } from "ethers";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { reportingConfigSchema } from "../../../guardian/ledger/config";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IndexStore } from "../../../guardian/ledger/index-store";
import { Indexer } from "../../../guardian/ledger/indexer";
import { ReportingScope } from "../../../guardian/ledger/reporting-scope";
import type { ReportDeps } from "../../../guardian/ledger/report-context";
import { statementReport } from "../../../guardian/ledger/statement";
import { failedChecks, isAmount, type Report } from "../../../guardian/ledger/report";
import { etherMovements } from "../../../guardian/ledger/ether-movements";
import type { BlockContext } from "../../../guardian/context/types";
import { LedgerDiceGame__factory, ReportPayoutGame__factory } from "../../../typechain-types";

const ethRows = (report: Report) => report.sections.find((s) => s.title === "ETH")!.rows;
const kinds = (report: Report) => ethRows(report).slice(1, -1).map((r) => r[3] as string);

/**
 * Ether statements that add up at every row: fees split into the burnt base fee and the tip, a fee
 * recipient's coinbase income, value by sub-type (top-level, internal, create, selfdestruct), reverted
 * transactions' fees, each row's running balance equal to eth_getBalance at its block.
 */
describe("ether statements", function () {
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let db: Db;
  let dir: string;
  let deps: ReportDeps;
  let alice: Wallet;
  let miner: Wallet;

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    provider.pollingInterval = 50;
    const bob = new NonceManager(new Wallet(anvilKey(0), provider));
    alice = new Wallet(anvilKey(1), provider);
    miner = new Wallet(anvilKey(2), provider);
    const rpc = new HttpRpcClient({ chainId: 31337, urls: [anvil.url], maxAttempts: 2 });
    await rpc.request("anvil_setCoinbase", [miner.address]);
    const tip = { maxPriorityFeePerGas: parseUnits("2", "gwei"), maxFeePerGas: parseUnits("50", "gwei") };
    const wait = async (tx: Promise<{ wait(): Promise<unknown> }>) => (await tx).wait();

    const game = await (await new ReportPayoutGame__factory(bob).deploy(tip)).waitForDeployment();
    const dice = await (await new LedgerDiceGame__factory(bob).deploy(5_000, 19_600, 9_800, "0x" + "11".repeat(32), tip)).waitForDeployment();
    await wait(bob.sendTransaction({ to: await game.getAddress(), value: parseEther("10"), ...tip }));
    await wait(alice.sendTransaction({ to: bob, value: parseEther("1"), ...tip })); // top-level
    await wait(game.connect(alice).play({ value: parseEther("1"), ...tip }));
    await wait(game.connect(alice).play({ value: parseEther("1"), ...tip })); // pays 2 back: internal
    await wait(alice.sendTransaction({ data: "0x00", value: parseEther("0.25"), ...tip })); // create with value
    // Init code PUSH20 alice SELFDESTRUCT: the new contract's ether goes to alice (a selfdestruct frame).
    await wait(bob.sendTransaction({ data: "0x73" + alice.address.slice(2).toLowerCase() + "ff", value: parseEther("0.5"), ...tip }));
    // A reverted call still pays its fee (play(0) reverts; the gas limit skips estimation).
    await (await dice.connect(alice).play(0, { gasLimit: 100_000, ...tip })).wait().catch(() => undefined);
    await wait(bob.sendTransaction({ to: alice.address, value: parseEther("0.1"), ...tip })); // miner earns bob's tip

    dir = mkdtempSync(path.join(tmpdir(), "failsafe-ledger-ether-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));
    const scope = new ReportingScope(
      reportingConfigSchema.parse({
        fromBlock: 1,
        accounts: [
          { name: "alice", address: alice.address },
          { name: "miner", address: miner.address },
        ],
        reconcileRows: 1_000_000,
      }),
    );
    deps = { store: new IndexStore(db), scope, rpc };
    await new Indexer({ rpc, store: deps.store, scope }).syncToHead();
  });
  after(async () => {
    db?.close();
    provider?.destroy();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("types every movement of a sender and reconciles every row with eth_getBalance", async () => {
    const report = await statementReport(deps, { account: "alice" });
    expect(failedChecks(report)).to.deep.equal([]);
    const seen = kinds(report);
    for (const kind of ["fee:base", "fee:tip", "ether:top-level", "ether:internal", "ether:create", "ether:selfdestruct"]) expect(seen, kind).to.include(kind);
    expect(seen).to.include("fee:base (reverted tx)");
    const blocks = new Set(ethRows(report).slice(1, -1).map((r) => r[0]));
    expect(report.checks.filter((c) => /running balance after block \d+ = eth_getBalance/.test(c.name))).to.have.length(blocks.size);
    expect(report.summary.find(([k]) => k === "ETH rows reconciled")?.[1]).to.equal(`${blocks.size} of ${blocks.size} blocks with movements checked against eth_getBalance`);
  });

  it("credits the fee recipient's coinbase income from every transaction's tip", async () => {
    const report = await statementReport(deps, { account: "miner" });
    expect(failedChecks(report)).to.deep.equal([]);
    const rows = ethRows(report).slice(1, -1);
    expect(rows.length).to.be.greaterThan(8);
    // Tips of reverted transactions are income too, and say so.
    expect(new Set(rows.map((r) => r[3]))).to.deep.equal(new Set(["coinbase", "coinbase (reverted tx)"]));
    const income = rows.reduce((sum, r) => sum + (isAmount(r[6]) ? r[6].amount : 0n), 0n);
    const first = report.from!.number;
    expect(income).to.equal((await provider.getBalance(miner.address, report.anchor.number)) - (await provider.getBalance(miner.address, first - 1)));
  });

  it("burns blob fees and credits beacon withdrawals (a block in a node's response shape)", () => {
    // anvil mines neither withdrawals nor, without a KZG library, blob transactions: this block is written
    // in exactly the shape eth_getBlockByHash and eth_getBlockReceipts return for a post-Cancun block.
    const sender = "0x00000000000000000000000000000000000000a1";
    const validator = "0x00000000000000000000000000000000000000b2";
    const feeRecipient = "0x00000000000000000000000000000000000000c3";
    const ctx: BlockContext = { chainId: 1, number: 100, hash: "0x" + "ab".repeat(32), parentHash: "0x" + "aa".repeat(32), timestamp: 1_700_000_000, transactions: [] };
    const header = {
      miner: feeRecipient,
      baseFeePerGas: "0x3b9aca00", // 1 gwei
      withdrawals: [{ index: "0x10", validatorIndex: "0x5", address: validator, amount: "0x1bc0dfa80" }], // 7.45 ETH in gwei
    };
    const receipts = [
      { transactionHash: "0x" + "01".repeat(32), transactionIndex: "0x0", from: sender, status: "0x1", gasUsed: "0x5208", effectiveGasPrice: "0x77359400", blobGasUsed: "0x20000", blobGasPrice: "0x3" },
    ];
    const moves = etherMovements(ctx, header, receipts, new Set([sender, validator, feeRecipient]));
    expect(moves.map((m) => [m.kind, m.from, m.to, m.amount])).to.deep.equal([
      ["fee:base", sender, "0x0000000000000000000000000000000000000000", 21_000n * 1_000_000_000n],
      ["fee:blob", sender, "0x0000000000000000000000000000000000000000", 131_072n * 3n],
      ["fee:tip", sender, feeRecipient, 21_000n * 1_000_000_000n],
      ["withdrawal", "0x0000000000000000000000000000000000000000", validator, 7_450_000_000n * 10n ** 9n],
    ]);
  });
});
