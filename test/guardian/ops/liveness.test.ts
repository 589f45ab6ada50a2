import { expect } from "chai";
import pino from "pino";
import type { FindingSink } from "../../../guardian/decisions/types";
import type { Finding } from "../../../guardian/detectors/types";
import type { ChainHealth } from "../../../guardian/ops/health-server";
import { LivenessWatch, livenessConfigSchema } from "../../../guardian/ops/liveness";
import { GuardianMetrics } from "../../../guardian/ops/metrics";

describe("LivenessWatch", function () {
  function setup() {
    let now = 1_000_000;
    const health: ChainHealth = { chainId: 31337, head: 100, cursor: 100, lastBlockAt: now };
    const seen: Finding[] = [];
    const sink: FindingSink = { name: "recorder", async onFindings(f) { seen.push(...f); } };
    const metrics = new GuardianMetrics();
    const watch = new LivenessWatch(livenessConfigSchema.parse({ maxLagBlocks: 3, maxLagSeconds: 20, heartbeatSeconds: 60 }), { health, metrics, sinks: [sink], logger: pino({ level: "silent" }), now: () => now });
    return { health, seen, metrics, watch, advance: (ms: number) => (now += ms), at: () => now };
  }

  it("alerts once when the cursor falls more than N blocks behind the head, and again only after it caught up", async function () {
    const { health, seen, watch } = setup();
    expect(await watch.check()).to.deep.equal([]);
    health.head = 104;
    const [behind] = await watch.check();
    expect(behind).to.deep.include({ detectorId: "liveness", severity: "high" });
    expect(behind.evidence).to.deep.include({ kind: "behind", lagBlocks: 4, head: 104, cursor: 100 });
    expect(await watch.check(), "same episode: no second alert").to.deep.equal([]);
    health.cursor = 104;
    await watch.check();
    health.head = 110;
    expect((await watch.check()).map((f) => f.evidence.kind)).to.deep.equal(["behind"]);
    expect(seen).to.have.length(2);
  });

  it("alerts when one block has been behind for longer than the allowed seconds", async function () {
    const { health, watch, advance } = setup();
    health.head = 101;
    expect(await watch.check()).to.deep.equal([]);
    advance(21_000);
    const [late] = await watch.check();
    expect(late.evidence).to.deep.include({ kind: "behind", lagBlocks: 1, lagSeconds: 21 });
  });

  it("raises a heartbeat alert when nothing was processed for the configured time, and shows both gauges", async function () {
    const { health, watch, advance, metrics, at } = setup();
    advance(61_000);
    const [silent] = await watch.check();
    expect(silent.evidence).to.deep.include({ kind: "heartbeat", idleSeconds: 61 });
    const text = await metrics.registry.metrics();
    expect(text).to.match(/failsafe_seconds_since_last_block\{chain="31337"\} 61/);
    expect(text).to.match(/failsafe_head_lag_seconds\{chain="31337"\} 0/);
    health.lastBlockAt = at();
    expect(await watch.check()).to.deep.equal([]);
  });

  it("alerts at the next check, not after the heartbeat, when the chain is critical (its store deleted), once per episode", async function () {
    const { health, watch, seen } = setup();
    health.critical = ["the guardian store /var/lib/failsafe/guardian.sqlite was deleted or replaced while running"];
    const [lost] = await watch.check();
    expect(lost).to.deep.include({ detectorId: "liveness", severity: "high" });
    expect(lost.title).to.match(/^guardian critical: the guardian store .* deleted or replaced/);
    expect(lost.evidence).to.deep.include({ kind: "critical", problems: health.critical });
    expect(await watch.check(), "same episode").to.deep.equal([]);
    health.critical = [];
    await watch.check();
    health.critical = ["again"];
    expect((await watch.check()).map((f) => f.evidence.kind)).to.deep.equal(["critical"]);
    expect(seen.map((f) => f.evidence.kind)).to.deep.equal(["critical", "critical"]);
  });
});
