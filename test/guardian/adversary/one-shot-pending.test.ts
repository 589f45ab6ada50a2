import { expect } from "chai";
import { oneShotFlashLoan, oneShotReadOnlyReentrancy } from "../../../scripts/scenarios/adaptive";
import { describeResult } from "../../../scripts/scenarios/scenarios";
import type { Pacing } from "../../../scripts/scenarios/lab";

/**
 * One-shot attacks sent to the public mempool (issue 12, part 2). The exploit contracts run once only, so a
 * simulation on a state that already holds the attack's own effects sees a revert at its first line and nothing
 * else. The guardian must simulate on the latest mined state, flag the attack while it is pending and land the
 * trip ahead of it in the same block: nothing lost.
 */
const pacing: Pacing = { mode: "guardian", maxSlotMs: 12_000 };

describe("adaptive attacker: one-shot attacks in the public mempool", function () {
  this.timeout(120_000);

  for (const [name, scenario, detector] of [
    ["a one-shot read-only reentrancy", oneShotReadOnlyReentrancy, "reentrancy"],
    ["a one-shot flash-loan price manipulation", oneShotFlashLoan, "flash-loan"],
  ] as const) {
    it(`catches ${name} while pending and trips ahead of it: 0 lost`, async function () {
      const r = await scenario({ pacing });
      console.log(`      ${describeResult(r)}; pending findings ${(r.facts.pendingFindings as string[]).join(", ") || "none"}`);
      expect(r.facts.pendingFindings as string[], "critical finding on the pending transaction").to.include(`${detector}:critical`);
      // Filed against the victim, the lender whose ether is at risk (for the read-only reentrancy: the contract
      // that acted on the stale read, not the pool it read); the breaker configured for the pool still trips it.
      expect(r.facts.pendingFindingContracts as string[], "pending findings filed against the lender").to.include(r.facts.lender);
      expect(r.facts.simulationBasis).to.equal("latest");
      expect((r.facts.attempt as { ok: boolean }).ok, "the attack reverts").to.equal(false);
      expect(r.facts.tripAheadOfAttack, "trip ahead of the attack in its block").to.equal(true);
      expect(r.blocksToTrip).to.equal(0);
      expect(r.fundsSaved).to.equal(r.fundsAtRisk);
      expect(r.savedPct).to.equal(100);
    });
  }
});
