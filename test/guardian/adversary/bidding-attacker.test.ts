import { expect } from "chai";
import { ATTACKER_BUNDLE_TIP, biddingAttacker } from "../../../scripts/scenarios/adaptive";
import { describeResult } from "../../../scripts/scenarios/scenarios";
import type { Pacing } from "../../../scripts/scenarios/lab";
import { tripBid, bidParamsSchema } from "../../../guardian/responders/trip-bid";

const GWEI = 10n ** 9n;
const ETH = 10n ** 18n;
const pacing: Pacing = { mode: "guardian", maxSlotMs: 12_000 };

describe("adaptive attacker: outbidding the trip", function () {
  this.timeout(120_000);

  it("the trip's first bid beats follow-up attack bundles tipping 600 gwei: it lands first in the block after detection, >= 90% saved", async function () {
    const r = await biddingAttacker(true)({ pacing });
    console.log(`      ${describeResult(r)}; trip tip ${r.facts.tripPriorityFeePerGas} wei/gas vs attacker ${r.facts.attackerPriorityFeePerGas}`);
    expect(r.blocksToTrip).to.equal(1);
    expect(r.facts.tripFirstInBlock).to.equal(true);
    expect((r.facts.followUps as { landed: boolean }[]).map((f) => f.landed)).to.deep.equal([false, false, false]);
    expect(BigInt(r.facts.tripPriorityFeePerGas as string)).to.be.greaterThan(ATTACKER_BUNDLE_TIP);
    expect(r.savedPct).to.be.at.least(90);
  });

  it("bids from the value at risk, outbids competing tips, and never pays above its caps", function () {
    const params = bidParamsSchema.parse({});
    // 100 ETH at risk over 80,000 gas: 0.2 % of it is 2,500 gwei per gas; the cap (2 % = 2 ETH, above maxEth 1) is 12,500.
    const base = { gasLimit: 80_000n, valueAtRisk: 100n * ETH, competingTips: [600n * GWEI], minimumTip: 2n * GWEI };
    expect(tripBid(params, base)).to.deep.include({ tip: 2_500n * GWEI, tipCap: 12_500n * GWEI, reason: "value-at-risk" });
    expect(tripBid(params, { ...base, competingTips: [4_000n * GWEI] })).to.deep.include({ tip: 5_000n * GWEI + 1n, reason: "outbid" });
    expect(tripBid(params, { ...base, competingTips: [40_000n * GWEI] })).to.deep.include({ tip: 12_500n * GWEI, reason: "cap" });
    // Little at risk: the operator's minimum still applies, and it is also the cap.
    expect(tripBid(params, { ...base, valueAtRisk: 10n ** 12n, competingTips: [] })).to.deep.include({ tip: 2n * GWEI, tipCap: 2n * GWEI, reason: "minimum" });
  });
});
