import { expect } from "chai";
import { detectorRegistry, findDetector } from "../../../guardian/detectors/registry";

describe("detector registry", () => {
  it("lists every detector of the guardian once, each with a description", () => {
    expect(detectorRegistry.map((d) => d.id)).to.have.members([
      "reentrancy",
      "invariant",
      "outflow-spike",
      "active-accounts",
      "flash-loan",
      "failsafe-watch",
      "reorg",
      "outflow-window",
      "allowance",
      "exploit-deployment",
      "privileged-change",
      "repeated-calls",
    ]);
    expect(new Set(detectorRegistry.map((d) => d.id)).size).to.equal(detectorRegistry.length);
    for (const d of detectorRegistry) expect(d.description.length, d.id).to.be.greaterThan(20);
  });

  it("enables detectors without required settings with `true` (empty params), and refuses unknown keys", () => {
    for (const id of ["reentrancy", "active-accounts", "flash-loan", "failsafe-watch", "reorg", "outflow-window", "allowance", "exploit-deployment", "privileged-change", "repeated-calls"]) {
      expect(findDetector(id)!.params.safeParse({}).success, id).to.equal(true);
      expect(findDetector(id)!.params.safeParse({ severety: "high" }).success, id).to.equal(false);
    }
    // These need to be told what to check.
    expect(findDetector("invariant")!.params.safeParse({}).success).to.equal(false);
    expect(findDetector("outflow-spike")!.params.safeParse({}).success).to.equal(false);
  });
});
