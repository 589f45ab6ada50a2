import { expect } from "chai";
import type { BlockContext, CallFrame } from "../../../guardian/context/types";
import { failsafeWatchDetector } from "../../../guardian/detectors/failsafe-watch";
import { readBlockFixture } from "./block-fixtures";
import { createFromFixture, runBlocks } from "./detector-harness";

describe("failsafe-watch detector", () => {
  const fx = readBlockFixture("failsafe");
  const run = (blocks: BlockContext[], params: unknown = {}) => runBlocks(createFromFixture(failsafeWatchDetector, fx, params), blocks);

  it("reports the guardian's trip with the incident and expiry", async () => {
    const [f] = await run([fx.blockOf("trip")]);
    expect(f).to.include({ severity: "high", contract: fx.label("vault"), txHash: fx.label("trip") });
    expect(f.evidence.event).to.equal("Tripped");
    expect(f.evidence.args).to.include({ incidentId: fx.label("incident"), guardian: fx.label("guardian") });
    expect(Number((f.evidence.args as { expiresAt: string }).expiresAt)).to.be.greaterThan(fx.blockOf("trip").timestamp);
  });

  it("accepts changes executed through the timelock, naming the operation", async () => {
    const findings = await run([fx.blockOf("executeLift"), fx.blockOf("executeLimit"), fx.blockOf("executeGrant")]);
    expect(findings.map((f) => [f.evidence.event, f.severity, f.evidence.scheduled])).to.deep.equal([
      ["Lifted", "info", true],
      ["OutflowLimitSet", "info", true],
      ["RoleGranted", "info", true],
    ]);
    for (const f of findings) {
      expect(f.evidence.origin).to.equal("timelock");
      expect(f.evidence.operationId).to.match(/^0x[0-9a-f]{64}$/);
      const callers = f.evidence.callers as { to: string }[];
      expect(callers.map((c) => c.to)).to.deep.equal([fx.label("timelock"), fx.label("vault")]);
    }
  });

  it("flags changes that bypassed the timelock as critical", async () => {
    const findings = await run([fx.blockOf("directGrant"), fx.blockOf("rogueChange")]);
    expect(findings.map((f) => [f.evidence.event, f.contract, f.severity, f.evidence.origin])).to.deep.equal([
      ["RoleGranted", fx.label("timelock"), "critical", "unscheduled"],
      ["TripDurationSet", fx.label("vault"), "critical", "unscheduled"],
    ]);
    expect(findings[1].evidence.args).to.deep.equal({ previousDuration: "86400", duration: "3600" });
    expect(findings[1].evidence.from).to.equal(fx.label("rogue"));
  });

  it("does not count a CallExecuted whose call the trace does not show coming from execute", async () => {
    const block = structuredClone(fx.blockOf("executeLift")) as BlockContext;
    const root = block.transactions[0].trace!;
    // The timelock's call into the vault now carries different calldata than CallExecuted reports.
    const tamper = (frame: CallFrame): void => {
      if (frame.to === fx.label("vault")) frame.input = `${frame.input.slice(0, -2)}ff`;
      frame.calls.forEach(tamper);
    };
    tamper(root);
    const [f] = await run([block]);
    expect(f).to.include({ severity: "critical" });
    expect(f.evidence.origin).to.equal("unscheduled");
  });

  it("reports proposals on the timelock, and ignores the deployment's initial settings", async () => {
    const findings = await run([fx.blockOf("vaultDeployment"), fx.blockOf("scheduleLift")]);
    expect(findings.map((f) => [f.evidence.event, f.severity])).to.deep.equal([["CallScheduled", "low"]]);
    expect((findings[0].evidence.args as { target: string }).target).to.equal(fx.label("vault"));
  });

  it("runs on the whole recording with configurable severities", async () => {
    const findings = await run(fx.blocks, { scheduledChangeSeverity: null, proposalSeverity: null, unscheduledChangeSeverity: "high" });
    expect(findings.map((f) => [f.evidence.event, f.severity])).to.deep.equal([
      ["Tripped", "high"],
      ["RoleGranted", "high"],
      ["TripDurationSet", "high"],
    ]);
  });

  it("finds the timelock by name, or explains what to configure", () => {
    expect(() => createFromFixture(failsafeWatchDetector, fx, { timelock: "governance" })).to.throw(
      'detector failsafe-watch: timelock: "governance" is neither an address nor a protected contract (known: vault, timelock)',
    );
    expect(() => createFromFixture(failsafeWatchDetector, fx, { timelock: "timelock" })).to.not.throw();
  });
});
