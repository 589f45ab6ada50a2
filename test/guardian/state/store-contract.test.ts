import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BlockRef } from "../../../guardian/chain/types";
import type { Finding } from "../../../guardian/detectors/types";
import type { AlertMessage } from "../../../guardian/notifiers/types";
import type { IncidentRecord } from "../../../guardian/reports/incident-record";
import { AlertStore } from "../../../guardian/state/alert-store";
import { openDatabase } from "../../../guardian/state/database";
import { GuardianStore } from "../../../guardian/state/guardian-store";
import { IncidentStore } from "../../../guardian/state/incident-store";
import { PgAlertStore } from "../../../guardian/state/postgres/alert-store";
import { PgGuardianStore } from "../../../guardian/state/postgres/guardian-store";
import { PgIncidentStore } from "../../../guardian/state/postgres/incident-store";
import { migrate } from "../../../guardian/state/postgres/migrations";
import { PgDatabase } from "../../../guardian/state/postgres/pool";
import type { AlertLogStore, GuardianStateStore, IncidentRecordStore } from "../../../guardian/state/store";
import { StoreChainMismatchError } from "../../../guardian/state/store-chain";
import { createTestDatabase } from "../../support/postgres";

/**
 * The store contract: the same cases against every backend, so the guardian behaves the same on SQLite and on
 * PostgreSQL. `open()` gives a fresh, empty store; `another()` a second, independent handle on the same store (a
 * restart, or another guardian sharing it).
 */
interface Handle {
  guardian: GuardianStateStore;
  incidents: IncidentRecordStore;
  alerts: AlertLogStore;
  close(): Promise<void>;
}
interface Backend {
  name: string;
  open(): Promise<{ handle: Handle; another(): Promise<Handle> }>;
}

const sqlite: Backend = {
  name: "SQLite",
  async open() {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "failsafe-contract-")), "g.sqlite");
    const make = async (): Promise<Handle> => {
      const db = openDatabase(file);
      return { guardian: new GuardianStore(db), incidents: new IncidentStore(db), alerts: new AlertStore(db), close: async () => void db.close() };
    };
    return { handle: await make(), another: make };
  },
};

const postgres: Backend = {
  name: "PostgreSQL",
  async open() {
    const url = await createTestDatabase("contract");
    const make = async (): Promise<Handle> => {
      const db = new PgDatabase(url);
      await migrate(db);
      return { guardian: new PgGuardianStore(db), incidents: new PgIncidentStore(db), alerts: new PgAlertStore(db), close: () => db.close() };
    };
    return { handle: await make(), another: make };
  },
};

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
const incident = (id: string, at = "2026-12-05T00:00:00.000Z"): IncidentRecord =>
  ({
    id,
    chainId: 1,
    breaker: "0xbreaker",
    status: "tripping",
    dryRun: false,
    openedAt: at,
    updatedAt: at,
    findings: [],
    timeline: [],
    bundleHashes: [],
    governance: [],
    notes: [],
    files: { json: "x.json", markdown: "x.md" },
  }) as unknown as IncidentRecord;
const alert = (id: string, kind: AlertMessage["kind"], incidentKey: string, incidentId?: string): AlertMessage =>
  ({ id, kind, incidentKey, severity: "high", title: id, summary: "", details: [], chainId: 1, detectorIds: [], findings: [], resolves: false, links: [], createdAt: "", ...(incidentId ? { incidentId } : {}) }) as AlertMessage;

for (const backend of [sqlite, postgres]) {
  describe(`store contract: ${backend.name}`, function () {
    this.timeout(60_000);
    const open: Handle[] = [];
    let handle: Handle;
    let another: () => Promise<Handle>;
    const second = async (): Promise<Handle> => {
      const h = await another();
      open.push(h);
      return h;
    };
    beforeEach(async () => {
      const opened = await backend.open();
      handle = opened.handle;
      another = opened.another;
      open.push(handle);
    });
    afterEach(async () => {
      for (const h of open.splice(0)) await h.close().catch(() => undefined);
    });

    describe("chain state", () => {
      it("moves the cursor, keeps the window, dedupes findings by id and persists detector state across reopen", async () => {
        const store = handle.guardian;
        expect(await store.cursor(1)).to.equal(undefined);
        for (let n = 1; n <= 5; n++) {
          const fresh = await store.commitBlock(1, {
            block: block(n),
            findings: n === 3 ? [finding("f3", block(3)), finding("f3", block(3))] : [],
            detectorStates: new Map([["windowed", { seen: n, big: 10n ** 30n }]]),
            pruneBelow: n - 2,
          });
          if (n === 3) expect(fresh.map((f) => f.id)).to.deep.equal(["f3"]);
        }
        expect(await store.commitBlock(1, { block: block(6), findings: [finding("f3", block(3))], detectorStates: new Map(), pruneBelow: 4 })).to.deep.equal([]);

        const reopened = (await second()).guardian;
        expect(await reopened.cursor(1)).to.deep.equal({ number: 6, hash: "0xa6" });
        expect((await reopened.unfinalizedBlocks(1)).map((b) => b.number)).to.deep.equal([4, 5, 6]);
        expect((await reopened.detectorStates(1)).get("windowed")).to.deep.equal({ seen: 5, big: (10n ** 30n).toString() });
        expect((await reopened.findings(1)).map((f) => f.id)).to.deep.equal(["f3"]);
        expect((await reopened.undeliveredFindings(1)).map((f) => f.id)).to.deep.equal(["f3"]);
        await reopened.markDelivered(["f3"]);
        expect(await reopened.undeliveredFindings(1)).to.deep.equal([]);
        expect(await reopened.cursor(2)).to.equal(undefined);
      });

      it("keeps incremental detector state as entries: upserts and deletes per block, replace drops the rest", async () => {
        const store = handle.guardian;
        await store.commitBlock(1, { block: block(1), findings: [], detectorStates: new Map([["windowed", { whole: true }]]), pruneBelow: 0 });
        const changes = (replace: boolean, set: Record<string, unknown>, del: string[] = []) => new Map([["windowed", { replace, set, delete: del }]]);
        await store.commitBlock(1, { block: block(2), findings: [], detectorStates: new Map(), detectorChanges: changes(true, { meta: { n: 2 }, "block:2": { big: 10n ** 30n } }), pruneBelow: 0 });
        await store.commitBlock(1, { block: block(3), findings: [], detectorStates: new Map(), detectorChanges: changes(false, { meta: { n: 3 }, "block:3": [3] }, ["block:2"]), pruneBelow: 0 });
        const reopened = (await second()).guardian;
        expect((await reopened.detectorStates(1)).get("windowed")).to.deep.equal({ meta: { n: 3 }, "block:3": [3] });
        await reopened.commitBlock(1, { block: block(4), findings: [], detectorStates: new Map(), detectorChanges: changes(true, { meta: { n: 4 } }), pruneBelow: 0 });
        expect((await reopened.detectorStates(1)).get("windowed")).to.deep.equal({ meta: { n: 4 } });
      });

      it("rolls the whole block back when any part of the commit fails", async () => {
        const store = handle.guardian;
        await store.commitBlock(1, { block: block(1), findings: [], detectorStates: new Map(), pruneBelow: 0 });
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        let failed = false;
        await store.commitBlock(1, { block: block(2), findings: [finding("f2", block(2))], detectorStates: new Map([["bad", circular]]), pruneBelow: 0 }).catch(() => (failed = true));
        expect(failed).to.equal(true);
        expect(await store.cursor(1)).to.deep.equal({ number: 1, hash: "0xa1" });
        expect(await store.findings(1)).to.deep.equal([]);
        expect((await store.unfinalizedBlocks(1)).map((b) => b.number)).to.deep.equal([1]);
      });

      it("a reorg retracts findings above the ancestor, moves the cursor back, and a returning block reinstates its finding", async () => {
        const store = handle.guardian;
        for (let n = 1; n <= 4; n++) await store.commitBlock(1, { block: block(n), findings: [finding(`f${n}`, block(n))], detectorStates: new Map(), pruneBelow: 0 });
        const reorg = { chainId: 1, depth: 2, commonAncestor: block(2), orphaned: [block(3), block(4)], added: [block(3, "b"), block(4, "b")] };
        const { retracted, fresh } = await store.commitReorg(1, { reorg, findings: [finding("reorg-1", block(3, "b"))], detectorStates: new Map() });
        expect(retracted.map((f) => f.id)).to.deep.equal(["f3", "f4"]);
        expect(fresh.map((f) => f.id)).to.deep.equal(["reorg-1"]);
        expect(await store.cursor(1)).to.deep.equal({ number: 2, hash: "0xa2" });
        expect((await store.unfinalizedBlocks(1)).map((b) => b.hash)).to.deep.equal(["0xa1", "0xa2"]);
        expect((await store.findings(1)).map((f) => f.id)).to.deep.equal(["f1", "f2", "reorg-1"]);
        expect((await store.findings(1, { includeRetracted: true })).filter((f) => f.retracted).map((f) => f.id)).to.deep.equal(["f3", "f4"]);
        expect([...(await store.findingBlocksFrom(1, 2)).keys()]).to.deep.equal([2, 3]);
        const back = await store.commitBlock(1, { block: block(3), findings: [finding("f3", block(3))], detectorStates: new Map(), pruneBelow: 0 });
        expect(back.map((f) => f.id)).to.deep.equal(["f3"]);
        expect((await store.undeliveredFindings(1)).map((f) => f.id)).to.include("f3");
      });

      it("records findings outside a block once, and binds each chain to its genesis", async () => {
        const store = handle.guardian;
        expect((await store.recordFindings([finding("own", block(7))])).map((f) => f.id)).to.deep.equal(["own"]);
        expect(await store.recordFindings([finding("own", block(7))])).to.deep.equal([]);
        await store.bindChain(1, "0xAAAA");
        await store.bindChain(1, "0xaaaa");
        const other = (await second()).guardian;
        let err: unknown;
        await other.bindChain(1, "0xbbbb").catch((e: unknown) => (err = e));
        expect(err).to.be.instanceOf(StoreChainMismatchError);
      });
    });

    describe("incidents and their timelines", () => {
      it("opens an incident once across two handles; updates of both land, none lost", async () => {
        const a = handle.incidents;
        const b = (await second()).incidents;
        const saved: string[] = [];
        const [first, again] = await Promise.all([a.insert(incident("0x01"), (r) => saved.push(`a:${r.id}`)), b.insert(incident("0x01"), (r) => saved.push(`b:${r.id}`))]);
        expect([first, again].filter(Boolean)).to.have.length(1);
        expect(saved).to.have.length(1);
        // Read-modify-write from both handles at once: every step appears in the timeline.
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? a : b).update("0x01", (r) => {
              r.timeline.push({ step: "sent", at: String(i), ms: i } as IncidentRecord["timeline"][number]);
            }),
          ),
        );
        const record = (await a.get("0x01"))!;
        expect(record.timeline.map((t) => t.ms).sort((x, y) => x - y)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(await a.update("0x01", () => false)).to.equal(undefined);
        let missing: unknown;
        await a.update("0x02", () => undefined).catch((e: unknown) => (missing = e));
        expect((missing as Error).message).to.match(/no incident 0x02/);
        await b.insert(incident("0x00", "2026-12-04T00:00:00.000Z"));
        expect((await a.list()).map((r) => r.id)).to.deep.equal(["0x00", "0x01"]);
        const replaced = { ...record, status: "tripped" } as IncidentRecord;
        await a.save(replaced);
        expect((await b.get("0x01"))!.status).to.equal("tripped");
      });
    });

    describe("trip decisions", () => {
      it("a decision that tripped nothing leaves the incidents in one step, seen by every handle", async () => {
        const a = handle.incidents;
        const b = (await second()).incidents;
        await a.insert(incident("0x0a"));
        await a.insert(incident("0x0b"));
        await b.saveDecision({ ...incident("0x0a"), status: "already-tripped", trippedBy: { incidentId: "0x0b", guardian: "0xg" } } as IncidentRecord);
        await b.saveDecision({ ...incident("0x0c", "2026-12-06T00:00:00.000Z"), status: "dry-run", dryRun: true } as IncidentRecord);
        expect((await a.list()).map((r) => r.id)).to.deep.equal(["0x0b"]);
        expect(await a.get("0x0a")).to.equal(undefined);
        expect((await a.decisions()).map((r) => [r.id, r.status])).to.deep.equal([["0x0a", "already-tripped"], ["0x0c", "dry-run"]]);
        expect((await a.decision("0x0a"))?.trippedBy?.incidentId).to.equal("0x0b");
        expect(await a.decision("0x0b")).to.equal(undefined);
      });
    });

    describe("alert log", () => {
      it("records a trip alert once per incident id across handles, and tracks retractions per incident", async () => {
        const a = handle.alerts;
        const b = (await second()).alerts;
        const target = [{ notifier: "hook", recipient: "" }];
        const results = await Promise.all([
          a.recordAlert(alert("trip-a", "trip", "inc-1", "0xabc"), ["f1"], target, 1),
          b.recordAlert(alert("trip-b", "trip", "inc-1", "0xabc"), ["f1"], target, 1),
        ]);
        expect(results.filter((r) => r !== undefined)).to.have.length(1);
        expect((await a.incidentAlert("trip", "0xabc"))?.kind).to.equal("trip");
        const winner = (await a.incidentAlert("trip", "0xABC"))!.id;
        await b.addFindings(winner, ["f2"]);
        expect(await a.recordAlert(alert("find-1", "finding", "inc-1"), ["f3"], [{ notifier: "mail", recipient: "x@y" }], 2)).to.have.length(1);
        expect((await a.liveAlertsForFinding("f2")).map((l) => l.alertId)).to.deep.equal([winner]);
        expect(await a.liveFindingCount("inc-1")).to.equal(3);
        await a.markRetracted(["f2", "f3"], "retraction-1");
        expect(await b.liveFindingCount("inc-1")).to.equal(1);
        expect(await a.liveAlertsForFinding("f3")).to.deep.equal([]);
        expect((await a.targetsOf("find-1"))).to.deep.equal([{ notifier: "mail", recipient: "x@y" }]);
        expect((await b.alerts("inc-1")).map((m) => m.id)).to.deep.equal([winner, "find-1"]);
        expect((await b.alert("find-1"))?.kind).to.equal("finding");
      });

      it("a delivery is claimed before it is sent: one holder at a time, re-claimable after expiry, ended by the ack", async () => {
        const a = handle.alerts;
        const b = (await second()).alerts;
        const [d] = (await a.recordAlert(alert("find-1", "finding", "inc-1"), [], [{ notifier: "hook", recipient: "" }], 1000))!;
        expect((await a.pendingDeliveries(1000)).map((p) => p.delivery.id)).to.deep.equal([d.id]);
        expect(await a.claimDelivery(d.id, "guardian-a", 1000, 500)).to.equal(true);
        expect(await b.claimDelivery(d.id, "guardian-b", 1200, 500)).to.equal(false);
        // Held: not offered to a sweep while the claim lives; offered to a restart of a store of its own (no `now`).
        expect(await b.pendingDeliveries(1200)).to.deep.equal([]);
        expect(await b.pendingDeliveries()).to.have.length(1);
        expect(await a.claimDelivery(d.id, "guardian-a", 1300, 500)).to.equal(true);
        await a.startAttempt(d.id, 1, 1300);
        await a.finishAttempt(d.id, 1, { ok: false, retryable: true, error: "503" }, 1310);
        // guardian-a died: its claim ran out at 1800, and guardian-b takes the delivery over with its attempts.
        expect(await b.claimDelivery(d.id, "guardian-b", 1700, 500)).to.equal(false);
        expect((await b.pendingDeliveries(1801)).map((p) => [p.delivery.id, p.delivery.attempts, p.message.id])).to.deep.equal([[d.id, 1, "find-1"]]);
        expect(await b.claimDelivery(d.id, "guardian-b", 1801, 500)).to.equal(true);
        expect(await a.claimDelivery(d.id, "guardian-a", 1802, 500)).to.equal(false);
        await b.startAttempt(d.id, 2, 1802);
        await b.finishAttempt(d.id, 2, { ok: true }, 1810);
        await b.setStatus(d.id, "delivered", null, 1811);
        expect(await a.claimDelivery(d.id, "guardian-a", 9999, 500)).to.equal(false);
        expect(await a.pendingDeliveries()).to.deep.equal([]);
        const [row] = await a.deliveries("find-1");
        expect(row).to.include({ status: "delivered", attempts: 2, lastError: null });
        expect((await a.attempts(d.id)).map((t) => [t.attempt, t.ok, t.retryable, t.error])).to.deep.equal([
          [1, false, true, "503"],
          [2, true, null, null],
        ]);
        // A released claim is free at once.
        const [e] = (await a.recordAlert(alert("find-2", "finding", "inc-1"), [], [{ notifier: "hook", recipient: "" }], 2000))!;
        expect(await a.claimDelivery(e.id, "guardian-a", 2000, 60_000)).to.equal(true);
        await a.releaseDelivery(e.id, "guardian-a");
        expect(await b.claimDelivery(e.id, "guardian-b", 2001, 60_000)).to.equal(true);
      });

      it("two handles racing to claim the same deliveries: each delivery goes to exactly one", async () => {
        const a = handle.alerts;
        const b = (await second()).alerts;
        const targets = Array.from({ length: 20 }, (_, i) => ({ notifier: "hook", recipient: `r${i}` }));
        const rows = (await a.recordAlert(alert("find-race", "finding", "inc-r"), [], targets, 1))!;
        const won = await Promise.all(
          rows.flatMap((d) => [a.claimDelivery(d.id, "guardian-a", 10, 60_000).then((ok) => (ok ? "a" : "")), b.claimDelivery(d.id, "guardian-b", 10, 60_000).then((ok) => (ok ? "b" : ""))]),
        );
        for (let i = 0; i < rows.length; i++) expect([won[2 * i], won[2 * i + 1]].filter(Boolean), `delivery ${i}`).to.have.length(1);
      });
    });
  });
}
