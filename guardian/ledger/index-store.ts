import type { Database, Statement } from "better-sqlite3";
import type { BlockRef } from "../chain/types";
import { balanceTokenId, ETHER, ZERO_ADDRESS, type Movement, type MovementKind } from "./movement";

/**
 * The reports' tables on the shared guardian database.
 *  - idx_blocks and idx_movements are the facts: every movement row carries its block's hash, and a
 *    reorg deletes exactly the rows above the common ancestor.
 *  - idx_balances: each balance now (at the cursor), updated per movement, so a report at the head is an
 *    indexed read rather than a fold from genesis; idx_totals keeps each token's sum and holder count.
 *  - idx_checkpoints: the balance after each block that changed it, keyed (asset, id, holder, block), so a
 *    report at block N reads the last checkpoint at or below N per holder with one index seek.
 *  - idx_postings: movements by the address on either side, so a statement is one range read.
 * The derived tables are keyed by block number and rebuilt from the facts on a rollback. Addresses in
 * them are small integers (idx_addresses): rows stay a few dozen bytes, so the hot B-trees fit in the page
 * cache, and each batch writes them in key order so every page is visited once, in order.
 * Balances are stored as one length character followed by hex digits: exact for uint256, and the text
 * order is the numeric order, which the ranking index relies on.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS idx_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_blocks (
  number INTEGER PRIMARY KEY, hash TEXT NOT NULL, parent_hash TEXT NOT NULL, timestamp INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idx_addresses (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS idx_movements (
  block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL, ord INTEGER NOT NULL,
  block_hash TEXT NOT NULL, tx_hash TEXT NOT NULL, kind TEXT NOT NULL, token TEXT NOT NULL,
  token_id TEXT NOT NULL, from_addr TEXT NOT NULL, to_addr TEXT NOT NULL, amount TEXT NOT NULL,
  PRIMARY KEY (block_number, tx_index, ord)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_postings (
  holder INTEGER NOT NULL, block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL, ord INTEGER NOT NULL,
  PRIMARY KEY (holder, block_number, tx_index, ord)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_balances (
  asset INTEGER NOT NULL, token_id TEXT NOT NULL, holder INTEGER NOT NULL, balance TEXT NOT NULL,
  PRIMARY KEY (asset, token_id, holder)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_balances_rank ON idx_balances (asset, token_id, balance DESC);
CREATE TABLE IF NOT EXISTS idx_totals (
  asset INTEGER NOT NULL, token_id TEXT NOT NULL, total TEXT NOT NULL, holders INTEGER NOT NULL,
  PRIMARY KEY (asset, token_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_checkpoints (
  asset INTEGER NOT NULL, token_id TEXT NOT NULL, holder INTEGER NOT NULL, block_number INTEGER NOT NULL,
  balance TEXT NOT NULL,
  PRIMARY KEY (asset, token_id, holder, block_number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_token_status (
  token TEXT PRIMARY KEY, block_number INTEGER NOT NULL, reason TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_token_meta (
  token TEXT PRIMARY KEY, decimals INTEGER, name TEXT, symbol TEXT, notes TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_tx_status (
  tx_hash TEXT PRIMARY KEY, block_number INTEGER NOT NULL, status INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_verified (
  token TEXT NOT NULL, token_id TEXT NOT NULL, block_number INTEGER NOT NULL, PRIMARY KEY (token, token_id, block_number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_state_holders (
  token TEXT NOT NULL, holder TEXT NOT NULL, first_block INTEGER NOT NULL, PRIMARY KEY (token, holder)) WITHOUT ROWID;
`;

const TABLES = [
  "idx_meta", "idx_blocks", "idx_addresses", "idx_movements", "idx_postings", "idx_balances", "idx_totals", "idx_checkpoints",
  "idx_token_status", "idx_token_meta", "idx_state_holders", "idx_verified", "idx_tx_status",
];

export const encodeBalance = (value: bigint) => {
  const hex = value.toString(16);
  return String.fromCharCode(48 + hex.length) + hex;
};
export const decodeBalance = (text: string) => BigInt("0x" + text.slice(1));
const ZERO = encodeBalance(0n);

export interface StoredMovement extends Movement {
  timestamp: number;
}

export interface Holding {
  holder: string;
  balance: bigint;
}

export class IndexStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IndexStoreError";
  }
}

/**
 * A balance that would drop below zero means the index missed history or misreads the token, so stop
 * instead of guessing. `token` says which asset: the indexer sets a token aside and goes on with the rest.
 */
export class NegativeBalanceError extends IndexStoreError {
  constructor(message: string, readonly token: string, readonly blockNumber: number) {
    super(message);
  }
}

/** A token the index stopped folding: from `blockNumber` on its events did not add up, for `reason`. */
export interface UnverifiableToken {
  token: string;
  blockNumber: number;
  reason: string;
}

/** What the chain says about a token: each field null when the view reverted or answered nonsense. */
export interface TokenMetadata {
  decimals: number | null;
  name: string | null;
  symbol: string | null;
  /** Why a field is null or was not used (e.g. "decimals() returned 255"). */
  notes: string[];
}

export interface AppliedBlock {
  block: BlockRef;
  movements: readonly Movement[];
  statuses?: ReadonlyMap<string, 0 | 1>;
}

export interface ApplyOptions {
  /** Catching up from log ranges: only blocks with transfers (and the range's last block) are present. */
  sparse?: boolean;
  /** Tokens whose balances come from state (balanceOf at the block): movements are kept, not folded. */
  stateTokens?: ReadonlySet<string>;
}

/** A block that does not extend the indexed chain: the stored tail is on another branch. */
export class ChainLinkError extends IndexStoreError {}

interface BalanceEntry {
  key: string;
  asset: number;
  tokenId: string;
  holder: number;
  initial: bigint;
  value: bigint;
  dirtyAt: number;
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class IndexStore {
  private readonly stmt: Record<string, Statement>;
  /** The address dictionary is append-only, so ids can be cached for the life of the process. */
  private readonly refs = new Map<string, number>();
  private readonly addresses = new Map<number, string>();
  private addressesLoaded = 0;

  constructor(readonly db: Database) {
    // The checkpoint, posting and ranking trees take inserts all over their key space; SQLite's default
    // 2 MB page cache would send most of them to disk once the index outgrows it.
    if ((db.pragma("cache_size", { simple: true }) as number) > -65_536) db.pragma("cache_size = -65536");
    db.exec(SCHEMA);
    const p = (sql: string) => db.prepare(sql);
    this.stmt = {
      getMeta: p("SELECT value FROM idx_meta WHERE key = ?").pluck(),
      setMeta: p("INSERT INTO idx_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      insertBlock: p("INSERT OR REPLACE INTO idx_blocks (number, hash, parent_hash, timestamp) VALUES (?, ?, ?, ?)"),
      getBlock: p("SELECT number, hash, parent_hash AS parentHash, timestamp FROM idx_blocks WHERE number = ?"),
      blocksBelow: p("SELECT number, hash, parent_hash AS parentHash, timestamp FROM idx_blocks WHERE number <= ? ORDER BY number DESC LIMIT ?"),
      findRef: p("SELECT id FROM idx_addresses WHERE address = ?").pluck(),
      insertRef: p("INSERT INTO idx_addresses (address) VALUES (?)"),
      insertMovement: p("INSERT INTO idx_movements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      insertPosting: p("INSERT OR IGNORE INTO idx_postings VALUES (?, ?, ?, ?)"),
      getBalance: p("SELECT balance FROM idx_balances WHERE asset = ? AND token_id = ? AND holder = ?").pluck(),
      setBalance: p("INSERT OR REPLACE INTO idx_balances (asset, token_id, holder, balance) VALUES (?, ?, ?, ?)"),
      deleteBalance: p("DELETE FROM idx_balances WHERE asset = ? AND token_id = ? AND holder = ?"),
      getTotals: p("SELECT total, holders FROM idx_totals WHERE asset = ? AND token_id = ?").raw(),
      setTotals: p("INSERT OR REPLACE INTO idx_totals (asset, token_id, total, holders) VALUES (?, ?, ?, ?)"),
      setCheckpoint: p("INSERT INTO idx_checkpoints VALUES (?, ?, ?, ?, ?)"),
      balanceAt: p(
        "SELECT balance FROM idx_checkpoints WHERE asset = ? AND token_id = ? AND holder = ? AND block_number <= ? ORDER BY block_number DESC LIMIT 1",
      ).pluck(),
      lastCheckpoint: p("SELECT balance FROM idx_checkpoints WHERE asset = ? AND token_id = ? AND holder = ? ORDER BY block_number DESC LIMIT 1").pluck(),
      topHolders: p(
        `SELECT a.address, b.balance FROM idx_balances b JOIN idx_addresses a ON a.id = b.holder
         WHERE b.asset = ? AND b.token_id = ? AND b.balance > '${ZERO}' ORDER BY b.balance DESC, a.address LIMIT ?`,
      ).raw(),
      holdersAt: p(
        `SELECT b.holder, (SELECT c.balance FROM idx_checkpoints c
                           WHERE c.asset = b.asset AND c.token_id = b.token_id AND c.holder = b.holder AND c.block_number <= @block
                           ORDER BY c.block_number DESC LIMIT 1)
         FROM idx_balances b WHERE b.asset = @asset AND b.token_id = @tokenId`,
      ).raw(),
      addressesAfter: p("SELECT id, address FROM idx_addresses WHERE id > ? ORDER BY id").raw(),
      idsOfHolderAt: p(
        `SELECT b.token_id, (SELECT c.balance FROM idx_checkpoints c
                             WHERE c.asset = b.asset AND c.token_id = b.token_id AND c.holder = b.holder AND c.block_number <= @block
                             ORDER BY c.block_number DESC LIMIT 1) AS balance
         FROM idx_balances b WHERE b.asset = @asset AND b.holder = @holder`,
      ).raw(),
      movedSince: p("SELECT DISTINCT kind, token, token_id, from_addr, to_addr FROM idx_movements WHERE block_number > ?").raw(),
      deleteMovements: p("DELETE FROM idx_movements WHERE block_number > ?"),
      deleteBlocks: p("DELETE FROM idx_blocks WHERE number > ?"),
      deleteCheckpointsAfter: p("DELETE FROM idx_checkpoints WHERE asset = ? AND token_id = ? AND holder = ? AND block_number > ?"),
      deletePostingsAfter: p("DELETE FROM idx_postings WHERE holder = ? AND block_number > ?"),
      insertStateHolder: p("INSERT OR IGNORE INTO idx_state_holders (token, holder, first_block) VALUES (?, ?, ?)"),
      stateHoldersAt: p("SELECT holder FROM idx_state_holders WHERE token = ? AND first_block <= ? ORDER BY holder").pluck(),
      deleteStateHoldersAfter: p("DELETE FROM idx_state_holders WHERE first_block > ?"),
    };
  }

  meta(key: string): string | undefined {
    return this.stmt.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }

  /** The last block applied; every report at "the head" is at this block. */
  cursor(): BlockRef | undefined {
    const number = this.meta("cursor");
    return number === undefined ? undefined : this.block(Number(number));
  }

  block(number: number): BlockRef | undefined {
    return this.stmt.getBlock.get(number) as BlockRef | undefined;
  }

  /** Stored blocks at or below `below`, newest first, a page at a time (for walking back after a reorg). */
  blocksBelow(below: number, limit: number): BlockRef[] {
    return this.stmt.blocksBelow.all(below, limit) as BlockRef[];
  }

  /** The dictionary id of an address (or ETHER), created on first use. */
  private ref(address: string): number {
    let id = this.refs.get(address);
    if (id === undefined) {
      id = (this.stmt.findRef.get(address) as number | undefined) ?? Number(this.stmt.insertRef.run(address).lastInsertRowid);
      this.refs.set(address, id);
    }
    return id;
  }

  /** Address of a dictionary id; the reverse map grows by reading only ids it has not seen. */
  private addressOf(id: number): string {
    let address = this.addresses.get(id);
    if (address === undefined) {
      for (const [rowId, rowAddress] of this.stmt.addressesAfter.all(this.addressesLoaded) as [number, string][]) {
        this.addresses.set(rowId, rowAddress);
        this.addressesLoaded = rowId;
      }
      address = this.addresses.get(id);
      if (address === undefined) throw new IndexStoreError(`address id ${id} is not in idx_addresses`);
    }
    return address;
  }

  /** The id of an address the index has seen, without creating one for a read. */
  private knownRef(address: string): number | undefined {
    const id = this.refs.get(address) ?? (this.stmt.findRef.get(address) as number | undefined);
    if (id !== undefined) this.refs.set(address, id);
    return id;
  }

  /** Starts an empty index at `anchor` with opening ether balances (eth_getBalance at the anchor). */
  initialise(anchor: BlockRef, openingEther: ReadonlyMap<string, bigint>, fingerprint: string): void {
    this.db.transaction(() => {
      this.stmt.insertBlock.run(anchor.number, anchor.hash, anchor.parentHash, anchor.timestamp);
      let total = 0n;
      let holders = 0;
      for (const [holder, balance] of openingEther) {
        const asset = this.ref(ETHER);
        const id = this.ref(holder);
        this.stmt.setBalance.run(asset, "", id, encodeBalance(balance));
        this.stmt.setCheckpoint.run(asset, "", id, anchor.number, encodeBalance(balance));
        total += balance;
        if (balance > 0n) holders++;
      }
      if (openingEther.size > 0) this.stmt.setTotals.run(this.ref(ETHER), "", total.toString(), holders);
      this.setMeta("fingerprint", fingerprint);
      this.setMeta("anchor", String(anchor.number));
      this.setMeta("cursor", String(anchor.number));
    })();
  }

  /** Drops every row of the index (used when the reporting configuration changed). */
  reset(): void {
    this.db.transaction(() => {
      for (const table of TABLES) this.db.prepare(`DELETE FROM ${table}`).run();
    })();
    this.refs.clear();
    this.addresses.clear();
    this.addressesLoaded = 0;
  }

  /** Folds head-balance changes into idx_totals: the sum and the count of non-zero holders per asset. */
  private adjustTotals(changes: Iterable<{ asset: number; tokenId: string; before: bigint; after: bigint }>): void {
    const deltas = new Map<string, { asset: number; tokenId: string; total: bigint; holders: number }>();
    for (const c of changes) {
      if (c.before === c.after) continue;
      const key = c.asset + "|" + c.tokenId;
      const d = deltas.get(key) ?? { asset: c.asset, tokenId: c.tokenId, total: 0n, holders: 0 };
      d.total += c.after - c.before;
      d.holders += (c.after > 0n ? 1 : 0) - (c.before > 0n ? 1 : 0);
      deltas.set(key, d);
    }
    for (const d of deltas.values()) {
      const [total, holders] = (this.stmt.getTotals.get(d.asset, d.tokenId) as [string, number] | undefined) ?? ["0", 0];
      this.stmt.setTotals.run(d.asset, d.tokenId, (BigInt(total) + d.total).toString(), holders + d.holders);
    }
  }

  /**
   * Applies blocks in one transaction. Each block must extend the cursor (number + 1 and the parent
   * hash), checked inside the transaction so two writers on the same file cannot both apply a block;
   * returns false, applying nothing, if the cursor already moved past. `sparse` is for catching up from
   * log ranges, where only blocks with transfers (and the range's last block) are present.
   */
  applyBlocks(batch: readonly AppliedBlock[], trackedEther: ReadonlySet<string>, opts: ApplyOptions = {}): boolean {
    if (batch.length === 0) return true;
    try {
      return this.applyInTransaction(batch, trackedEther, opts);
    } catch (err) {
      // Address ids handed out inside the rolled-back transaction are gone from idx_addresses: forget them
      // too, or the next batch would give two addresses the same id.
      this.refs.clear();
      this.addresses.clear();
      this.addressesLoaded = 0;
      throw err;
    }
  }

  private applyInTransaction(batch: readonly AppliedBlock[], trackedEther: ReadonlySet<string>, opts: ApplyOptions): boolean {
    return this.db.transaction(() => {
      const cursor = Number(this.meta("cursor"));
      if (batch[0].block.number <= cursor) return false;
      const balances = new Map<string, BalanceEntry>();
      let changedInBlock: BalanceEntry[] = [];
      const checkpoints: { key: string; entry: BalanceEntry; block: number; balance: string }[] = [];
      const postings: { holder: number; m: Movement }[] = [];
      const touch = (token: string, tokenId: string, holder: string, delta: bigint, m: Movement) => {
        const asset = this.ref(token);
        const holderRef = this.ref(holder);
        const key = asset + "|" + tokenId + "|" + holderRef;
        let entry = balances.get(key);
        if (!entry) {
          const stored = this.stmt.getBalance.get(asset, tokenId, holderRef) as string | undefined;
          const initial = stored ? decodeBalance(stored) : 0n;
          entry = { key, asset, tokenId, holder: holderRef, initial, value: initial, dirtyAt: -1 };
          balances.set(key, entry);
        }
        entry.value += delta;
        if (entry.value < 0n) {
          throw new NegativeBalanceError(
            `balance of ${holder} in ${token}${tokenId ? ` id ${tokenId}` : ""} would fall below zero at block ${m.blockNumber} (tx ${m.txHash}): ` +
              (token === ETHER
                ? "the index is missing earlier history of this account"
                : "its Transfer events do not add up (history before reporting.fromBlock, mints or burns logged in a non-standard shape, or balances that change without events); " +
                  "set reporting.fromBlock at or before the token's deployment, or give the token `balances: state`"),
            token,
            m.blockNumber,
          );
        }
        if (entry.dirtyAt !== m.blockNumber) {
          entry.dirtyAt = m.blockNumber;
          changedInBlock.push(entry);
        }
        postings.push({ holder: holderRef, m });
      };
      let previous = cursor;
      let expectedParent = this.block(cursor)?.hash;
      for (const { block, movements, statuses } of batch) {
        if (statuses) for (const [hash, status] of statuses) this.db.prepare("INSERT OR REPLACE INTO idx_tx_status VALUES (?, ?, ?)").run(hash, block.number, status);
        if (block.number !== previous + 1 && !opts.sparse) {
          throw new ChainLinkError(`block ${block.number} does not follow the indexed block ${previous}`);
        }
        if (block.number === previous + 1 && expectedParent && block.parentHash !== expectedParent) {
          throw new ChainLinkError(`block ${block.number} (${block.hash}) has parent ${block.parentHash}, but the index holds ${expectedParent} at ${previous}`);
        }
        this.stmt.insertBlock.run(block.number, block.hash, block.parentHash, block.timestamp);
        for (const m of movements) {
          this.stmt.insertMovement.run(m.blockNumber, m.txIndex, m.ord, m.blockHash, m.txHash, m.kind, m.token, m.tokenId, m.from, m.to, m.amount.toString());
          if (m.token === ETHER) {
            // Ether is only known for followed accounts; the other side is just a counterparty.
            if (trackedEther.has(m.from)) touch(ETHER, "", m.from, -m.amount, m);
            if (trackedEther.has(m.to)) touch(ETHER, "", m.to, m.amount, m);
          } else if (opts.stateTokens?.has(m.token)) {
            // Balances of this token come from balanceOf at the report's block; remember who holds it.
            for (const holder of [m.from, m.to]) {
              if (holder === ZERO_ADDRESS) continue;
              this.stmt.insertStateHolder.run(m.token, holder, m.blockNumber);
              postings.push({ holder: this.ref(holder), m });
            }
          } else {
            const tokenId = balanceTokenId(m.kind, m.tokenId);
            if (m.from !== ZERO_ADDRESS) touch(m.token, tokenId, m.from, -m.amount, m);
            if (m.to !== ZERO_ADDRESS) touch(m.token, tokenId, m.to, m.amount, m);
          }
        }
        // One checkpoint per changed balance per block: its value after all of the block's movements.
        for (const entry of changedInBlock) checkpoints.push({ key: entry.key, entry, block: block.number, balance: encodeBalance(entry.value) });
        changedInBlock = [];
        previous = block.number;
        expectedParent = block.hash;
      }
      checkpoints.sort((a, b) => byKey(a, b) || a.block - b.block);
      for (const c of checkpoints) this.stmt.setCheckpoint.run(c.entry.asset, c.entry.tokenId, c.entry.holder, c.block, c.balance);
      postings.sort((a, b) => a.holder - b.holder || a.m.blockNumber - b.m.blockNumber || a.m.txIndex - b.m.txIndex || a.m.ord - b.m.ord);
      for (const { holder, m } of postings) this.stmt.insertPosting.run(holder, m.blockNumber, m.txIndex, m.ord);
      const heads = [...balances.values()].sort(byKey);
      for (const e of heads) this.stmt.setBalance.run(e.asset, e.tokenId, e.holder, encodeBalance(e.value));
      this.adjustTotals(heads.map((e) => ({ asset: e.asset, tokenId: e.tokenId, before: e.initial, after: e.value })));
      this.setMeta("cursor", String(previous));
      return true;
    })();
  }

  /**
   * Undoes every block above `ancestor`: their movements, blocks, postings and checkpoints go, and the head
   * balance of each holder they touched returns to its last remaining checkpoint.
   */
  rollbackTo(ancestor: number): void {
    this.db.transaction(() => {
      const keys = new Map<string, [string, string, string]>();
      for (const [kind, token, tokenId, from, to] of this.stmt.movedSince.all(ancestor) as [MovementKind, string, string, string, string][]) {
        const id = balanceTokenId(kind, tokenId);
        for (const holder of [from, to]) keys.set(token + "|" + id + "|" + holder, [token, id, holder]);
      }
      const changes: { asset: number; tokenId: string; before: bigint; after: bigint }[] = [];
      const holders = new Set<number>();
      for (const [token, tokenId, holder] of keys.values()) {
        const asset = this.knownRef(token);
        const holderRef = this.knownRef(holder);
        if (asset === undefined || holderRef === undefined) continue;
        holders.add(holderRef);
        const current = this.stmt.getBalance.get(asset, tokenId, holderRef) as string | undefined;
        if (current === undefined) continue; // never a balance of ours (an untracked ether counterparty)
        this.stmt.deleteCheckpointsAfter.run(asset, tokenId, holderRef, ancestor);
        const last = this.stmt.lastCheckpoint.get(asset, tokenId, holderRef) as string | undefined;
        if (last === undefined) this.stmt.deleteBalance.run(asset, tokenId, holderRef);
        else this.stmt.setBalance.run(asset, tokenId, holderRef, last);
        changes.push({ asset, tokenId, before: decodeBalance(current), after: last === undefined ? 0n : decodeBalance(last) });
      }
      this.adjustTotals(changes);
      for (const holder of holders) this.stmt.deletePostingsAfter.run(holder, ancestor);
      this.stmt.deleteStateHoldersAfter.run(ancestor);
      this.db.prepare("DELETE FROM idx_verified WHERE block_number > ?").run(ancestor);
      this.db.prepare("DELETE FROM idx_tx_status WHERE block_number > ?").run(ancestor);
      this.stmt.deleteMovements.run(ancestor);
      this.stmt.deleteBlocks.run(ancestor);

      const cursor = Number(this.meta("cursor"));
      if (cursor > ancestor) this.setMeta("cursor", String(ancestor));
    })();
  }

  /**
   * Sets a token aside: its rows go (movements, postings, balances, checkpoints, totals) and it is not
   * read again, so one token the index cannot fold never stops the others. Only a reindex undoes it: its
   * earlier rows are gone, so a rollback below `blockNumber` cannot bring it back.
   */
  markUnverifiable(token: string, blockNumber: number, reason: string): void {
    this.db.transaction(() => {
      this.db.prepare("INSERT OR REPLACE INTO idx_token_status (token, block_number, reason) VALUES (?, ?, ?)").run(token, blockNumber, reason);
      const asset = this.knownRef(token);
      this.db
        .prepare(
          `DELETE FROM idx_postings WHERE EXISTS (SELECT 1 FROM idx_movements m WHERE m.token = ? AND m.block_number = idx_postings.block_number
             AND m.tx_index = idx_postings.tx_index AND m.ord = idx_postings.ord)`,
        )
        .run(token);
      this.db.prepare("DELETE FROM idx_movements WHERE token = ?").run(token);
      this.db.prepare("DELETE FROM idx_state_holders WHERE token = ?").run(token);
      if (asset !== undefined) for (const table of ["idx_balances", "idx_checkpoints", "idx_totals"]) this.db.prepare(`DELETE FROM ${table} WHERE asset = ?`).run(asset);
    })();
  }

  /** Tokens set aside, by address. */
  unverifiable(): Map<string, UnverifiableToken> {
    const rows = this.db.prepare("SELECT token, block_number AS blockNumber, reason FROM idx_token_status").all() as UnverifiableToken[];
    return new Map(rows.map((r) => [r.token, r]));
  }

  tokenMetadata(token: string): TokenMetadata | undefined {
    const row = this.db.prepare("SELECT decimals, name, symbol, notes FROM idx_token_meta WHERE token = ?").get(token) as
      | { decimals: number | null; name: string | null; symbol: string | null; notes: string }
      | undefined;
    return row && { decimals: row.decimals, name: row.name, symbol: row.symbol, notes: JSON.parse(row.notes) as string[] };
  }

  setTokenMetadata(token: string, meta: TokenMetadata): void {
    this.db.prepare("INSERT OR REPLACE INTO idx_token_meta (token, decimals, name, symbol, notes) VALUES (?, ?, ?, ?, ?)").run(token, meta.decimals, meta.name, meta.symbol, JSON.stringify(meta.notes));
  }

  /** Status (1 success, 0 reverted) of transactions that moved followed ether, by hash. */
  txStatuses(hashes: readonly string[]): Map<string, 0 | 1> {
    const get = this.db.prepare("SELECT status FROM idx_tx_status WHERE tx_hash = ?").pluck();
    const out = new Map<string, 0 | 1>();
    for (const h of hashes) {
      const s = get.get(h) as 0 | 1 | undefined;
      if (s !== undefined) out.set(h, s);
    }
    return out;
  }

  /** The highest block at or below `block` at which a report checked every changed holder and passed. */
  lastVerified(token: string, tokenId: string, block: number): number | undefined {
    return this.db.prepare("SELECT max(block_number) FROM idx_verified WHERE token = ? AND token_id = ? AND block_number <= ?").pluck().get(token, tokenId, block) as number | undefined ?? undefined;
  }

  markVerified(token: string, tokenId: string, block: number): void {
    this.db.prepare("INSERT OR IGNORE INTO idx_verified (token, token_id, block_number) VALUES (?, ?, ?)").run(token, tokenId, block);
  }

  /** Holders whose balance of a token changed in blocks (after, upTo], with their balance at `upTo`. */
  changedHolders(token: string, tokenId: string, after: number, upTo: number): Holding[] {
    const asset = this.knownRef(token);
    if (asset === undefined) return [];
    const ids = this.db
      .prepare("SELECT DISTINCT holder FROM idx_checkpoints WHERE asset = ? AND token_id = ? AND block_number > ? AND block_number <= ?")
      .pluck()
      .all(asset, tokenId, after, upTo) as number[];
    return ids.map((id) => {
      const text = this.stmt.balanceAt.get(asset, tokenId, id, upTo) as string | undefined;
      return { holder: this.addressOf(id), balance: text ? decodeBalance(text) : 0n };
    });
  }

  /** Holders a state-mode token's events revealed up to `block`, by address. */
  stateHolders(token: string, block: number): string[] {
    return this.stmt.stateHoldersAt.all(token, block) as string[];
  }

  /**
   * Non-zero balances of a token (an ERC-1155 id), largest first and ties by address: at the cursor from
   * the ranking index (`limit` stops the read early), at `block` from each holder's last checkpoint.
   */
  holders(token: string, tokenId: string, block?: number, limit?: number): Holding[] {
    const asset = this.knownRef(token);
    if (asset === undefined) return [];
    if (block === undefined) {
      const rows = this.stmt.topHolders.all(asset, tokenId, limit ?? -1) as [string, string][];
      return rows.map(([holder, balance]) => ({ holder, balance: decodeBalance(balance) }));
    }
    // One index seek per holder in C; ranking in JS, which is cheaper than an SQL sort joined to addresses.
    const out: Holding[] = [];
    for (const [holder, balance] of this.stmt.holdersAt.all({ asset, tokenId, block }) as [number, string | null][]) {
      if (balance !== null && balance !== ZERO) out.push({ holder: this.addressOf(holder), balance: decodeBalance(balance) });
    }
    out.sort((a, b) => (a.balance === b.balance ? (a.holder < b.holder ? -1 : 1) : a.balance > b.balance ? -1 : 1));
    return limit === undefined ? out : out.slice(0, limit);
  }

  /** The maintained sum and number of non-zero holders of a token (an ERC-1155 id) at the cursor. */
  totals(token: string, tokenId: string): { total: bigint; holders: number } {
    const asset = this.knownRef(token);
    const row = asset === undefined ? undefined : (this.stmt.getTotals.get(asset, tokenId) as [string, number] | undefined);
    return row ? { total: BigInt(row[0]), holders: row[1] } : { total: 0n, holders: 0 };
  }

  balance(token: string, tokenId: string, holder: string, block?: number): bigint {
    const asset = this.knownRef(token);
    const holderRef = this.knownRef(holder);
    if (asset === undefined || holderRef === undefined) return 0n;
    const text = (block === undefined ? this.stmt.getBalance.get(asset, tokenId, holderRef) : this.stmt.balanceAt.get(asset, tokenId, holderRef, block)) as string | undefined;
    return text ? decodeBalance(text) : 0n;
  }

  /** ERC-1155 ids a holder has a non-zero balance of at `block`, by id. */
  idsOf(token: string, holder: string, block: number): { tokenId: string; balance: bigint }[] {
    const asset = this.knownRef(token);
    const holderRef = this.knownRef(holder);
    if (asset === undefined || holderRef === undefined) return [];
    return (this.stmt.idsOfHolderAt.all({ asset, holder: holderRef, block }) as [string, string | null][])
      .filter((r): r is [string, string] => r[1] !== null && r[1] !== ZERO)
      .map(([tokenId, balance]) => ({ tokenId, balance: decodeBalance(balance) }))
      .sort((a, b) => (BigInt(a.tokenId) < BigInt(b.tokenId) ? -1 : 1));
  }

  /** Movements in [from, to] where `account` is sender or receiver, in chain order. */
  movementsOf(account: string, from: number, to: number): StoredMovement[] {
    const holder = this.knownRef(account);
    if (holder === undefined) return [];
    return this.queryMovements(
      `SELECT m.*, b.timestamp FROM idx_postings p
       JOIN idx_movements m ON m.block_number = p.block_number AND m.tx_index = p.tx_index AND m.ord = p.ord
       JOIN idx_blocks b ON b.number = p.block_number
       WHERE p.holder = @holder AND p.block_number BETWEEN @from AND @to ORDER BY p.block_number, p.tx_index, p.ord`,
      { holder, from, to },
    );
  }

  /** Movements of one token in [from, to], in chain order (a scan of the range: exports are rare). */
  movementsOfToken(token: string, from: number, to: number): StoredMovement[] {
    return this.queryMovements(
      `SELECT m.*, b.timestamp FROM idx_movements m JOIN idx_blocks b ON b.number = m.block_number
       WHERE m.token = @token AND m.block_number BETWEEN @from AND @to ORDER BY m.block_number, m.tx_index, m.ord`,
      { token, from, to },
    );
  }

  private queryMovements(sql: string, params: Record<string, string | number>): StoredMovement[] {
    const rows = this.db.prepare(sql).raw().all(params) as (string | number)[][];
    // Column order of idx_movements, then the block timestamp.
    return rows.map((r) => ({
      blockNumber: r[0] as number,
      txIndex: r[1] as number,
      ord: r[2] as number,
      blockHash: r[3] as string,
      txHash: r[4] as string,
      kind: r[5] as MovementKind,
      token: r[6] as string,
      tokenId: r[7] as string,
      from: r[8] as string,
      to: r[9] as string,
      amount: BigInt(r[10] as string),
      timestamp: r[11] as number,
    }));
  }
}
