import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { Pipeline } from "../../../guardian/pipeline";
import { GuardianStore } from "../../../guardian/state/guardian-store";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { GuardianMetrics } from "../../../guardian/ops/metrics";
import { RpcHttpError } from "../../../guardian/chain/errors";
import type { BlockRef, ChainEvent, ReorgEvent, RpcClient } from "../../../guardian/chain/types";
import type { BlockContext } from "../../../guardian/context/types";
import type { Detector, Finding } from "../../../guardian/detectors/types";
import { RecordingSink } from "../support/guardian-harness";

const ref = (n: number): BlockRef => ({ number: n, hash: `0x${n.toString(16).padStart(64, "0")}`, parentHash: `0x${(n - 1).toString(16).padStart(64, "0")}`, timestamp: n });
const blocks = (...ns: number[]): ChainEvent[] => ns.map((n) => ({ kind: "block", block: ref(n) }));

/** A windowed detector: counts blocks it has seen and reports every third one. */
function countingDetector(failOn: Map<number, Error>): Detector & { seen: number } {
  const d = {
    id: "counter",
    seen: 0,
    async onBlock(ctx: BlockContext): Promise<Finding[]> {
      d.seen++;
      const err = failOn.get(ctx.number);
      if (err) {
        failOn.delete(ctx.number);
        throw err;
      }
      if (d.seen % 3 !== 0) return [];
      return [{ id: `count-${d.seen}`, detectorId: "counter", severity: "low", title: `seen ${d.seen}`, chainId: 1, blockNumber: ctx.number, blockHash: ctx.hash, evidence: { seen: d.seen } }];
    },
    saveState: () => ({ seen: d.seen }),
    loadState: (state: unknown) => {
      d.seen = (state as { seen: number }).seen;
    },
  };
  return d;
}

describe("Pipeline", () => {
  let db: Db;
  let store: GuardianStore;
  let metrics: GuardianMetrics;
  const logger = pino({ level: "silent" });
  const contexts = { build: async (id: unknown) => ({ chainId: 1, ...(id as BlockRef), transactions: [] }) as BlockContext };
  // These detectors read nothing from a node, and the contexts above are built without one.
  const rpc: RpcClient = { chainId: 1, request: () => Promise.reject(new Error("no node in these tests")) };

  beforeEach(() => {
    db = openDatabase(path.join(mkdtempSync(path.join(tmpdir(), "failsafe-pipeline-")), "g.sqlite"));
    store = new GuardianStore(db);
    metrics = new GuardianMetrics();
  });
  afterEach(() => db.close());

  describe("handle", () => {
    it("after a transient failure, resets detector state to the last commit so the retry counts each block once", async () => {
      const detector = countingDetector(new Map([[2, new RpcHttpError({ url: "u", method: "eth_call", status: 503, body: "" })]]));
      const pipeline = new Pipeline({ chainId: 1, rpc, logger, metrics, store, contexts, detectors: [{ key: "counter", detector }], sinks: [], window: 10 });
      let failure: unknown;
      await pipeline.handle(blocks(1, 2, 3)).catch((err: unknown) => (failure = err));
      expect(failure).to.be.instanceOf(RpcHttpError);
      expect((await store.cursor(1))?.number).to.equal(1);
      expect(detector.seen, "state of the last commit").to.equal(1);
      await pipeline.handle(blocks(2, 3));
      expect(detector.seen).to.equal(3);
      expect((await store.findings(1)).map((f) => f.id)).to.deep.equal(["count-3"]);
    });

    it("keeps guarding when a detector has a bug: the error is counted and the block still commits", async () => {
      const detector = countingDetector(new Map([[2, new TypeError("cannot read properties of undefined")]]));
      const pipeline = new Pipeline({ chainId: 1, rpc, logger, metrics, store, contexts, detectors: [{ key: "counter", detector }], sinks: [], window: 10 });
      await pipeline.handle(blocks(1, 2, 3));
      expect((await store.cursor(1))?.number).to.equal(3);
      const errors = await metrics.detectorErrors.get();
      expect(errors.values.map((v) => [v.labels.detector, v.value])).to.deep.equal([["counter", 1]]);
    });
  });

  describe("exclusive", () => {
    it("runs work between blocks, never while a block is between its detectors and its commit", async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const order: string[] = [];
      const slow: Detector = {
        id: "slow",
        async onBlock(ctx) {
          order.push(`detect ${ctx.number}`);
          if (ctx.number === 1) await gate;
          return [];
        },
      };
      const pipeline = new Pipeline({
        chainId: 1, rpc, logger, metrics, store, contexts, detectors: [{ key: "slow", detector: slow }], sinks: [], window: 10,
        onBlockCommitted: (t) => order.push(`commit ${t.number}`),
      });
      const handled = pipeline.handle(blocks(1, 2));
      while (!order.includes("detect 1")) await new Promise((r) => setImmediate(r));
      const pending = pipeline.exclusive(async () => void order.push(`pending at cursor ${(await store.cursor(1))?.number}`));
      await new Promise((r) => setTimeout(r, 20));
      expect(order).to.deep.equal(["detect 1"]);
      release();
      await Promise.all([handled, pending]);
      expect(order).to.deep.equal(["detect 1", "commit 1", "pending at cursor 1", "detect 2", "commit 2"]);
    });
  });

  describe("reorgs", () => {
    it("tells every sink of each reorg after the retractions, also when nothing was retracted", async () => {
      const calls: string[] = [];
      const sink = {
        name: "watcher",
        onFindings: async () => undefined,
        onRetractions: async (gone: Finding[]) => void calls.push(`retracted ${gone.map((f) => f.id).join(",")}`),
        onReorg: async (reorg: ReorgEvent) => void calls.push(`reorg to ${reorg.commonAncestor.number}`),
      };
      const pipeline = new Pipeline({ chainId: 1, rpc, logger, metrics, store, contexts, detectors: [{ key: "counter", detector: countingDetector(new Map()) }], sinks: [sink], window: 10 });
      await pipeline.handle(blocks(1, 2, 3, 4));
      const reorg = (ancestor: number): ChainEvent => ({
        kind: "reorg",
        reorg: { chainId: 1, depth: 4 - ancestor, commonAncestor: ref(ancestor), orphaned: [3, 4].filter((n) => n > ancestor).map(ref), added: [] },
      });
      await pipeline.handle([reorg(3)]);
      await pipeline.handle([reorg(2)]);
      expect(calls).to.deep.equal(["reorg to 3", "retracted count-3", "reorg to 2"]);
    });
  });

  describe("restore", () => {
    it("re-delivers findings a sink had not taken when the process stopped", async () => {
      const failing = new RecordingSink();
      failing.onFindings = async () => {
        throw new Error("smtp down");
      };
      const first = new Pipeline({ chainId: 1, rpc, logger, metrics, store, contexts, detectors: [{ key: "counter", detector: countingDetector(new Map()) }], sinks: [failing], window: 10 });
      await first.handle(blocks(1, 2, 3, 4, 5, 6));
      expect((await store.undeliveredFindings(1)).map((f) => f.id)).to.deep.equal(["count-3", "count-6"]);

      const sink = new RecordingSink();
      const detector = countingDetector(new Map());
      const second = new Pipeline({ chainId: 1, rpc, logger, metrics, store, contexts, detectors: [{ key: "counter", detector }], sinks: [sink], window: 10 });
      await second.restore();
      expect(sink.findings.map((f) => f.id)).to.deep.equal(["count-3", "count-6"]);
      expect((await store.undeliveredFindings(1))).to.deep.equal([]);
      expect(detector.seen, "detector state restored with the cursor").to.equal(6);
    });
  });
});
