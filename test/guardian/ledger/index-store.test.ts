import { expect } from "chai";
import { openDatabase, type Db } from "../../../guardian/state/database";
import type { BlockRef } from "../../../guardian/chain/types";
import { IndexStore, SCHEMA_VERSION, type AppliedBlock } from "../../../guardian/ledger/index-store";
import { ETHER, ordOfLog, ZERO_ADDRESS, type Movement } from "../../../guardian/ledger/movement";
import { IndexStoreV1 } from "./fixtures/index-store-v1";
import { prng } from "../../support/prng";

// The store on its own (no node): snapshots, the per-block totals, entries and the schema migration,
// each checked against the per-holder read that needs none of them.

const TOKEN = "0x00000000000000000000000000000000000070c1";
const NFT = "0x00000000000000000000000000000000000070c2";
const holder = (i: number) => "0x" + (0xa000 + i).toString(16).padStart(40, "0");
const ALICE = holder(0);


const hashOf = (branch: number, n: number) => "0x" + branch.toString(16).padStart(8, "0") + n.toString(16).padStart(56, "0");

/**
 * A chain of token transfers among 12 holders (mints first, then transfers of at most what the sender
 * holds, some burns, some self-transfers), ERC-721 moves and ether of ALICE, from block `first` on
 * `branch` (blocks before `first` are on branch 1).
 */
function chain(first: number, last: number, branch: number, seed: number, held: Map<string, bigint>): AppliedBlock[] {
  const random = prng(seed);
  const out: AppliedBlock[] = [];
  for (let n = first; n <= last; n++) {
    const parentBranch = n - 1 >= first ? branch : 1;
    const block: BlockRef = { number: n, hash: hashOf(branch, n), parentHash: hashOf(parentBranch, n - 1), timestamp: 1_700_000_000 + n * 12 };
    const movements: Movement[] = [];
    const count = Math.floor(random() * 4);
    for (let i = 0; i < count; i++) {
      const base = { blockNumber: n, blockHash: block.hash, txIndex: i, txHash: hashOf(0x7e00 + branch, n * 10 + i), ord: ordOfLog(0) };
      const from = random() < 0.15 ? ZERO_ADDRESS : holder(Math.floor(random() * 12));
      const to = random() < 0.05 ? ZERO_ADDRESS : random() < 0.05 ? from : holder(Math.floor(random() * 12));
      const available = from === ZERO_ADDRESS ? 1000n : held.get(from) ?? 0n;
      const amount = available === 0n ? 0n : BigInt(1 + Math.floor(random() * Number(available)));
      if (from === ZERO_ADDRESS && to === ZERO_ADDRESS) continue;
      if (from !== ZERO_ADDRESS) held.set(from, available - amount);
      if (to !== ZERO_ADDRESS) held.set(to, (held.get(to) ?? 0n) + amount);
      movements.push({ ...base, kind: "erc20", token: TOKEN, tokenId: "", from, to, amount });
    }
    if (n % 7 === 0) {
      movements.push({ blockNumber: n, blockHash: block.hash, txIndex: 9, txHash: hashOf(0x7f00 + branch, n), ord: ordOfLog(0), kind: "erc721", token: NFT, tokenId: String(n), from: ZERO_ADDRESS, to: holder(n % 3), amount: 1n });
      movements.push({ blockNumber: n, blockHash: block.hash, txIndex: 9, txHash: hashOf(0x7f00 + branch, n), ord: ordOfLog(1), kind: "ether:top-level", token: ETHER, tokenId: "", from: ALICE, to: holder(5), amount: 1n });
    }
    out.push({ block, movements });
  }
  return out;
}

const anchor: BlockRef = { number: 0, hash: hashOf(1, 0), parentHash: "0x" + "00".repeat(32), timestamp: 1_700_000_000 };
const tracked = new Set([ALICE]);

/** Applies `blocks` in batches of varying size, like a catch-up followed by single blocks. */
function applyAll(store: { applyBlocks(b: readonly AppliedBlock[], t: ReadonlySet<string>): boolean }, blocks: AppliedBlock[]): void {
  let i = 0;
  for (const size of [13, 1, 1, 9, 2, 30, 1, 1, 1, 50, 5, 200]) {
    if (i >= blocks.length) break;
    store.applyBlocks(blocks.slice(i, i + size), tracked);
    i += size;
  }
  while (i < blocks.length) store.applyBlocks(blocks.slice(i, ++i), tracked);
}

/** Every past top K the snapshots can answer equals the per-holder read; returns how many they answered. */
function expectSnapshotsExact(store: IndexStore, token: string, last: number): number {
  let answered = 0;
  for (let block = 0; block <= last; block++) {
    const every = store.holders(token, "", block);
    const total = every.reduce((s, h) => s + h.balance, 0n);
    for (const k of [1, 2, 3, 5, 20]) {
      const past = store.topHoldersAt(token, "", block, k);
      if (!past) continue;
      answered++;
      expect(past.holders, `top ${k} at block ${block}`).to.deep.equal(every.slice(0, k));
      expect(past.total, `total at block ${block}`).to.equal(total);
      expect(past.count, `holders at block ${block}`).to.equal(every.length);
    }
  }
  return answered;
}

describe("ledger index store", () => {
  const dbs: Db[] = [];
  const open = () => {
    const db = openDatabase(":memory:");
    dbs.push(db);
    return db;
  };
  after(() => dbs.forEach((db) => db.close()));

  it("answers past top-K cap tables from snapshots exactly as the per-holder read, through a reorg across snapshot points", () => {
    const store = new IndexStore(open(), { every: 5, holders: 3 });
    store.initialise(anchor, new Map([[ALICE, 1000n]]), "test");
    const held = new Map<string, bigint>();
    const main = chain(1, 120, 1, 7, held);
    applyAll(store, main);
    const points = () => store.db.prepare("SELECT block_number FROM idx_snapshot_points ORDER BY block_number").pluck().all() as number[];
    expect(points().length).to.be.greaterThan(10);
    expect(expectSnapshotsExact(store, TOKEN, 120)).to.be.greaterThan(300);
    expect(expectSnapshotsExact(store, NFT, 120)).to.be.greaterThan(100);

    // A reorg from block 61: points, snapshots and totals of the dead branch go, and the new branch's are
    // taken from the movements still stored since the last remaining point.
    const ancestor = 60;
    const before = points();
    expect(before.filter((p) => p > ancestor).length).to.be.greaterThan(3);
    store.rollbackTo(ancestor);
    expect(points().every((p) => p <= ancestor)).to.equal(true);
    expect(store.db.prepare("SELECT count(*) FROM idx_snapshots WHERE block_number > ?").pluck().get(ancestor)).to.equal(0);
    expect(store.db.prepare("SELECT count(*) FROM idx_total_history WHERE block_number > ?").pluck().get(ancestor)).to.equal(0);
    const replay = new Map<string, bigint>();
    chain(1, ancestor, 1, 7, replay);
    applyAll(store, chain(ancestor + 1, 140, 2, 99, replay));
    expect(points().some((p) => p > ancestor)).to.equal(true);
    expect(expectSnapshotsExact(store, TOKEN, 140)).to.be.greaterThan(300);
    expectSnapshotsExact(store, NFT, 140);
    const head = store.holders(TOKEN, "");
    expect(head).to.deep.equal(store.holders(TOKEN, "", 140));
    expect(head.reduce((s, h) => s + h.balance, 0n)).to.equal(store.totals(TOKEN, "").total);
  });

  it("keeps snapshots small when most holders hold the same (single NFTs), and stays exact", () => {
    const store = new IndexStore(open(), { every: 5, holders: 3 });
    store.initialise(anchor, new Map(), "test");
    const random = prng(5);
    const owner = new Map<number, string>();
    const blocks: AppliedBlock[] = [];
    for (let n = 1; n <= 150; n++) {
      const block: BlockRef = { number: n, hash: hashOf(1, n), parentHash: n === 1 ? anchor.hash : hashOf(1, n - 1), timestamp: 1_700_000_000 + n * 12 };
      const movements: Movement[] = [];
      for (let i = 0; i < 3; i++) {
        // Mostly mints to new holders (one item each), sometimes a holder's item moves to another.
        const id = n <= 60 || random() < 0.5 ? n * 10 + i : [...owner.keys()][Math.floor(random() * owner.size)];
        const from = owner.get(id) ?? ZERO_ADDRESS;
        const to = holder(100 + Math.floor(random() * (n <= 60 ? 200 : 20)));
        owner.set(id, to);
        movements.push({ blockNumber: n, blockHash: block.hash, txIndex: i, txHash: hashOf(0x7e00, n * 10 + i), ord: ordOfLog(0), kind: "erc721", token: NFT, tokenId: String(id), from, to, amount: 1n });
      }
      blocks.push({ block, movements });
    }
    applyAll(store, blocks);
    const largest = store.db.prepare("SELECT max(n) FROM (SELECT count(*) AS n FROM idx_snapshot_rows GROUP BY block_number)").pluck().get() as number;
    expect(store.holders(NFT, "").length).to.be.greaterThan(50);
    expect(largest).to.be.at.most(4 * 3);
    expectSnapshotsExact(store, NFT, 150);
  });

  it("reads a statement's rows from the entries as the movements table has them", () => {
    const store = new IndexStore(open(), { every: 5, holders: 3 });
    store.initialise(anchor, new Map([[ALICE, 1000n]]), "test");
    applyAll(store, chain(1, 80, 1, 11, new Map()));
    for (const account of [ALICE, holder(1), holder(5)]) {
      const viaMovements = store.movementsOf(account, 10, 70);
      const lines = store.statementLines(account, 10, 70).flatMap((l) => l.lines);
      const strip = (m: { blockNumber: number; txHash: string; kind: string; token: string; tokenId: string; from: string; to: string; amount: bigint; timestamp: number }) =>
        [m.blockNumber, m.txHash, m.kind, m.token, m.tokenId, m.from, m.to, m.amount, m.timestamp].join("|");
      expect(lines.map(strip).sort()).to.deep.equal(viaMovements.map(strip).sort());
      expect(viaMovements.length).to.be.greaterThan(0);
    }
    // The opening ether balance is an entry (the balance at the anchor), never a statement row.
    expect(store.balance(ETHER, "", ALICE, 0)).to.equal(1000n);
    expect(store.movementsOf(ALICE, 0, 80).every((m) => m.blockNumber > 0)).to.equal(true);
  });

  it("opens a store written at schema 1 and migrates it in place, with the same reports", () => {
    const blocks = chain(1, 90, 1, 23, new Map());
    const oldDb = open();
    const old = new IndexStoreV1(oldDb);
    old.initialise(anchor, new Map([[ALICE, 1000n]]), "test");
    applyAll(old, blocks);
    expect(oldDb.prepare("SELECT count(*) FROM idx_postings").pluck().get()).to.be.greaterThan(100);

    const migrated = new IndexStore(oldDb, { every: 5, holders: 3 });
    const tables = oldDb.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    expect(tables).to.not.include("idx_postings");
    expect(tables).to.not.include("idx_checkpoints");
    expect(migrated.meta("schema")).to.equal(String(SCHEMA_VERSION));

    const fresh = new IndexStore(open(), { every: 5, holders: 3 });
    fresh.initialise(anchor, new Map([[ALICE, 1000n]]), "test");
    applyAll(fresh, blocks);
    const columns = "holder, asset, token_id, block_number, tx_index, ord, timestamp, tx_hash, kind, item, counterparty, side, amount, balance";
    const entries = (s: IndexStore) => s.db.prepare(`SELECT ${columns} FROM idx_entries ORDER BY holder, asset, token_id, block_number, tx_index, ord`).raw().all();
    expect(entries(migrated)).to.deep.equal(entries(fresh));
    for (const account of [ALICE, holder(2), holder(5)]) {
      expect(migrated.statementLines(account, 1, 90)).to.deep.equal(fresh.statementLines(account, 1, 90));
      expect(migrated.balance(ETHER, "", account, 45)).to.equal(fresh.balance(ETHER, "", account, 45));
    }
    for (const block of [0, 30, 90]) expect(migrated.holders(TOKEN, "", block)).to.deep.equal(fresh.holders(TOKEN, "", block));
    // Snapshots start at the migration's cursor: a later block reads them, an earlier one every holder.
    expect(migrated.topHoldersAt(TOKEN, "", 30, 3)).to.equal(undefined);
    expect(migrated.topHoldersAt(TOKEN, "", 90, 3)?.holders).to.deep.equal(fresh.holders(TOKEN, "", 90).slice(0, 3));

    // The migrated store goes on indexing and rolling back like a new one.
    const more = chain(91, 130, 1, 31, new Map(fresh.holders(TOKEN, "").map((h) => [h.holder, h.balance])));
    applyAll(migrated, more);
    applyAll(fresh, more);
    expect(expectSnapshotsExact(migrated, TOKEN, 130)).to.be.greaterThan(100);
    migrated.rollbackTo(100);
    fresh.rollbackTo(100);
    expect(entries(migrated)).to.deep.equal(entries(fresh));
    expect(migrated.holders(TOKEN, "")).to.deep.equal(fresh.holders(TOKEN, ""));
  });
});
