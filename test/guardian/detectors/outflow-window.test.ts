import { expect } from "chai";
import { humanTitle } from "../../../guardian/reports/governor-report-units";
import { parseEther } from "ethers";
import { outflowWindowDetector } from "../../../guardian/detectors/outflow-window";
import { readBlockFixture } from "./block-fixtures";
import { createFromFixture, runBlocks } from "./detector-harness";

describe("outflow-window detector", () => {
  const fx = readBlockFixture("reentrancy");
  const params = { windows: [{ duration: "1h", maxShare: 0.2 }] };

  it("counts what left beyond each account's own deposits, relative to holdings at the window's start or now, whichever is larger", async () => {
    const findings = await runBlocks(createFromFixture(outflowWindowDetector, fx, params), fx.blocks);
    // The honest 1 ETH withdrawal is covered by its own deposit; the attacker took 10 ETH it never put in
    // (12 paid out, its 2 ETH stake in the same transaction nets). The bank was empty when the window
    // opened, so the share is of what it holds now: 10 of 10.
    expect(findings).to.have.length(1);
    const [f] = findings;
    expect(f).to.include({ detectorId: "outflow-window", severity: "critical", txHash: fx.label("attack"), contract: fx.label("bank") });
    const [w] = f.evidence.windows as Record<string, unknown>[];
    expect(w).to.include({ windowSeconds: 3600, measured: parseEther("10").toString(), holdingsAtStart: "0", denominator: parseEther("10").toString(), share: "1.000000", accounts: 1, covered: false });
    // The amount in the form reports turn into "10 ETH", the share as a percentage, the window as configured.
    expect(f.title).to.match(/^Outflow over a time window from bank: 10000000000000000000 wei, 100\.00% of its holdings, within 1 h$/);
    expect(humanTitle(f.title, new Map())).to.equal("Outflow over a time window from bank: 10 ETH, 100.00% of its holdings, within 1 h");
  });

  it("parses durations and refuses a window without a limit, naming what is wrong", () => {
    expect(outflowWindowDetector.params.parse({ windows: [{ duration: "10m", maxShare: 0.1 }] }).windows[0].duration).to.equal(600);
    const bad = outflowWindowDetector.params.safeParse({ windows: [{ duration: "soon", maxShare: 0.1 }, { duration: 60 }] });
    expect(bad.success).to.equal(false);
    expect(bad.error!.issues.map((i) => i.message)).to.include.members(['expected a duration such as 10m, 1h or 24h, got "soon"', "set maxShare, maxAmount or both"]);
  });

  it("resumes from its saved state through JSON with the same findings, and a rewound block counts once", async () => {
    const whole = await runBlocks(createFromFixture(outflowWindowDetector, fx, params), fx.blocks);
    const first = createFromFixture(outflowWindowDetector, fx, params);
    const cut = fx.blocks.findIndex((b) => b.hash === fx.blockOf("attack").hash);
    await runBlocks(first, fx.blocks.slice(0, cut));
    const resumed = createFromFixture(outflowWindowDetector, fx, params);
    resumed.loadState!(JSON.parse(JSON.stringify(first.saveState!())));
    const rest = fx.blocks.slice(cut);
    // The attack block twice: a replay after a restart before the cursor moved.
    const again = await runBlocks(resumed, [rest[0], ...rest]);
    expect(again.map((f) => f.id)).to.deep.equal([whole[0].id, whole[0].id]);
    expect(again[1].evidence).to.deep.equal(whole[0].evidence);
  });
});
