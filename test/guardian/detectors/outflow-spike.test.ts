import { expect } from "chai";
import { parseEther } from "ethers";
import { outflowSpikeDetector } from "../../../guardian/detectors/outflow-spike";
import { readBlockFixture } from "./block-fixtures";
import { createFromFixture, runBlocks, runBlocksPersisting } from "./detector-harness";
import { RpcHttpError } from "../../../guardian/chain/errors";
import type { Finding } from "../../../guardian/detectors/types";
import { FIXTURE_DETECTOR_PARAMS } from "./fixtures/detector-params";

describe("outflow-spike detector", () => {
  describe("native value leaving VulnerableBank", () => {
    const fx = readBlockFixture("reentrancy");
    const params = FIXTURE_DETECTOR_PARAMS.reentrancy["outflow-spike"];

    it("fires on the drain with the window total, holdings, share and largest transfers", async () => {
      const findings = await runBlocks(createFromFixture(outflowSpikeDetector, fx, params), fx.blocks);
      expect(findings).to.have.length(1);
      const [f] = findings;
      expect(f.blockNumber).to.equal(fx.blockOf("attack").number);
      expect(f.txHash).to.equal(fx.label("attack"));
      expect(f.contract).to.equal(fx.label("bank"));
      expect(f.severity).to.equal("high");
      // 12 ETH paid out to the attacker minus its 2 ETH stake in the same transaction. The honest 1 ETH
      // withdrawal earlier in the window nets against that account's own 1 ETH deposit (account-net).
      expect(f.evidence).to.include({
        asset: "native",
        measure: "account-net",
        windowTotal: parseEther("10").toString(),
        blockOut: parseEther("10").toString(),
        holdings: parseEther("10").toString(),
        share: "0.500000",
        trigger: "amount+share",
      });
      const largest = f.evidence.largestTransfers as { to: string; amount: string; kind: string }[];
      // account-net lists what each account took net in each transaction: the attacker's 10 ETH, then the
      // honest 1 ETH withdrawal (netted in the total, still shown).
      expect(largest[0]).to.include({ to: fx.label("attacker"), amount: parseEther("10").toString(), kind: "native" });
      expect(largest).to.have.length(2);
    });

    it("counts nothing for the reverted attack and stays under the limits for the honest withdrawal", async () => {
      const d = createFromFixture(outflowSpikeDetector, fx, params);
      expect(await d.onBlock(fx.blockOf("benignWithdraw"))).to.deep.equal([]);
      expect(await d.onBlock(fx.blockOf("revertedAttack"))).to.deep.equal([]);
    });

    it("drops an orphaned block's contribution on rewind, so replaying it does not double count", async () => {
      const d = createFromFixture(outflowSpikeDetector, fx, params);
      const first = await runBlocks(d, fx.blocks.slice(0, 5));
      d.rewind!(fx.blockOf("attack").number - 1);
      const again = await d.onBlock(fx.blockOf("attack"));
      expect(again).to.deep.equal(first);
    });

    it("restarts exactly from saved state", async () => {
      const uninterrupted = await runBlocks(createFromFixture(outflowSpikeDetector, fx, params), fx.blocks);
      const before = createFromFixture(outflowSpikeDetector, fx, params);
      await runBlocks(before, fx.blocks.slice(0, 4));
      const after = createFromFixture(outflowSpikeDetector, fx, params);
      after.loadState!(JSON.parse(JSON.stringify(before.saveState!())));
      expect(await runBlocks(after, fx.blocks.slice(4))).to.deep.equal(uninterrupted);
    });

    it("persists one entry per block and restarts exactly from the stored entries", async () => {
      const uninterrupted = await runBlocks(createFromFixture(outflowSpikeDetector, fx, params), fx.blocks);
      const stored: Record<string, unknown> = {};
      const before = createFromFixture(outflowSpikeDetector, fx, params);
      const { findings, written } = await runBlocksPersisting(before, fx.blocks.slice(0, 4), stored);
      expect(written.slice(1)).to.deep.equal([1, 1, 1]);
      const after = createFromFixture(outflowSpikeDetector, fx, params);
      after.loadState!(stored);
      expect([...findings, ...(await runBlocks(after, fx.blocks.slice(4)))]).to.deep.equal(uninterrupted);
    });

    it("reads holdings when prefetched, before its turn, with the same result; a failed read surfaces in onBlock", async () => {
      const attack = fx.blockOf("attack");
      const plain = await runBlocks(createFromFixture(outflowSpikeDetector, fx, params), fx.blocks);
      const d = createFromFixture(outflowSpikeDetector, fx, params);
      const found: Finding[] = [];
      for (const b of fx.blocks) {
        d.prefetch!(b, Promise.resolve(b), fx.rpc);
        await new Promise((r) => setImmediate(r));
        if (b.number === attack.number) expect(fx.rpc.asked.at(-1), "asked before onBlock").to.contain(attack.hash);
        found.push(...(await d.onBlock(b)));
      }
      expect(found).to.deep.equal(plain);

      const failing = createFromFixture(outflowSpikeDetector, fx, params);
      failing.prefetch!(attack, Promise.reject(new RpcHttpError({ url: "u", method: "eth_getBlockByHash", status: 503, body: "" })), fx.rpc);
      let err: unknown;
      await failing.onBlock(attack).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(RpcHttpError);
      // The failed read was used once and changed nothing; the retry reads for itself.
      const fresh = await createFromFixture(outflowSpikeDetector, fx, params).onBlock(attack);
      expect(fresh).to.have.length(1);
      expect(await failing.onBlock(attack)).to.deep.equal(fresh);
    });

    it("forgets outflow that left the window", async () => {
      const d = createFromFixture(outflowSpikeDetector, fx, { ...params, windowBlocks: 1 });
      const [f] = await runBlocks(d, fx.blocks);
      expect(f.evidence.windowTotal).to.equal(parseEther("10").toString());
    });
  });

  describe("tokens leaving a flash lender", () => {
    const fx = readBlockFixture("flash-loans");
    const params = FIXTURE_DETECTOR_PARAMS["flash-loans"]["outflow-spike"];

    it("in gross mode sees each successful loan from the protected pool as an ERC-20 outflow above the share", async () => {
      const findings = await runBlocks(createFromFixture(outflowSpikeDetector, fx, params), fx.blocks);
      // The two loans are more than the 5-block window apart, so each stands alone at 100 tokens.
      expect(findings.map((f) => f.txHash)).to.deep.equal([fx.label("aaveLoan"), fx.label("untouchedLoan")]);
      expect(findings[1].evidence.windowTotal).to.equal(parseEther("100").toString());
      expect(findings[0].evidence).to.include({
        asset: fx.label("tokenA"),
        contract: fx.label("aave"),
        windowTotal: parseEther("100").toString(),
        trigger: "share",
      });
      expect(findings[0].evidence.largestTransfers).to.deep.equal([
        { block: fx.blockOf("aaveLoan").number, tx: fx.label("aaveLoan"), kind: "erc20", to: fx.label("borrower"), amount: parseEther("100").toString() },
      ]);
    });

    it("in tx-net mode ignores loans that were repaid in the same transaction", async () => {
      const { measure: _gross, ...txNet } = params;
      expect(await runBlocks(createFromFixture(outflowSpikeDetector, fx, txNet), fx.blocks)).to.deep.equal([]);
    });
  });

  describe("parameters", () => {
    it("requires a threshold and explains amounts it cannot read", () => {
      expect(outflowSpikeDetector.params.safeParse({}).success).to.equal(false);
      const bad = outflowSpikeDetector.params.safeParse({ assets: [{ asset: "native", maxAmount: "lots" }] });
      expect(bad.success).to.equal(false);
      expect(JSON.stringify(bad.error?.issues)).to.contain('expected a whole amount in base units, got \\"lots\\"');
      const ok = outflowSpikeDetector.params.parse({ assets: [{ asset: "native", maxAmount: "1.5e18" }] });
      expect(ok.assets[0].maxAmount).to.equal(1_500_000_000_000_000_000n);
    });
  });
});
