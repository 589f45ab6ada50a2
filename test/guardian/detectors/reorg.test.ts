import { expect } from "chai";
import type { BlockRef, ReorgEvent } from "../../../guardian/chain/types";
import { reorgDetector } from "../../../guardian/detectors/reorg";
import { silentLogger } from "./detector-harness";
import { FixtureRpc } from "./block-fixtures";

/** Block refs shaped as the chain source emits them; hashes differ per branch as after anvil_reorg. */
function branch(from: number, to: number, tag: string, parent: string): BlockRef[] {
  const refs: BlockRef[] = [];
  for (let n = from; n <= to; n++) {
    const hash = `0x${tag.repeat(2)}${n.toString(16).padStart(62, "0")}`;
    refs.push({ number: n, hash, parentHash: refs.at(-1)?.hash ?? parent, timestamp: 1_700_000_000 + n });
  }
  return refs;
}

function reorgOf(depth: number): ReorgEvent {
  const ancestor: BlockRef = { number: 99, hash: `0x${"a".repeat(64)}`, parentHash: `0x${"9".repeat(64)}`, timestamp: 1_700_000_099 };
  return {
    chainId: 31337,
    depth,
    commonAncestor: ancestor,
    orphaned: branch(100, 99 + depth, "b", ancestor.hash),
    added: branch(100, 99 + depth, "c", ancestor.hash),
  };
}

describe("reorg detector", () => {
  const create = (params: unknown = {}) =>
    reorgDetector.create(reorgDetector.params.parse(params), { chainId: 31337, rpc: new FixtureRpc(31337, []), logger: silentLogger, contracts: [] });

  it("reports a reorg deeper than maxDepth as a finding on the winning branch", async () => {
    const reorg = reorgOf(5);
    const [f] = await create({ maxDepth: 2 }).onReorg!(reorg);
    expect(f.severity).to.equal("high");
    expect(f.blockNumber).to.equal(100);
    expect(f.blockHash).to.equal(reorg.added[0].hash);
    expect(f.evidence).to.deep.include({ depth: 5, maxDepth: 2, commonAncestor: { number: 99, hash: reorg.commonAncestor.hash } });
    expect((f.evidence.orphaned as unknown[]).length).to.equal(5);
  });

  it("reports shallow reorgs as info, or not at all", async () => {
    expect((await create().onReorg!(reorgOf(1)))[0].severity).to.equal("info");
    expect((await create({ maxDepth: 2 }).onReorg!(reorgOf(2)))[0].severity).to.equal("info");
    expect(await create({ shallowSeverity: null }).onReorg!(reorgOf(2))).to.deep.equal([]);
  });

  it("gives the same reorg the same id, and different reorgs different ids", async () => {
    const d = create();
    const [a] = await d.onReorg!(reorgOf(3));
    const [b] = await d.onReorg!(reorgOf(3));
    const [c] = await d.onReorg!(reorgOf(4));
    expect(a.id).to.equal(b.id);
    expect(a.id).to.not.equal(c.id);
  });

  it("finds nothing in ordinary blocks", async () => {
    expect(await create().onBlock({ chainId: 31337, number: 1, hash: "0x01", parentHash: "0x00", timestamp: 0, transactions: [] })).to.deep.equal([]);
  });
});
