import { expect } from "chai";
import { BlockDeadlineExceeded, TraceBudget, TraceLimiter, degradedBlockFinding, withDeadline } from "../../../guardian/context/block-deadline";

describe("block deadline machinery", function () {
  it("derives the deadline from the block time seen (half of it, within [500, 6000] ms) unless configured", function () {
    const budget = new TraceBudget();
    expect(budget.deadlineMs()).to.equal(2_000);
    for (const t of [100, 112, 124, 136]) budget.observeTimestamp(t);
    expect(budget.deadlineMs()).to.equal(6_000);
    const fast = new TraceBudget();
    for (const t of [100, 101, 102]) fast.observeTimestamp(t);
    expect(fast.deadlineMs()).to.equal(500);
    expect(new TraceBudget(1_500).deadlineMs()).to.equal(1_500);
  });

  it("predicts linearly up to the largest block traced and quadratically beyond, and never under-guesses a timed-out block again", function () {
    const budget = new TraceBudget(2_000);
    budget.record("block", 100, 300); // 3 ms per transaction
    expect(budget.predictMs("block", 100)).to.equal(300);
    // 500 reverted calls: five times the largest block seen, so 25 times the cost, not 5.
    expect(budget.predictMs("block", 500)).to.equal(7_500);
    budget.penalize("block", 150, 2_000);
    expect(budget.predictMs("block", 150)).to.be.at.least(3_000);
  });

  it("gives up waiting at the deadline, and runs at most `limit` heavy traces at once, in order", async function () {
    const never = new Promise<never>(() => undefined);
    const err = await withDeadline(never, 20, "debug_traceBlockByHash").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BlockDeadlineExceeded);
    expect((err as Error).message).to.equal("debug_traceBlockByHash: not answered within the block deadline of 20 ms");

    const limiter = new TraceLimiter(2);
    let inFlight = 0;
    let most = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const runs = [0, 1, 2, 3, 4].map((i) =>
      limiter.run(async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        order.push(i);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight--;
      }),
    );
    while (order.length < 5) {
      await new Promise((r) => setImmediate(r));
      releases.shift()?.();
    }
    releases.forEach((r) => r());
    await Promise.all(runs);
    expect(most).to.equal(2);
    expect(order).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it("names what was not seen in the degraded-block finding", function () {
    const f = degradedBlockFinding({ chainId: 1, number: 7, hash: `0x${"ab".repeat(32)}` }, { reason: "r", deadlineMs: 1_000, transactions: 500, traced: 2, untraced: 498, attempts: ["trace_block: not served by this node"] });
    expect(f).to.deep.include({ detectorId: "degraded-block", severity: "high", blockNumber: 7 });
    expect(f.title).to.equal("block 7 only partly traced: 498 of 500 transactions seen by receipts and logs alone");
    expect(f.evidence.attempts).to.deep.equal(["trace_block: not served by this node"]);
  });
});
