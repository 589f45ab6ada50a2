import { expect } from "chai";
import { decide } from "../../../guardian/decisions/policy";
import { policyConfigSchema } from "../../../guardian/decisions/policy-config";
import { makeFinding } from "../../../guardian/detectors/finding";
import type { Severity } from "../../../guardian/detectors/types";

const VAULT = "0x" + "11".repeat(20);
const OTHER = "0x" + "22".repeat(20);

function finding(detectorId: string, severity: Severity, contract = VAULT) {
  return makeFinding({
    detectorId,
    severity,
    title: `${detectorId} ${severity}`,
    block: { chainId: 31337, number: 5, hash: "0x" + "ab".repeat(32) },
    contract,
    subject: `${detectorId}:${severity}:${contract}`,
    evidence: {},
  });
}

describe("decide", function () {
  it("trips on critical findings and only alerts on the rest by default", function () {
    const policy = policyConfigSchema.parse({});
    expect(policy.dryRun).to.equal(false);
    expect(decide(finding("reentrancy", "critical"), policy)).to.deep.equal({ action: "trip", rule: "default" });
    for (const s of ["info", "low", "medium", "high"] as const) expect(decide(finding("reentrancy", s), policy).action).to.equal("alert");
  });

  it("lets the first matching rule decide, by detector, severity and contract name or address", function () {
    const policy = policyConfigSchema.parse({
      rules: [
        { detectors: ["reorg"], action: "alert" },
        { detectors: ["outflow-spike"], minSeverity: "high", contracts: ["Vault"], action: "trip" },
        { severities: ["medium"], contracts: [OTHER], action: "trip" },
      ],
    });
    expect(decide(finding("reorg", "critical"), policy, "Vault")).to.deep.equal({ action: "alert", rule: 0 });
    expect(decide(finding("outflow-spike", "high"), policy, "Vault")).to.deep.equal({ action: "trip", rule: 1 });
    expect(decide(finding("outflow-spike", "medium"), policy, "Vault")).to.deep.equal({ action: "alert", rule: "default" });
    expect(decide(finding("outflow-spike", "high", OTHER), policy, "Other")).to.deep.equal({ action: "alert", rule: "default" });
    expect(decide(finding("invariant", "medium", OTHER), policy, "Other")).to.deep.equal({ action: "trip", rule: 2 });
  });

  it("can raise the default threshold or lower it", function () {
    expect(decide(finding("x", "high"), policyConfigSchema.parse({ tripSeverity: "high" })).action).to.equal("trip");
    expect(decide(finding("x", "critical"), policyConfigSchema.parse({ rules: [{ minSeverity: "info", action: "alert" }] })).action).to.equal("alert");
  });

  it("rejects unknown keys and bad values at their path", function () {
    const typo = policyConfigSchema.safeParse({ rules: [{ detector: ["x"], action: "trip" }] });
    expect(typo.success).to.equal(false);
    expect(typo.error?.issues[0].path).to.deep.equal(["rules", 0]);
    const action = policyConfigSchema.safeParse({ rules: [{ action: "explode" }] });
    expect(action.error?.issues[0].path).to.deep.equal(["rules", 0, "action"]);
    const breaker = policyConfigSchema.safeParse({ breakers: [{ contract: "Vault", breaker: "0x1234" }] });
    expect(breaker.error?.issues[0].path).to.deep.equal(["breakers", 0, "breaker"]);
  });
});
