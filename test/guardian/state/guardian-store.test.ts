import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openDatabase } from "../../../guardian/state/database";
import { GuardianStore } from "../../../guardian/state/guardian-store";
import type { BlockRef } from "../../../guardian/chain/types";
import type { Finding } from "../../../guardian/detectors/types";

const block = (n: number, branch = "a"): BlockRef => ({ number: n, hash: `0x${branch}${n}`, parentHash: `0x${branch}${n - 1}`, timestamp: n });
const finding = (id: string, b: BlockRef): Finding => ({
  id,
  detectorId: "test",
  severity: "high",
  title: id,
  chainId: 1,
  blockNumber: b.number,
  blockHash: b.hash,
  evidence: { amount: "1" },
});

describe("GuardianStore", () => {
  let file: string;
  beforeEach(() => {
    file = path.join(mkdtempSync(path.join(tmpdir(), "failsafe-store-")), "g.sqlite");
  });

  describe("commitBlock", () => {
    it("moves the cursor, keeps the window, dedupes findings by id and persists detector state across reopen", () => {
      const db = openDatabase(file);
      const store = new GuardianStore(db);
      expect(store.cursor(1)).to.equal(undefined);
      for (let n = 1; n <= 5; n++) {
        const fresh = store.commitBlock(1, {
          block: block(n),
          findings: n === 3 ? [finding("f3", block(3)), finding("f3", block(3))] : [],
          detectorStates: new Map([["windowed", { seen: n, big: 10n ** 30n }]]),
          pruneBelow: n - 2,
        });
        if (n === 3) expect(fresh.map((f) => f.id)).to.deep.equal(["f3"]);
      }
      expect(store.commitBlock(1, { block: block(6), findings: [finding("f3", block(3))], detectorStates: new Map(), pruneBelow: 4 })).to.deep.equal([]);
      db.close();

      const reopened = new GuardianStore(openDatabase(file));
      expect(reopened.cursor(1)).to.deep.equal({ number: 6, hash: "0xa6" });
      expect(reopened.unfinalizedBlocks(1).map((b) => b.number)).to.deep.equal([4, 5, 6]);
      expect(reopened.detectorStates(1).get("windowed")).to.deep.equal({ seen: 5, big: (10n ** 30n).toString() });
      expect(reopened.findings(1).map((f) => f.id)).to.deep.equal(["f3"]);
      expect(reopened.undeliveredFindings(1).map((f) => f.id)).to.deep.equal(["f3"]);
      reopened.markDelivered(["f3"]);
      expect(reopened.undeliveredFindings(1)).to.deep.equal([]);
    });

    it("keeps incremental detector state as entries: upserts and deletes per block, replace drops the rest", () => {
      const db = openDatabase(file);
      const store = new GuardianStore(db);
      store.commitBlock(1, { block: block(1), findings: [], detectorStates: new Map([["windowed", { whole: true }]]), pruneBelow: 0 });
      const changes = (replace: boolean, set: Record<string, unknown>, del: string[] = []) => new Map([["windowed", { replace, set, delete: del }]]);
      // The first save replaces whatever the detector saved before, here a whole-state row.
      store.commitBlock(1, { block: block(2), findings: [], detectorStates: new Map(), detectorChanges: changes(true, { meta: { n: 2 }, "block:2": { big: 10n ** 30n } }), pruneBelow: 0 });
      store.commitBlock(1, { block: block(3), findings: [], detectorStates: new Map(), detectorChanges: changes(false, { meta: { n: 3 }, "block:3": [3] }, ["block:2"]), pruneBelow: 0 });
      db.close();
      const reopened = new GuardianStore(openDatabase(file));
      expect(reopened.detectorStates(1).get("windowed")).to.deep.equal({ meta: { n: 3 }, "block:3": [3] });
      reopened.commitBlock(1, { block: block(4), findings: [], detectorStates: new Map(), detectorChanges: changes(true, { meta: { n: 4 } }), pruneBelow: 0 });
      expect(reopened.detectorStates(1).get("windowed")).to.deep.equal({ meta: { n: 4 } });
    });

    it("rolls the whole block back when any part of the commit fails", () => {
      const db = openDatabase(file);
      const store = new GuardianStore(db);
      store.commitBlock(1, { block: block(1), findings: [], detectorStates: new Map(), pruneBelow: 0 });
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      expect(() =>
        store.commitBlock(1, { block: block(2), findings: [finding("f2", block(2))], detectorStates: new Map([["bad", circular]]), pruneBelow: 0 }),
      ).to.throw();
      expect(store.cursor(1)).to.deep.equal({ number: 1, hash: "0xa1" });
      expect(store.findings(1)).to.deep.equal([]);
      expect(store.unfinalizedBlocks(1).map((b) => b.number)).to.deep.equal([1]);
      db.close();
    });
  });

  describe("commitReorg", () => {
    it("retracts findings above the ancestor, moves the cursor back, and reinstates a finding if its block returns", () => {
      const db = openDatabase(file);
      const store = new GuardianStore(db);
      for (let n = 1; n <= 4; n++) {
        store.commitBlock(1, { block: block(n), findings: [finding(`f${n}`, block(n))], detectorStates: new Map(), pruneBelow: 0 });
      }
      const reorg = { chainId: 1, depth: 2, commonAncestor: block(2), orphaned: [block(3), block(4)], added: [block(3, "b"), block(4, "b")] };
      const reorgFinding = finding("reorg-1", block(3, "b"));
      const { retracted, fresh } = store.commitReorg(1, { reorg, findings: [reorgFinding], detectorStates: new Map() });
      expect(retracted.map((f) => f.id)).to.deep.equal(["f3", "f4"]);
      expect(fresh.map((f) => f.id)).to.deep.equal(["reorg-1"]);
      expect(store.cursor(1)).to.deep.equal({ number: 2, hash: "0xa2" });
      expect(store.unfinalizedBlocks(1).map((b) => b.hash)).to.deep.equal(["0xa1", "0xa2"]);
      expect(store.findings(1).map((f) => f.id)).to.deep.equal(["f1", "f2", "reorg-1"]);
      expect(store.findings(1, { includeRetracted: true }).filter((f) => f.retracted).map((f) => f.id)).to.deep.equal(["f3", "f4"]);
      const back = store.commitBlock(1, { block: block(3), findings: [finding("f3", block(3))], detectorStates: new Map(), pruneBelow: 0 });
      expect(back.map((f) => f.id)).to.deep.equal(["f3"]);
      db.close();
    });
  });
});
