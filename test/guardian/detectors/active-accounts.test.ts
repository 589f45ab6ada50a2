import { expect } from "chai";
import { activeAccountsDetector } from "../../../guardian/detectors/active-accounts";
import { readBlockFixture } from "./block-fixtures";
import { createFromFixture, runBlocks, runBlocksPersisting } from "./detector-harness";

describe("active-accounts detector", () => {
  const fx = readBlockFixture("activity");
  const params = { windowBlocks: 10, factor: 3, minCount: 4, baselineHalfLifeBlocks: 50, warmupBlocks: 20 };
  const burstBlock = (i: number) => fx.blockOf(`burst${i * 3}`);

  it("flags the account that bursts far above its baseline, once per window, and not the regular users", async () => {
    const findings = await runBlocks(createFromFixture(activeAccountsDetector, fx, params), fx.blocks);
    expect(findings).to.have.length(1);
    const [f] = findings;
    expect(f.evidence.account).to.equal(fx.label("burster"));
    // Three deposits in the first burst block are below minCount; the second block makes six.
    expect(f.blockNumber).to.equal(burstBlock(1).number);
    expect(f.evidence).to.include({ windowCount: 6, baselinePerWindow: 0, threshold: 3, ratio: null });
    expect(f.evidence.contracts).to.deep.equal({ [fx.label("bank")]: 6 });
    expect(f.txHash).to.equal(fx.label("burst3"));
    expect(f.severity).to.equal("medium");
  });

  it("holds regular users to their own baseline: a low factor flags them, a fair one does not", async () => {
    const strict = await runBlocks(createFromFixture(activeAccountsDetector, fx, { ...params, factor: 0.5, minCount: 2 }), fx.blocks);
    expect(strict.map((f) => f.evidence.account)).to.include(fx.label("regular1"));
    const regular = await runBlocks(createFromFixture(activeAccountsDetector, fx, { ...params, minCount: 2 }), fx.blocks);
    expect(regular.map((f) => f.evidence.account)).to.not.include(fx.label("regular1"));
  });

  it("learns baselines for regular users close to their real rates", async () => {
    const findings = await runBlocks(createFromFixture(activeAccountsDetector, fx, { ...params, factor: 0.5, minCount: 2 }), fx.blocks);
    const lastOf = (account: string) => findings.filter((f) => f.evidence.account === fx.label(account)).at(-1)!;
    // regular1 deposits every second block (five per 10-block window), regular2 every fifth (two).
    expect(lastOf("regular1").evidence.baselinePerWindow as number).to.be.within(4.8, 5.3);
    expect(lastOf("regular2").evidence.baselinePerWindow as number).to.be.within(1.9, 2.4);
  });

  it("stays silent during warm-up", async () => {
    const findings = await runBlocks(createFromFixture(activeAccountsDetector, fx, { ...params, warmupBlocks: fx.blocks.length }), fx.blocks);
    expect(findings).to.deep.equal([]);
  });

  it("rewinds an orphaned burst exactly, and finds it again on the new branch", async () => {
    const d = createFromFixture(activeAccountsDetector, fx, params);
    const cut = fx.blocks.findIndex((b) => b.number === burstBlock(0).number);
    await runBlocks(d, fx.blocks.slice(0, cut));
    const saved = JSON.stringify(d.saveState!());
    const first = await runBlocks(d, fx.blocks.slice(cut));
    d.rewind!(burstBlock(0).number - 1);
    expect(JSON.stringify(d.saveState!())).to.equal(saved);
    expect(await runBlocks(d, fx.blocks.slice(cut))).to.deep.equal(first);
  });

  it("restarts exactly from saved state", async () => {
    const uninterrupted = await runBlocks(createFromFixture(activeAccountsDetector, fx, params), fx.blocks);
    const before = createFromFixture(activeAccountsDetector, fx, params);
    await runBlocks(before, fx.blocks.slice(0, 55));
    const after = createFromFixture(activeAccountsDetector, fx, params);
    after.loadState!(JSON.parse(JSON.stringify(before.saveState!())));
    expect(await runBlocks(after, fx.blocks.slice(55))).to.deep.equal(uninterrupted);
  });

  it("persists only the entries each block changed, and restarts exactly from them", async () => {
    const shallow = { ...params, reorgDepth: 5 };
    const uninterrupted = await runBlocks(createFromFixture(activeAccountsDetector, fx, shallow), fx.blocks);
    const stored: Record<string, unknown> = {};
    const before = createFromFixture(activeAccountsDetector, fx, shallow);
    const { findings, written } = await runBlocksPersisting(before, fx.blocks.slice(0, 55), stored);
    // Blocks that left the window and the reorg depth were deleted from the store, not just from memory.
    expect(Object.keys(stored).filter((k) => k.startsWith("block:"))).to.have.length(shallow.windowBlocks + shallow.reorgDepth);
    // A block writes its own entry, the meta entry and the few baselines it moved, not the window.
    expect(Math.max(...written.slice(-10))).to.be.below(8);
    expect(stored).to.deep.equal(JSON.parse(JSON.stringify(before.saveState!())));
    const after = createFromFixture(activeAccountsDetector, fx, shallow);
    after.loadState!(stored);
    expect([...findings, ...(await runBlocks(after, fx.blocks.slice(55)))]).to.deep.equal(uninterrupted);
  });

  it("ignores listed accounts", async () => {
    const findings = await runBlocks(createFromFixture(activeAccountsDetector, fx, { ...params, ignoreAccounts: [fx.label("burster")] }), fx.blocks);
    expect(findings).to.deep.equal([]);
  });
});
