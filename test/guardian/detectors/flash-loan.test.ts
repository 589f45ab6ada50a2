import { expect } from "chai";
import { Interface, parseEther } from "ethers";
import { flashLoanDetector, type FlashLoan } from "../../../guardian/detectors/flash-loan";
import type { BlockContext } from "../../../guardian/context/types";
import { readBlockFixture } from "./block-fixtures";
import { createFromFixture, runBlocks } from "./detector-harness";

describe("flash-loan detector", () => {
  const fx = readBlockFixture("flash-loans");
  const loansOf = (evidence: Record<string, unknown>) => evidence.loans as (Omit<FlashLoan, "assets"> & { assets: { token?: string; amount: string }[] })[];

  const cases = [
    { tx: "erc3156", protocol: "erc3156", lender: "tokenA", source: "trace", assets: [{ token: "tokenA", amount: parseEther("100") }] },
    { tx: "aaveLoan", protocol: "aave", lender: "aave", source: "trace+log", assets: [{ token: "tokenA", amount: parseEther("100") }] },
    { tx: "balancerLoan", protocol: "balancer", lender: "balancer", source: "trace+log", assets: [{ token: "tokenB", amount: parseEther("100") }] },
    { tx: "uniswapV2", protocol: "uniswap-v2", lender: "pairV2", source: "trace", assets: [{ amount: parseEther("100") }] },
    { tx: "uniswapV3", protocol: "uniswap-v3", lender: "poolV3", source: "trace+log", assets: [{ amount: parseEther("100") }, { amount: parseEther("100") }] },
  ] as const;

  for (const c of cases) {
    it(`recognises ${c.protocol} flash loans used against the protected bank`, async () => {
      const findings = await runBlocks(createFromFixture(flashLoanDetector, fx), [fx.blockOf(c.tx)]);
      expect(findings).to.have.length(1);
      const [f] = findings;
      expect(f.severity).to.equal("high");
      expect(f.txHash).to.equal(fx.label(c.tx));
      expect(f.contract).to.equal(fx.label("bank"));
      expect(f.evidence).to.include({ txStatus: "success", repaid: true });
      expect(f.evidence.protocols).to.deep.equal([c.protocol]);
      expect(f.evidence.protectedInsideCallback).to.deep.equal([fx.label("bank")]);
      const [loan] = loansOf(f.evidence);
      expect(loan).to.include({ protocol: c.protocol, lender: fx.label(c.lender), borrower: fx.label("borrower"), source: c.source });
      expect(loan.assets).to.deep.equal(
        c.assets.map((a) => ({ ...("token" in a ? { token: fx.label(a.token) } : {}), amount: a.amount.toString() })),
      );
    });
  }

  it("reports a flash loan whose transaction reverted, as not repaid", async () => {
    const [f] = await runBlocks(createFromFixture(flashLoanDetector, fx), [fx.blockOf("revertedLoan")]);
    expect(f.evidence).to.include({ txStatus: "reverted", repaid: false });
    expect(f.title).to.match(/\(reverted\)$/);
    expect(loansOf(f.evidence)[0]).to.include({ protocol: "aave", reverted: true, source: "trace" });
  });

  it("gives a loan that only passes through a protected lender the lower severity", async () => {
    const [f] = await runBlocks(createFromFixture(flashLoanDetector, fx), [fx.blockOf("untouchedLoan")]);
    expect(f.severity).to.equal("medium");
    expect(f.evidence.protectedInsideCallback).to.deep.equal([]);
    expect(f.evidence.touched).to.deep.equal([fx.label("aave")]);
    const none = await runBlocks(createFromFixture(flashLoanDetector, fx, { outsideSeverity: null }), [fx.blockOf("untouchedLoan")]);
    expect(none).to.deep.equal([]);
  });

  it("stays quiet on a plain deposit", async () => {
    expect(await runBlocks(createFromFixture(flashLoanDetector, fx), [fx.blockOf("plainDeposit")])).to.deep.equal([]);
  });

  it("watches only the protocols it is given", async () => {
    const findings = await runBlocks(createFromFixture(flashLoanDetector, fx, { protocols: ["balancer"] }), fx.blocks);
    expect(findings.map((f) => f.txHash)).to.deep.equal([fx.label("balancerLoan")]);
  });

  it("recognises Aave V2's FlashLoan event layout as well as V3's", async () => {
    const block = structuredClone(fx.blockOf("aaveLoan")) as BlockContext;
    const tx = block.transactions[0];
    tx.trace = null;
    const v2 = new Interface([
      "event FlashLoan(address indexed target, address indexed initiator, address indexed asset, uint256 amount, uint256 premium, uint16 referralCode)",
    ]);
    const encoded = v2.encodeEventLog("FlashLoan", [fx.label("borrower"), fx.label("borrower"), fx.label("tokenA"), parseEther("100"), parseEther("0.05"), 0]);
    const original = tx.logs.findIndex((l) => l.address === fx.label("aave"));
    tx.logs[original] = { ...tx.logs[original], topics: encoded.topics, data: encoded.data };
    const [f] = await runBlocks(createFromFixture(flashLoanDetector, fx), [block]);
    expect(loansOf(f.evidence)[0]).to.deep.include({ protocol: "aave", source: "log", assets: [{ token: fx.label("tokenA"), amount: parseEther("100").toString() }] });
  });

  it("recognises a loan from the lender's event alone when the node gave no trace", async () => {
    const block = structuredClone(fx.blockOf("aaveLoan")) as BlockContext;
    block.transactions[0].trace = null;
    const [f] = await runBlocks(createFromFixture(flashLoanDetector, fx), [block]);
    expect(loansOf(f.evidence)[0]).to.include({ protocol: "aave", source: "log", lender: fx.label("aave") });
    // Without a trace it cannot tell whether the bank was called during the loan.
    expect(f.severity).to.equal("medium");
  });
});
