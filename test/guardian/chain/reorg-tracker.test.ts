import { expect } from "chai";
import { HeaderLinkError, ReorgBeyondWindowError, ReorgTracker } from "../../../guardian/chain/reorg-tracker";
import type { BlockRef, ChainEvent } from "../../../guardian/chain/types";

/** A toy chain of BlockRefs: `branch` tags the hashes so two forks at one height differ. */
function chain(from: number, to: number, branch: string, parent?: BlockRef): BlockRef[] {
  const out: BlockRef[] = [];
  let prev = parent?.hash ?? `0x${branch}-${from - 1}`;
  for (let n = from; n <= to; n++) {
    const b = { number: n, hash: `0x${branch}-${n}`, parentHash: prev, timestamp: n * 12 };
    out.push(b);
    prev = b.hash;
  }
  return out;
}

function byHashFrom(...branches: BlockRef[][]): (hash: string) => Promise<BlockRef> {
  const all = new Map(branches.flat().map((b) => [b.hash, b]));
  return async (hash) => {
    const b = all.get(hash);
    if (!b) throw new Error(`unknown ${hash}`);
    return b;
  };
}

const kinds = (events: ChainEvent[]) => events.map((e) => (e.kind === "reorg" ? `reorg:${e.reorg.depth}` : `${e.kind}:${e.block.number}`));

describe("ReorgTracker", () => {
  const options = { chainId: 1, window: 10, confirmations: 3 };

  describe("add", () => {
    it("extends the tip, emits finalize once a block is `confirmations` deep, and ignores duplicates", async () => {
      const a = chain(1, 6, "a");
      const t = new ReorgTracker(options);
      const events: ChainEvent[] = [];
      for (const b of a) events.push(...(await t.add(b, byHashFrom(a))));
      expect(kinds(events)).to.deep.equal([
        "block:1", "block:2", "block:3", "block:4", "finalize:1", "block:5", "finalize:2", "block:6", "finalize:3",
      ]);
      expect(await t.add(a[4], byHashFrom(a))).to.deep.equal([]);
      expect(t.tip()).to.deep.equal(a[5]);
    });

    for (const depth of [1, 2, 5]) {
      it(`walks a depth-${depth} same-height reorg back to the common ancestor`, async () => {
        const a = chain(1, 8, "a");
        const t = new ReorgTracker(options, a);
        const ancestor = a[a.length - 1 - depth];
        const b = chain(ancestor.number + 1, 8, "b", ancestor);
        const events = await t.add(b[b.length - 1], byHashFrom(a, b));
        const reorg = events[0].kind === "reorg" ? events[0].reorg : undefined;
        expect(reorg, "first event is the reorg").to.not.equal(undefined);
        expect(reorg!.depth).to.equal(depth);
        expect(reorg!.commonAncestor).to.deep.equal(ancestor);
        expect(reorg!.orphaned).to.deep.equal(a.slice(a.length - depth));
        expect(reorg!.added).to.deep.equal(b);
        expect(events.slice(1).filter((e) => e.kind === "block").map((e) => (e as { block: BlockRef }).block)).to.deep.equal(b);
        expect(t.tip()).to.deep.equal(b[b.length - 1]);
        expect(t.has(a[a.length - 1])).to.equal(false);
      });
    }

    it("handles a new branch that is longer than the old one and arrives at tip + 1", async () => {
      const a = chain(1, 6, "a");
      const t = new ReorgTracker(options, a);
      const b = chain(5, 7, "b", a[3]);
      const events = await t.add(b[2], byHashFrom(a, b));
      expect(kinds(events).slice(0, 4)).to.deep.equal(["reorg:2", "block:5", "block:6", "block:7"]);
    });

    it("handles a rollback: the node reports a lower head on another branch", async () => {
      const a = chain(1, 6, "a");
      const t = new ReorgTracker(options, a);
      const b = chain(4, 4, "b", a[2]);
      const events = await t.add(b[0], byHashFrom(a, b));
      expect(events[0].kind).to.equal("reorg");
      expect((events[0] as { reorg: { orphaned: BlockRef[] } }).reorg.orphaned.map((x) => x.number)).to.deep.equal([4, 5, 6]);
      expect(t.tip()).to.deep.equal(b[0]);
    });

    it("refuses to guess the ancestor of a reorg deeper than the window (the follower re-verifies from further back)", async () => {
      const a = chain(1, 20, "a");
      const t = new ReorgTracker({ ...options, window: 4 }, a.slice(-4));
      const b = chain(3, 20, "b", a[1]);
      let error: unknown;
      await t.add(b[b.length - 1], byHashFrom(a, b)).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(ReorgBeyondWindowError);
      expect((error as ReorgBeyondWindowError).oldest.number).to.equal(17);
      expect(t.tip(), "the window is left as it was").to.deep.equal(a[a.length - 1]);
    });

    it("refuses a branch whose parent link skips a height (a lying header)", async () => {
      const a = chain(1, 10, "a");
      const t = new ReorgTracker(options, a);
      // Block 11 claims block 9 as its parent: taken as a reorg, block 10 would be orphaned for good.
      const liar: BlockRef = { number: 11, hash: "0xliar", parentHash: a[8].hash, timestamp: 0 };
      let error: unknown;
      await t.add(liar, byHashFrom(a)).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(HeaderLinkError);
      expect(t.tip()).to.deep.equal(a[a.length - 1]);
    });

    it("refuses a block that skips heights (the follower must backfill)", async () => {
      const a = chain(1, 3, "a");
      const t = new ReorgTracker(options, a);
      const [far] = chain(5, 5, "a");
      let error: Error | undefined;
      await t.add(far, byHashFrom(a)).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/backfill/);
    });

    it("keeps only `window` blocks", async () => {
      const a = chain(1, 30, "a");
      const t = new ReorgTracker(options);
      for (const b of a) await t.add(b, byHashFrom(a));
      expect(t.window().map((b) => b.number)).to.deep.equal(a.slice(-10).map((b) => b.number));
    });
  });
});
