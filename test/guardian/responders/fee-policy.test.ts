import { expect } from "chai";
import { FeePolicy, feeParamsSchema, gweiToWei } from "../../../guardian/responders/fee-policy";

const GWEI = 10n ** 9n;

describe("FeePolicy", function () {
  it("starts at the configured priority fee and bumps by the configured percent up to the cap", function () {
    const policy = new FeePolicy(feeParamsSchema.parse({ priorityFeeGwei: 2, bumpPercent: 25, maxPriorityFeeGwei: 3 }));
    const tips: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      tips.push(policy.current(10n * GWEI)!.maxPriorityFeePerGas);
      policy.bump();
    }
    expect(tips).to.deep.equal([2n * GWEI, 2_500_000_000n, 3n * GWEI, 3n * GWEI, 3n * GWEI]);
    expect(policy.bump()).to.equal(false);
  });

  it("keeps the max fee under its cap and sends nothing while the base fee alone reaches it", function () {
    const policy = new FeePolicy(feeParamsSchema.parse({ priorityFeeGwei: 2, maxPriorityFeeGwei: 5, maxFeeGwei: 30 }));
    expect(policy.current(10n * GWEI)).to.deep.equal({ maxPriorityFeePerGas: 2n * GWEI, maxFeePerGas: 22n * GWEI });
    expect(policy.current(20n * GWEI)).to.deep.equal({ maxPriorityFeePerGas: 2n * GWEI, maxFeePerGas: 30n * GWEI });
    expect(policy.current(29n * GWEI)).to.deep.equal({ maxPriorityFeePerGas: 1n * GWEI, maxFeePerGas: 30n * GWEI });
    expect(policy.current(30n * GWEI)).to.equal(undefined);
  });

  it("outbids an attacker's effective tip, and says so when the cap stops it", function () {
    const params = feeParamsSchema.parse({ priorityFeeGwei: 1, maxPriorityFeeGwei: 20, outbidPercent: 10 });
    const above = new FeePolicy(params, { maxPriorityFeePerGas: 10n * GWEI });
    expect(above.current(GWEI)!.maxPriorityFeePerGas).to.equal(11n * GWEI + 1n);
    expect(above.outbidCapped).to.equal(false);
    // The attacker's tip is limited by its max fee: 12 gwei max fee - 4 gwei base fee = 8 gwei.
    const limited = new FeePolicy(params, { maxPriorityFeePerGas: 10n * GWEI, maxFeePerGas: 12n * GWEI }, 4n * GWEI);
    expect(limited.current(4n * GWEI)!.maxPriorityFeePerGas).to.equal(8_800_000_001n);
    const capped = new FeePolicy(params, { maxPriorityFeePerGas: 50n * GWEI });
    expect(capped.current(GWEI)!.maxPriorityFeePerGas).to.equal(20n * GWEI);
    expect(capped.outbidCapped).to.equal(true);
  });

  it("rejects caps below the starting fee, naming the field", function () {
    const parsed = feeParamsSchema.safeParse({ priorityFeeGwei: 5, maxPriorityFeeGwei: 2 });
    expect(parsed.success).to.equal(false);
    expect(parsed.error?.issues[0].path).to.deep.equal(["maxPriorityFeeGwei"]);
  });

  it("converts fractional gwei exactly", function () {
    expect(gweiToWei(0.1)).to.equal(100_000_000n);
    expect(gweiToWei(1.5)).to.equal(1_500_000_000n);
  });
});
