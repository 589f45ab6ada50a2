import { expect } from "chai";
import { renderTripOutcome } from "../../../guardian/commands/trip";
import type { TripOutcome } from "../../../guardian/responders/types";

/**
 * `failsafe trip` quotes text the operator does not control: a relay's error, a revert string. A hostile
 * relay or contract must not be able to move the cursor, clear the screen or forge lines in the terminal.
 */
describe("failsafe trip output: quoted chain and relay text is escaped", () => {
  it("control sequences and newlines in the error and timeline details print as visible escapes", () => {
    const outcome: TripOutcome = {
      status: "failed",
      incidentId: "0x" + "ab".repeat(32),
      breaker: "0x" + "11".repeat(20),
      bundleHashes: [],
      error: "relay said \u001b[2J\u001b[Hincluded\nstatus: included",
      timeline: [{ step: "failed", at: "2026-12-05T00:00:00Z", ms: 12, detail: "revert: \u001b]0;owned\u0007ok\r\nfake line" }],
    };
    const text = renderTripOutcome({ incidentId: outcome.incidentId, name: "bank\u001b[31m", breaker: outcome.breaker, chainId: 31337 }, outcome, { report: "/tmp/r.md" });
    expect(text).to.not.match(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(text.split("\n").filter(Boolean)).to.have.length(4);
    expect(text).to.include("\\x1b[2J");
    expect(text).to.include("bank\\x1b[31m (0x1111111111111111111111111111111111111111) on chain 31337: failed");
    expect(text).to.match(/\+ {3}12 ms {2}failed/);
  });
});
