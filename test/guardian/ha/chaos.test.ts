import { expect } from "chai";
import { runChaos } from "../../../scripts/ha/chaos";
import { createTestDatabase } from "../../support/postgres";

/**
 * Three guardians on one PostgreSQL store follow anvil while a scripted attack runs once per round and the leader is
 * kill -9'ed at a random point of it (before the finding is committed, after the trip bundle is sent, during alert
 * delivery, at a random instant), 20 times, plus one round where it is paused (SIGSTOP) and woken after a standby
 * took over. `npm run bench:ha` runs the same at 1-second blocks and reports failover times.
 */
describe("three guardians on one PostgreSQL store, the leader killed mid-attack (chaos)", function () {
  this.timeout(900_000);

  it("trips once per attack, opens one incident per trip, delivers every alert once, and misses no block", async () => {
    const kills = Number(process.env.FAILSAFE_CHAOS_KILLS ?? 20);
    const result = await runChaos({ url: await createTestDatabase("chaos"), kills, blockMs: 300, leaseMs: 900, claimMs: 2_000, seed: 0x5eed, log: (l) => console.log(`      ${l}`) });
    console.log(`      failover p50 ${result.failoverP50Ms} ms, max ${result.failoverMaxMs} ms over ${result.kills} rounds`);
    expect(result.kills).to.equal(kills + 1);
    expect(result.rounds.map((r) => r.point)).to.include.members(["before-commit", "after-bundle", "during-alert", "random", "sigstop"]);
    expect(result.missedTrips, "attacks never tripped").to.equal(0);
    expect(result.duplicateTrips, "Tripped events beyond one per attack").to.equal(0);
    expect(result.duplicateIncidents, "incidents beyond one per trip").to.equal(0);
    expect(result.duplicateAlerts, "second trip alerts for one incident").to.equal(0);
    expect(result.undeliveredAlerts, `alerts never delivered: ${result.undelivered.join("; ")}`).to.equal(0);
    expect(result.missedBlocks, "attacks whose block no guardian committed").to.equal(0);
    // Lease 900 ms + one attempt (300 ms) + a block of slack: a failover within about two 1-second block times.
    expect(result.failoverMaxMs).to.be.below(2_000);
  });
});
