import { expect } from "chai";
import { reentrancyDetector } from "../../../guardian/detectors/reentrancy";
import type { BlockContext, CallFrame } from "../../../guardian/context/types";
import { readBlockFixture } from "./block-fixtures";
import { createFromFixture, runBlocks } from "./detector-harness";

const WITHDRAW = "0x3ccfd60b";

describe("reentrancy detector", () => {
  const fx = readBlockFixture("reentrancy");

  it("reports the drain of VulnerableBank with the call path A -> X -> A", async () => {
    const findings = await runBlocks(createFromFixture(reentrancyDetector, fx), [fx.blockOf("attack")]);
    expect(findings).to.have.length(1);
    const [f] = findings;
    expect(f.detectorId).to.equal("reentrancy");
    expect(f.severity).to.equal("critical");
    expect(f.txHash).to.equal(fx.label("attack"));
    expect(f.contract).to.equal(fx.label("bank"));
    expect(f.blockHash).to.equal(fx.blockOf("attack").hash);
    expect(f.evidence.txStatus).to.equal("success");
    expect(f.evidence.reentries).to.equal(5);
    expect(f.evidence.readOnly).to.equal(false);
    expect(f.evidence.selectors).to.deep.equal([WITHDRAW]);
    const firstPath = (f.evidence.paths as { to: string; selector: string; depth: number }[][])[0];
    expect(firstPath.map((p) => [p.to, p.selector])).to.deep.equal([
      [fx.label("bank"), WITHDRAW],
      [fx.label("attacker"), "0x"],
      [fx.label("bank"), WITHDRAW],
    ]);
    expect(f.evidence.depth).to.equal(3);
  });

  it("reports the attack that reverted on its profit check, from the reverted trace", async () => {
    const block = fx.blockOf("revertedAttack");
    expect(block.transactions[0].status).to.equal(0);
    const findings = await runBlocks(createFromFixture(reentrancyDetector, fx), [block]);
    expect(findings).to.have.length(1);
    expect(findings[0].evidence.txStatus).to.equal("reverted");
    expect(findings[0].evidence.reentryReverted).to.equal(true);
    expect(findings[0].title).to.match(/reverted/);
    expect(findings[0].severity).to.equal("critical");
  });

  it("stays quiet on deposits and an honest withdrawal", async () => {
    const quiet = ["deposit1", "deposit2", "benignDeposit", "benignWithdraw"].map((l) => fx.blockOf(l));
    expect(await runBlocks(createFromFixture(reentrancyDetector, fx), quiet)).to.deep.equal([]);
  });

  it("gives the same finding id on every run and a different one per transaction", async () => {
    const run = () => runBlocks(createFromFixture(reentrancyDetector, fx), fx.blocks);
    const [a, b] = [await run(), await run()];
    expect(a.map((f) => f.id)).to.deep.equal(b.map((f) => f.id));
    expect(new Set(a.map((f) => f.id)).size).to.equal(2);
    expect(a[0].id).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("ignores re-entries through selectors declared safe", async () => {
    const d = createFromFixture(reentrancyDetector, fx, { ignoreSelectors: [WITHDRAW] });
    expect(await runBlocks(d, fx.blocks)).to.deep.equal([]);
  });

  it("reports a re-entry through STATICCALL as read-only, with its own severity", async () => {
    const block = structuredClone(fx.blockOf("attack")) as BlockContext;
    // Turn every re-entering call into a static one: the same path, now a read-only re-entry.
    const mark = (frame: CallFrame, depth: number): void => {
      if (depth > 1 && frame.to === fx.label("bank")) frame.type = "STATICCALL";
      frame.calls.forEach((c) => mark(c, depth + 1));
    };
    mark(block.transactions[0].trace!, 0);
    const [f] = await runBlocks(createFromFixture(reentrancyDetector, fx), [block]);
    expect(f.severity).to.equal("medium");
    expect(f.evidence.readOnly).to.equal(true);
    const none = await runBlocks(createFromFixture(reentrancyDetector, fx, { readOnlySeverity: null }), [block]);
    expect(none).to.deep.equal([]);
  });

  it("does not count code that runs in the contract's own context (DELEGATECALL) as an external call", async () => {
    const block = structuredClone(fx.blockOf("attack")) as BlockContext;
    // As if the bank delegated to a library that calls the bank again: every call stays in the bank's context.
    const delegate = (frame: CallFrame): void => {
      if (frame.to === fx.label("attacker") && frame.from === fx.label("bank")) frame.type = "DELEGATECALL";
      frame.calls.forEach(delegate);
    };
    delegate(block.transactions[0].trace!);
    expect(await runBlocks(createFromFixture(reentrancyDetector, fx), [block])).to.deep.equal([]);
  });

  it("rejects a contract selector that names no protected contract", () => {
    expect(() => createFromFixture(reentrancyDetector, fx, { contracts: ["vault"] })).to.throw(
      'detector reentrancy: contracts: "vault" is not a protected contract (known: bank)',
    );
  });
});
