import type { Database, Statement } from "better-sqlite3";
import type { BlockRef } from "../chain/types";
import { balanceTokenId, compareMovements, ETHER, ZERO_ADDRESS, type Movement, type MovementKind } from "./movement";

/**
 * The reports' tables on the shared guardian database.
 *  - idx_blocks and idx_movements are the facts: every movement row carries its block's hash, and a
 *    reorg deletes exactly the rows above the common ancestor.
 *  - idx_balances: each balance now (at the cursor), updated per movement, so a report at the head is an
 *    indexed read rather than a fold from genesis; idx_totals keeps each token's sum and holder count.
 *  - idx_entries: the postings, one row per movement and address on either side, keyed (holder, asset, id,
 *    block, tx, ord) and carrying what a statement shows (timestamp, tx hash, kind, counterparty, amount),
 *    so a statement of one asset is one index range scan with no join. Each row also carries the holder's
 *    balance of that asset after the row's block (NULL for `balances: state` tokens and ether counterparties
 *    we do not follow), so "balance at block N" is one seek to the holder's last entry at or below N: the
 *    entries are the balance checkpoints too. Opening balances (ether at the anchor) are entries with
 *    tx_index -1 and kind 'opening', which no movement read returns.
 * The derived tables are keyed by block number and rebuilt from the facts on a rollback. Addresses in
 * them are small integers (idx_addresses): rows stay a few dozen bytes, so the hot B-trees fit in the page
 * cache, and each batch writes them in key order so every page is visited once, in order.
 * Balances are stored as one length character followed by hex digits: exact for uint256, and the text
 * order is the numeric order, which the ranking index relies on.
 *
 * Past cap tables read snapshots instead of seeking every holder's entries:
 *  - idx_snapshot_points: blocks at which every token (and ERC-1155 id) that changed since the previous
 *    point has a snapshot; a point is taken once SNAPSHOT_EVERY movements have been applied since the last.
 *  - idx_snapshots / idx_snapshot_rows: at a point, every holder whose balance is at least `floor` (the
 *    SNAPSHOT_HOLDERS-th largest balance at the start of the batch, or 1 when there are fewer holders), so
 *    a holder missing from it held less than the floor.
 *  - idx_total_history: each token's total and holder count after every block that changed them.
 * The top K at block B is then the latest snapshot at or before the last point P <= B, with the holders
 * that moved in (P, B] (read from the block-ordered movements) replaced by their balance at B; it is exact
 * when its K-th balance is at least the floor, and otherwise falls back to the per-holder read.
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
CREATE TABLE IF NOT EXISTS idx_entries (
  holder INTEGER NOT NULL, asset INTEGER NOT NULL, token_id TEXT NOT NULL, block_number INTEGER NOT NULL,
  tx_index INTEGER NOT NULL, ord INTEGER NOT NULL, timestamp INTEGER NOT NULL, tx_hash TEXT NOT NULL, kind TEXT NOT NULL,
  item TEXT NOT NULL, counterparty TEXT NOT NULL, side INTEGER NOT NULL, amount TEXT NOT NULL, balance TEXT,
  PRIMARY KEY (holder, asset, token_id, block_number, tx_index, ord)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_balances (
  asset INTEGER NOT NULL, token_id TEXT NOT NULL, holder INTEGER NOT NULL, balance TEXT NOT NULL,
  PRIMARY KEY (asset, token_id, holder)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_balances_rank ON idx_balances (asset, token_id, balance DESC);
CREATE TABLE IF NOT EXISTS idx_totals (
  asset INTEGER NOT NULL, token_id TEXT NOT NULL, total TEXT NOT NULL, holders INTEGER NOT NULL,
  PRIMARY KEY (asset, token_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_snapshot_points (block_number INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS idx_snapshots (
  asset INTEGER NOT NULL, token_id TEXT NOT NULL, block_number INTEGER NOT NULL, floor TEXT NOT NULL,
  PRIMARY KEY (asset, token_id, block_number)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_snapshot_rows (
  asset INTEGER NOT NULL, token_id TEXT NOT NULL, block_number INTEGER NOT NULL, holder INTEGER NOT NULL, balance TEXT NOT NULL,
  PRIMARY KEY (asset, token_id, block_number, holder)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_total_history (
  asset INTEGER NOT NULL, token_id TEXT NOT NULL, block_number INTEGER NOT NULL, total TEXT NOT NULL, holders INTEGER NOT NULL,
  PRIMARY KEY (asset, token_id, block_number)) WITHOUT ROWID;
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

/** Stored in idx_meta as `schema`; a store of an older version is migrated in place when opened. */
export const SCHEMA_VERSION = 2;
/** Movements between snapshot points: bounds the holders a past cap table patches. */
export const SNAPSHOT_EVERY = 2048;
/** Holders (and ties) a snapshot keeps at least: a past top K is exact from a snapshot for K well below it. */
export const SNAPSHOT_HOLDERS = 256;

const TABLES = [
  "idx_meta", "idx_blocks", "idx_addresses", "idx_movements", "idx_entries", "idx_balances", "idx_totals",
  "idx_snapshot_points", "idx_snapshots", "idx_snapshot_rows", "idx_total_history",
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

/** A movement as a statement shows it: what the entries carry (no block hash). */
export type StatementLine = Omit<StoredMovement, "blockHash" | "txIndex" | "ord">;

/**
 * An entry as a statement reads it: block, timestamp, "<tx hash> <counterparty> <kind>[ <ERC-721 id>]", side
 * (1 the account sent, 2 it received, 3 both) and the amount in decimal.
 */
export type StatementRow = [blockNumber: number, timestamp: number, text: string, side: number, amount: string];

/** The parts of a StatementRow's text: tx hash, counterparty, kind and (ERC-721) the token id. */
export function splitRowText(text: string): [string, string, MovementKind, string | undefined] {
  const a = text.indexOf(" ");
  const b = text.indexOf(" ", a + 1);
  const c = text.indexOf(" ", b + 1);
  return [text.slice(0, a), text.slice(a + 1, b), (c < 0 ? text.slice(b + 1) : text.slice(b + 1, c)) as MovementKind, c < 0 ? undefined : text.slice(c + 1)];
}

export function statementLine(r: StatementRow, account: string, token: string, tokenId: string): StatementLine {
  const [txHash, counterparty, kind, item] = splitRowText(r[2]);
  const side = r[3];
  return {
    blockNumber: r[0],
    timestamp: r[1],
    txHash,
    kind,
    token,
    tokenId: item ?? tokenId,
    from: side & 1 ? account : counterparty,
    to: side & 2 ? account : counterparty,
    amount: BigInt(r[4]),
  };
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
  key: BalanceKey;
  asset: number;
  tokenId: string;
  holder: number;
  initial: bigint;
  value: bigint;
  dirtyAt: number;
  /** encodeBalance(value) at the end of the block being applied. */
  encoded: string;
  /** The value at the end of the previous block that changed it (for the per-block totals). */
  prevEnd: bigint;
  group: GroupState | undefined;
  /** The batch's entries of this balance, in chain order. */
  posts: Entry[];
  /** The group's pointSeq when this balance was last put in its `recent` list. */
  seenPoint: number;
}

/** A token (or ERC-1155 id) while a batch is applied: its touched balances, totals and snapshot base. */
interface GroupState {
  asset: number;
  tokenId: string;
  entries: BalanceEntry[];
  total: bigint;
  holders: number;
  changedAt: number;
  /** The head ranking at the start of the batch from the floor up, read when a snapshot needs it. */
  base?: { floor: bigint; rows: [number, string][] };
  /** The floor of the group's last snapshot. */
  lastFloor?: bigint;
  /** Touched balances at or above hotCut at the last snapshot, and those touched since it. */
  hot: BalanceEntry[];
  hotCut?: bigint;
  recent: BalanceEntry[];
  pointSeq: number;
}

/** One posting being written: the movement, the holder's side of it, and its balance entry (if folded). */
interface Entry {
  holder: number;
  asset: number;
  tokenId: string;
  m: Movement;
  amount: string;
  timestamp: number;
  side: number;
  balance: BalanceEntry | undefined;
  encoded: string | null;
}

/**
 * A balance's key in a batch: a number in the common case (no token id, an asset id below 2^21; holder ids
 * stay below 2^32, so the number is exact and unique), which a Map hashes fastest; text otherwise.
 */
type BalanceKey = number | string;
const balanceKey = (asset: number, tokenId: string, holder: number): BalanceKey =>
  tokenId === "" && asset < 2_097_152 && holder < 4_294_967_296 ? holder * 2_097_152 + asset : asset + "|" + tokenId + "|" + holder;
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class IndexStore {
  private readonly stmt: Record<string, Statement>;
  /** The address dictionary is append-only, so ids can be cached for the life of the process. */
  private readonly refs = new Map<string, number>();
  private readonly addresses = new Map<number, string>();
  private addressesLoaded = 0;

  private readonly snapshotEvery: number;
  private readonly snapshotHolders: number;

  /** `snapshots` changes the snapshot spacing and size (tests use small ones to cross many points). */
  constructor(readonly db: Database, snapshots: { every?: number; holders?: number } = {}) {
    this.snapshotEvery = snapshots.every ?? SNAPSHOT_EVERY;
    this.snapshotHolders = snapshots.holders ?? SNAPSHOT_HOLDERS;
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
      insertEntry: p("INSERT OR IGNORE INTO idx_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      getBalance: p("SELECT balance FROM idx_balances WHERE asset = ? AND token_id = ? AND holder = ?").pluck(),
      setBalance: p("INSERT OR REPLACE INTO idx_balances (asset, token_id, holder, balance) VALUES (?, ?, ?, ?)"),
      deleteBalance: p("DELETE FROM idx_balances WHERE asset = ? AND token_id = ? AND holder = ?"),
      getTotals: p("SELECT total, holders FROM idx_totals WHERE asset = ? AND token_id = ?").raw(),
      setTotals: p("INSERT OR REPLACE INTO idx_totals (asset, token_id, total, holders) VALUES (?, ?, ?, ?)"),
      balanceAt: p(
        `SELECT balance FROM idx_entries WHERE holder = @holder AND asset = @asset AND token_id = @tokenId AND block_number <= @block
         ORDER BY block_number DESC, tx_index DESC, ord DESC LIMIT 1`,
      ).pluck(),
      lastEntryBalance: p(
        "SELECT balance FROM idx_entries WHERE holder = ? AND asset = ? AND token_id = ? ORDER BY block_number DESC, tx_index DESC, ord DESC LIMIT 1",
      ).pluck(),
      topHolders: p(
        `SELECT a.address, b.balance FROM idx_balances b JOIN idx_addresses a ON a.id = b.holder
         WHERE b.asset = ? AND b.token_id = ? AND b.balance > '${ZERO}' ORDER BY b.balance DESC, a.address LIMIT ?`,
      ).raw(),
      holdersAt: p(
        `SELECT b.holder, (SELECT e.balance FROM idx_entries e
                           WHERE e.holder = b.holder AND e.asset = b.asset AND e.token_id = b.token_id AND e.block_number <= @block
                           ORDER BY e.block_number DESC, e.tx_index DESC, e.ord DESC LIMIT 1)
         FROM idx_balances b WHERE b.asset = @asset AND b.token_id = @tokenId`,
      ).raw(),
      addressesAfter: p("SELECT id, address FROM idx_addresses WHERE id > ? ORDER BY id").raw(),
      idsOfHolderAt: p(
        `SELECT b.token_id, (SELECT e.balance FROM idx_entries e
                             WHERE e.holder = b.holder AND e.asset = b.asset AND e.token_id = b.token_id AND e.block_number <= @block
                             ORDER BY e.block_number DESC, e.tx_index DESC, e.ord DESC LIMIT 1) AS balance
         FROM idx_balances b WHERE b.asset = @asset AND b.holder = @holder`,
      ).raw(),
      movedSince: p("SELECT DISTINCT kind, token, token_id, from_addr, to_addr FROM idx_movements WHERE block_number > ?").raw(),
      deleteMovements: p("DELETE FROM idx_movements WHERE block_number > ?"),
      deleteBlocks: p("DELETE FROM idx_blocks WHERE number > ?"),
      deleteEntriesAfter: p("DELETE FROM idx_entries WHERE holder = ? AND asset = ? AND token_id = ? AND block_number > ?"),
      // Two seeks rather than one OR, which SQLite would answer by scanning the holder's entries.
      nextIdOf: p("SELECT asset, token_id FROM idx_entries WHERE holder = ? AND asset = ? AND token_id > ? ORDER BY token_id LIMIT 1").raw(),
      nextAssetOf: p("SELECT asset, token_id FROM idx_entries WHERE holder = ? AND asset > ? ORDER BY asset, token_id LIMIT 1").raw(),
      entriesOf: p(
        // Five values a row, the texts in one string (see StatementRow): each value costs a conversion.
        `SELECT block_number, timestamp, tx_hash || ' ' || counterparty || ' ' || kind || CASE kind WHEN 'erc721' THEN ' ' || item ELSE '' END,
                side, amount FROM idx_entries
         WHERE holder = ? AND asset = ? AND token_id = ? AND block_number BETWEEN ? AND ? AND tx_index >= 0
         ORDER BY block_number, tx_index, ord`,
      ).raw(),
      movementsOfEntries: p(
        `SELECT m.*, b.timestamp FROM idx_entries e
         JOIN idx_movements m ON m.block_number = e.block_number AND m.tx_index = e.tx_index AND m.ord = e.ord
         JOIN idx_blocks b ON b.number = e.block_number
         WHERE e.holder = ? AND e.asset = ? AND e.token_id = ? AND e.block_number BETWEEN ? AND ? AND e.tx_index >= 0
         ORDER BY e.block_number, e.tx_index, e.ord`,
      ).raw(),
      addressById: p("SELECT address FROM idx_addresses WHERE id = ?").pluck(),
      lastPoint: p("SELECT max(block_number) FROM idx_snapshot_points").pluck(),
      firstPoint: p("SELECT min(block_number) FROM idx_snapshot_points").pluck(),
      pointAt: p("SELECT max(block_number) FROM idx_snapshot_points WHERE block_number <= ?").pluck(),
      insertPoint: p("INSERT OR IGNORE INTO idx_snapshot_points (block_number) VALUES (?)"),
      movedAfter: p("SELECT kind, token, token_id FROM idx_movements WHERE block_number > ?").raw(),
      rankFloor: p("SELECT balance FROM idx_balances WHERE asset = ? AND token_id = ? ORDER BY balance DESC LIMIT 1 OFFSET ?").pluck(),
      rankFrom: p("SELECT holder, balance FROM idx_balances WHERE asset = ? AND token_id = ? AND balance >= ?").raw(),
      insertSnapshot: p("INSERT OR REPLACE INTO idx_snapshots (asset, token_id, block_number, floor) VALUES (?, ?, ?, ?)"),
      insertSnapshotRow: p("INSERT OR REPLACE INTO idx_snapshot_rows (asset, token_id, block_number, holder, balance) VALUES (?, ?, ?, ?, ?)"),
      snapshotAt: p("SELECT block_number, floor FROM idx_snapshots WHERE asset = ? AND token_id = ? AND block_number <= ? ORDER BY block_number DESC LIMIT 1").raw(),
      lastSnapshotFloor: p("SELECT floor FROM idx_snapshots WHERE asset = ? AND token_id = ? ORDER BY block_number DESC LIMIT 1").pluck(),
      snapshotRows: p("SELECT holder, balance FROM idx_snapshot_rows WHERE asset = ? AND token_id = ? AND block_number = ?").raw(),
      insertTotalHistory: p("INSERT OR REPLACE INTO idx_total_history (asset, token_id, block_number, total, holders) VALUES (?, ?, ?, ?, ?)"),
      totalsAt: p("SELECT total, holders FROM idx_total_history WHERE asset = ? AND token_id = ? AND block_number <= ? ORDER BY block_number DESC LIMIT 1").raw(),
      changedSince: p("SELECT kind, token_id, from_addr, to_addr FROM idx_movements WHERE block_number > ? AND block_number <= ? AND token = ?").raw(),
      insertStateHolder: p("INSERT OR IGNORE INTO idx_state_holders (token, holder, first_block) VALUES (?, ?, ?)"),
      stateHoldersAt: p("SELECT holder FROM idx_state_holders WHERE token = ? AND first_block <= ? ORDER BY holder").pluck(),
      deleteStateHoldersAfter: p("DELETE FROM idx_state_holders WHERE first_block > ?"),
    };
    this.migrate();
  }

  /**
   * Brings a store written by an earlier version to SCHEMA_VERSION in place, in one transaction (so a
   * killed migration leaves the old store as it was). Version 1 (no `schema` key) kept thin postings
   * (holder, block, tx, ord) and a separate checkpoint table; version 2 folds both into idx_entries and
   * adds snapshots, taking the first at the cursor.
   */
  private migrate(): void {
    const db = this.db;
    const version = db.prepare("SELECT value FROM idx_meta WHERE key = 'schema'").pluck().get() as string | undefined;
    if (version === String(SCHEMA_VERSION)) return;
    const exists = (table: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
    db.transaction(() => {
      if (version === undefined && exists("idx_postings") && exists("idx_checkpoints")) {
        // Each posting becomes an entry carrying its movement's data and the holder's checkpoint at its block.
        db.exec(`
          INSERT INTO idx_entries
          SELECT p.holder, a.id, CASE WHEN m.kind = 'erc1155' THEN m.token_id ELSE '' END, m.block_number, m.tx_index, m.ord,
                 b.timestamp, m.tx_hash, m.kind, m.token_id,
                 CASE WHEN m.to_addr = h.address THEN m.from_addr ELSE m.to_addr END,
                 (CASE WHEN m.from_addr = h.address THEN 1 ELSE 0 END) + (CASE WHEN m.to_addr = h.address THEN 2 ELSE 0 END),
                 m.amount,
                 (SELECT c.balance FROM idx_checkpoints c WHERE c.asset = a.id AND c.holder = p.holder AND c.block_number = m.block_number
                    AND c.token_id = CASE WHEN m.kind = 'erc1155' THEN m.token_id ELSE '' END)
          FROM idx_postings p
          JOIN idx_movements m ON m.block_number = p.block_number AND m.tx_index = p.tx_index AND m.ord = p.ord
          JOIN idx_blocks b ON b.number = m.block_number
          JOIN idx_addresses h ON h.id = p.holder
          JOIN idx_addresses a ON a.address = m.token;
          -- Checkpoints no movement explains: the opening balances at the anchor.
          INSERT INTO idx_entries
          SELECT c.holder, c.asset, c.token_id, c.block_number, -1, 0, coalesce(b.timestamp, 0), '', 'opening', '', '', 0, '0', c.balance
          FROM idx_checkpoints c LEFT JOIN idx_blocks b ON b.number = c.block_number
          WHERE NOT EXISTS (SELECT 1 FROM idx_entries e WHERE e.holder = c.holder AND e.asset = c.asset AND e.token_id = c.token_id
                              AND e.block_number = c.block_number);
          DROP TABLE idx_postings;
          DROP TABLE idx_checkpoints;
        `);
      }
      // Past cap tables read snapshots from here on; blocks before the cursor keep the per-holder read.
      if (this.stmt.lastPoint.get() === null) this.snapshotAtCursor();
      db.prepare("INSERT OR REPLACE INTO idx_meta (key, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
    })();
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
        this.stmt.insertEntry.run(id, asset, "", anchor.number, -1, 0, anchor.timestamp, "", "opening", "", "", 0, "0", encodeBalance(balance));
        total += balance;
        if (balance > 0n) holders++;
      }
      if (openingEther.size > 0) this.stmt.setTotals.run(this.ref(ETHER), "", total.toString(), holders);
      this.setMeta("fingerprint", fingerprint);
      this.setMeta("anchor", String(anchor.number));
      this.setMeta("cursor", String(anchor.number));
      this.stmt.insertPoint.run(anchor.number);
    })();
  }

  /** Drops every row of the index (used when the reporting configuration changed). */
  reset(): void {
    this.db.transaction(() => {
      for (const table of TABLES) this.db.prepare(`DELETE FROM ${table}`).run();
      this.setMeta("schema", String(SCHEMA_VERSION));
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
      const balances = new Map<BalanceKey, BalanceEntry>();
      // Snapshot bookkeeping, derived from the stored movements since the last point (so a rollback needs
      // no state of its own): how many movements, and which tokens changed.
      const groups = new Map<string, GroupState>();
      const groupOf = (asset: number, tokenId: string): GroupState => {
        const key = asset + "|" + tokenId;
        let g = groups.get(key);
        if (!g) {
          const [total, holders] = (this.stmt.getTotals.get(asset, tokenId) as [string, number] | undefined) ?? ["0", 0];
          g = { asset, tokenId, entries: [], total: BigInt(total), holders, changedAt: -1, hot: [], recent: [], pointSeq: 0 };
          groups.set(key, g);
        }
        return g;
      };
      const lastPoint = this.stmt.lastPoint.get() as number | null;
      let pending = 0;
      const dirty = new Set<GroupState>();
      if (lastPoint !== null) {
        for (const [kind, token, itemId] of this.stmt.movedAfter.all(lastPoint) as [MovementKind, string, string][]) {
          pending++;
          if (token !== ETHER && !opts.stateTokens?.has(token)) dirty.add(groupOf(this.ref(token), balanceTokenId(kind, itemId)));
        }
      }
      const history: [number, string, number, string, number][] = [];
      let changedInBlock: BalanceEntry[] = [];
      let blockEntries: Entry[] = [];
      const unfolded: Entry[] = [];
      const touch = (token: string, tokenId: string, holder: string, delta: bigint, m: Movement): BalanceEntry => {
        const asset = this.ref(token);
        const holderRef = this.ref(holder);
        const key = balanceKey(asset, tokenId, holderRef);
        let entry = balances.get(key);
        if (!entry) {
          const stored = this.stmt.getBalance.get(asset, tokenId, holderRef) as string | undefined;
          const initial = stored ? decodeBalance(stored) : 0n;
          const group = token === ETHER ? undefined : groupOf(asset, tokenId);
          entry = { key, asset, tokenId, holder: holderRef, initial, value: initial, dirtyAt: -1, encoded: "", prevEnd: initial, group, posts: [], seenPoint: -1 };
          balances.set(key, entry);
          group?.entries.push(entry);
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
        const group = entry.group;
        if (group && entry.seenPoint !== group.pointSeq) {
          entry.seenPoint = group.pointSeq;
          group.recent.push(entry);
        }
        if (entry.dirtyAt !== m.blockNumber) {
          entry.dirtyAt = m.blockNumber;
          changedInBlock.push(entry);
        }
        return entry;
      };
      /** The posting of `m` for `holder` (side 1 sender, 2 receiver, 3 both); its balance is set at the block's end. */
      const post = (holder: number, asset: number, tokenId: string, m: Movement, amount: string, timestamp: number, side: number, balance: BalanceEntry | undefined) => {
        const e: Entry = { holder, asset, tokenId, m, amount, timestamp, side, balance, encoded: null };
        blockEntries.push(e);
        // Grouped by balance as they come (in chain order), so the batch's entries need no big sort.
        if (balance) balance.posts.push(e);
        else unfolded.push(e);
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
        const ts = block.timestamp;
        for (const m of movements) {
          const amountText = m.amount.toString();
          this.stmt.insertMovement.run(m.blockNumber, m.txIndex, m.ord, m.blockHash, m.txHash, m.kind, m.token, m.tokenId, m.from, m.to, amountText);
          const self = m.from === m.to;
          if (m.token === ETHER) {
            // Ether is only known for followed accounts; the other side is just a counterparty.
            const asset = this.ref(ETHER);
            if (trackedEther.has(m.from)) {
              const e = touch(ETHER, "", m.from, -m.amount, m);
              if (self) touch(ETHER, "", m.to, m.amount, m);
              post(e.holder, asset, "", m, amountText, ts, self ? 3 : 1, e);
            }
            if (!self && trackedEther.has(m.to)) {
              const e = touch(ETHER, "", m.to, m.amount, m);
              post(e.holder, asset, "", m, amountText, ts, 2, e);
            }
          } else if (opts.stateTokens?.has(m.token)) {
            // Balances of this token come from balanceOf at the report's block; remember who holds it.
            const asset = this.ref(m.token);
            const tokenId = balanceTokenId(m.kind, m.tokenId);
            for (const [holder, side] of self ? ([[m.from, 3]] as const) : ([[m.from, 1], [m.to, 2]] as const)) {
              if (holder === ZERO_ADDRESS) continue;
              this.stmt.insertStateHolder.run(m.token, holder, m.blockNumber);
              post(this.ref(holder), asset, tokenId, m, amountText, ts, side, undefined);
            }
          } else {
            const tokenId = balanceTokenId(m.kind, m.tokenId);
            if (m.from !== ZERO_ADDRESS) {
              const e = touch(m.token, tokenId, m.from, -m.amount, m);
              if (self) touch(m.token, tokenId, m.to, m.amount, m);
              post(e.holder, e.asset, tokenId, m, amountText, ts, self ? 3 : 1, e);
            }
            if (m.to !== ZERO_ADDRESS && !self) {
              const e = touch(m.token, tokenId, m.to, m.amount, m);
              post(e.holder, e.asset, tokenId, m, amountText, ts, 2, e);
            }
          }
        }
        // Every entry of the block carries the holder's balance after the block: its checkpoint.
        const changedGroups: GroupState[] = [];
        for (const entry of changedInBlock) {
          entry.encoded = encodeBalance(entry.value);
          const g = entry.group;
          if (!g) continue;
          g.total += entry.value - entry.prevEnd;
          g.holders += (entry.value > 0n ? 1 : 0) - (entry.prevEnd > 0n ? 1 : 0);
          entry.prevEnd = entry.value;
          if (g.changedAt !== block.number) {
            g.changedAt = block.number;
            changedGroups.push(g);
          }
        }
        for (const g of changedGroups) {
          history.push([g.asset, g.tokenId, block.number, g.total.toString(), g.holders]);
          dirty.add(g);
        }
        pending += movements.length;
        if (lastPoint !== null && pending >= this.snapshotEvery) {
          for (const g of dirty) this.writeSnapshot(g, block.number, balances);
          this.stmt.insertPoint.run(block.number);
          dirty.clear();
          pending = 0;
        }
        for (const e of blockEntries) e.encoded = e.balance ? e.balance.encoded : null;
        changedInBlock = [];
        blockEntries = [];
        previous = block.number;
        expectedParent = block.hash;
      }
      // Key order, so that each page of the entries tree is visited once per batch: balances by (holder,
      // asset, id), each with its entries in chain order; entries without a balance sorted on their own.
      const byHolder = [...balances.values()].sort((a, b) => a.holder - b.holder || a.asset - b.asset || compareText(a.tokenId, b.tokenId));
      unfolded.sort(
        (a, b) =>
          a.holder - b.holder || a.asset - b.asset || compareText(a.tokenId, b.tokenId) ||
          a.m.blockNumber - b.m.blockNumber || a.m.txIndex - b.m.txIndex || a.m.ord - b.m.ord,
      );
      const ordered: Entry[][] = byHolder.map((b) => b.posts);
      ordered.push(unfolded);
      for (const list of ordered) {
        for (const e of list) {
          const m = e.m;
          this.stmt.insertEntry.run(e.holder, e.asset, e.tokenId, m.blockNumber, m.txIndex, m.ord, e.timestamp, m.txHash, m.kind, m.tokenId, e.side === 2 ? m.from : m.to, e.side, e.amount, e.encoded);
        }
      }
      for (const h of history) this.stmt.insertTotalHistory.run(...h);
      const heads = byHolder.sort((a, b) => a.asset - b.asset || compareText(a.tokenId, b.tokenId) || a.holder - b.holder);
      for (const e of heads) this.stmt.setBalance.run(e.asset, e.tokenId, e.holder, encodeBalance(e.value));
      this.adjustTotals(heads.map((e) => ({ asset: e.asset, tokenId: e.tokenId, before: e.initial, after: e.value })));
      this.setMeta("cursor", String(previous));
      return true;
    })();
  }

  /**
   * A snapshot of group `g` at `block`, inside a batch: the holders the batch has not touched keep their
   * head balance of the batch's start (read from the ranking index, from the floor up), the touched ones
   * count with their value now. Everyone at or above the floor is in it, so it is exact by construction.
   */
  private writeSnapshot(g: GroupState, block: number, balances: ReadonlyMap<BalanceKey, BalanceEntry>): void {
    if (!g.base) {
      const floorText = this.stmt.rankFloor.get(g.asset, g.tokenId, this.snapshotHolders - 1) as string | undefined;
      const floor = floorText === undefined || floorText === ZERO ? 1n : decodeBalance(floorText);
      g.base = { floor, rows: this.stmt.rankFrom.all(g.asset, g.tokenId, encodeBalance(floor)) as [number, string][] };
      // The group's last stored snapshot floor is the first cut to try (a young token's batch floor is 1).
      const last = this.stmt.lastSnapshotFloor.get(g.asset, g.tokenId) as string | undefined;
      if (last !== undefined && g.lastFloor === undefined) g.lastFloor = decodeBalance(last);
    }
    const { floor, rows } = g.base;
    // Every holder at or above a cut now: the untouched ones from the batch's starting ranking, the touched
    // ones with their value now. Encoded balances sort like the numbers. The snapshot keeps the top
    // SNAPSHOT_HOLDERS (and ties) and its floor rises to the smallest kept balance, so the batch's stale
    // floor (1 while a token is young) does not put every holder in every snapshot.
    const collect = (cut: bigint, touched: Iterable<BalanceEntry>): [number, string][] => {
      const cutText = encodeBalance(cut);
      const out: [number, string][] = [];
      for (const [holder, balance] of rows) if (balance >= cutText && !balances.has(balanceKey(g.asset, g.tokenId, holder))) out.push([holder, balance]);
      for (const e of touched) if (e.value >= cut) out.push([e.holder, encodeBalance(e.value)]);
      return out.sort((a, b) => (a[1] > b[1] ? -1 : a[1] < b[1] ? 1 : 0));
    };
    // A touched holder below the hot cut at the last snapshot and not touched since is still below it: only
    // the hot ones and those touched since need a look, instead of every holder the batch touched.
    let candidates: [number, string][] = [];
    let cut: bigint | undefined;
    let looked = false;
    if (g.hotCut !== undefined) {
      cut = g.hotCut;
      candidates = collect(cut, new Set([...g.hot, ...g.recent]));
    }
    for (const full of [g.lastFloor, floor]) {
      if (candidates.length >= this.snapshotHolders || full === undefined || full < floor) continue;
      cut = full;
      looked = true;
      candidates = collect(cut, g.entries);
    }
    let floorText = encodeBalance(floor);
    if (candidates.length >= this.snapshotHolders && candidates[this.snapshotHolders - 1][1] > floorText) floorText = candidates[this.snapshotHolders - 1][1];
    // Ties at the floor are kept, but not without bound: when most holders hold the same (an NFT collection
    // of single items), the floor goes just above the tied value and the snapshot keeps fewer holders (a
    // top K it cannot answer exactly falls back to the per-holder read).
    let kept = 0;
    while (kept < candidates.length && candidates[kept][1] >= floorText) kept++;
    if (kept > 4 * this.snapshotHolders) {
      let above = kept - 1;
      while (above >= 0 && candidates[above][1] === floorText) above--;
      floorText = above >= 0 ? candidates[above][1] : encodeBalance(decodeBalance(floorText) + 1n);
    }
    g.lastFloor = decodeBalance(floorText);
    // The next cut: about twice as many holders as kept, so a few falling below the floor need no full look.
    const spare = Math.min(candidates.length, 2 * this.snapshotHolders) - 1;
    g.hotCut = spare >= 0 && cut !== undefined ? [cut, decodeBalance(candidates[spare][1])].reduce((x, y) => (x > y ? x : y)) : undefined;
    const hotCut = g.hotCut;
    g.hot = hotCut === undefined ? [] : [...new Set([...g.hot, ...g.recent, ...(looked ? g.entries : [])])].filter((e) => e.value >= hotCut);
    g.recent = [];
    g.pointSeq++;
    const out = candidates.filter((c) => c[1] >= floorText).sort((a, b) => a[0] - b[0]);
    this.stmt.insertSnapshot.run(g.asset, g.tokenId, block, floorText);
    for (const [holder, balance] of out) this.stmt.insertSnapshotRow.run(g.asset, g.tokenId, block, holder, balance);
  }

  /** Snapshots of every token at the cursor and a point there: the start of the snapshot history of a store. */
  private snapshotAtCursor(): void {
    const cursor = this.meta("cursor");
    if (cursor === undefined) return;
    const block = Number(cursor);
    const ether = this.knownRef(ETHER);
    for (const [asset, tokenId, total, holders] of this.db.prepare("SELECT asset, token_id, total, holders FROM idx_totals").raw().all() as [number, string, string, number][]) {
      if (asset === ether) continue;
      const g: GroupState = { asset, tokenId, entries: [], total: BigInt(total), holders, changedAt: -1, hot: [], recent: [], pointSeq: 0 };
      this.writeSnapshot(g, block, new Map());
      this.stmt.insertTotalHistory.run(asset, tokenId, block, total, holders);
    }
    this.stmt.insertPoint.run(block);
  }

  /**
   * The top `limit` holders of a token at a past `block` from its snapshots, with the token's total and
   * holder count there; undefined when the snapshots cannot say (a block before the store's first point,
   * or a K-th balance below the snapshot's floor), and the caller reads every holder instead.
   */
  topHoldersAt(token: string, tokenId: string, block: number, limit: number): { holders: Holding[]; total: bigint; count: number } | undefined {
    const asset = this.knownRef(token);
    if (asset === undefined) return { holders: [], total: 0n, count: 0 };
    const point = this.stmt.pointAt.get(block) as number | null;
    if (point === null) return undefined;
    const snapshot = this.stmt.snapshotAt.get(asset, tokenId, point) as [number, string] | undefined;
    // No snapshot at or before the point: the token had not moved by then, so it had no holders.
    const floor = snapshot ? snapshot[1] : encodeBalance(1n);
    const candidates = new Map<number, string>();
    if (snapshot) for (const [holder, balance] of this.stmt.snapshotRows.all(asset, tokenId, snapshot[0]) as [number, string][]) candidates.set(holder, balance);
    const moved = new Set<string>();
    for (const [kind, itemId, from, to] of this.stmt.changedSince.all(point, block, token) as [MovementKind, string, string, string][]) {
      if (balanceTokenId(kind, itemId) !== tokenId) continue;
      if (from !== ZERO_ADDRESS) moved.add(from);
      if (to !== ZERO_ADDRESS) moved.add(to);
    }
    for (const address of moved) {
      const holder = this.knownRef(address);
      if (holder === undefined) continue;
      const balance = this.stmt.balanceAt.get({ holder, asset, tokenId, block }) as string | null | undefined;
      if (balance && balance !== ZERO) candidates.set(holder, balance);
      else candidates.delete(holder);
    }
    const ranked = [...candidates].map(([holder, balance]) => ({ holder: this.addressOfId(holder), balance, text: balance }));
    ranked.sort((a, b) => (a.text === b.text ? (a.holder < b.holder ? -1 : 1) : a.text > b.text ? -1 : 1));
    const complete = floor === encodeBalance(1n);
    if (!complete && (ranked.length < limit || ranked[limit - 1].text < floor)) return undefined;
    const [total, count] = (this.stmt.totalsAt.get(asset, tokenId, block) as [string, number] | undefined) ?? ["0", 0];
    return { holders: ranked.slice(0, limit).map((h) => ({ holder: h.holder, balance: decodeBalance(h.text) })), total: BigInt(total), count };
  }

  /**
   * Undoes every block above `ancestor`: their movements, blocks and entries go, and the head balance of
   * each holder they touched returns to the balance of its last remaining entry.
   */
  rollbackTo(ancestor: number): void {
    this.db.transaction(() => {
      const keys = new Map<string, [string, string, string]>();
      for (const [kind, token, tokenId, from, to] of this.stmt.movedSince.all(ancestor) as [MovementKind, string, string, string, string][]) {
        const id = balanceTokenId(kind, tokenId);
        for (const holder of [from, to]) keys.set(token + "|" + id + "|" + holder, [token, id, holder]);
      }
      const changes: { asset: number; tokenId: string; before: bigint; after: bigint }[] = [];
      for (const [token, tokenId, holder] of keys.values()) {
        const asset = this.knownRef(token);
        const holderRef = this.knownRef(holder);
        if (asset === undefined || holderRef === undefined) continue;
        // State-token holders have entries without balances; untracked ether counterparties have neither.
        this.stmt.deleteEntriesAfter.run(holderRef, asset, tokenId, ancestor);
        const current = this.stmt.getBalance.get(asset, tokenId, holderRef) as string | undefined;
        if (current === undefined) continue; // never a balance of ours (an untracked ether counterparty)
        const last = this.stmt.lastEntryBalance.get(holderRef, asset, tokenId) as string | null | undefined;
        if (last == null) this.stmt.deleteBalance.run(asset, tokenId, holderRef);
        else this.stmt.setBalance.run(asset, tokenId, holderRef, last);
        changes.push({ asset, tokenId, before: decodeBalance(current), after: last == null ? 0n : decodeBalance(last) });
      }
      this.adjustTotals(changes);
      this.stmt.deleteStateHoldersAfter.run(ancestor);
      for (const table of ["idx_snapshots", "idx_snapshot_rows", "idx_total_history"]) this.db.prepare(`DELETE FROM ${table} WHERE block_number > ?`).run(ancestor);
      this.db.prepare("DELETE FROM idx_snapshot_points WHERE block_number > ?").run(ancestor);
      this.db.prepare("DELETE FROM idx_verified WHERE block_number > ?").run(ancestor);
      this.db.prepare("DELETE FROM idx_tx_status WHERE block_number > ?").run(ancestor);
      this.stmt.deleteMovements.run(ancestor);
      this.stmt.deleteBlocks.run(ancestor);

      const cursor = Number(this.meta("cursor"));
      if (cursor > ancestor) this.setMeta("cursor", String(ancestor));
    })();
  }

  /**
   * Sets a token aside: its rows go (movements, entries, balances, totals) and it is not
   * read again, so one token the index cannot fold never stops the others. Only a reindex undoes it: its
   * earlier rows are gone, so a rollback below `blockNumber` cannot bring it back.
   */
  markUnverifiable(token: string, blockNumber: number, reason: string): void {
    this.db.transaction(() => {
      this.db.prepare("INSERT OR REPLACE INTO idx_token_status (token, block_number, reason) VALUES (?, ?, ?)").run(token, blockNumber, reason);
      const asset = this.knownRef(token);
      this.db.prepare("DELETE FROM idx_movements WHERE token = ?").run(token);
      this.db.prepare("DELETE FROM idx_state_holders WHERE token = ?").run(token);
      if (asset !== undefined) {
        for (const table of ["idx_balances", "idx_entries", "idx_totals", "idx_snapshots", "idx_snapshot_rows", "idx_total_history"]) {
          this.db.prepare(`DELETE FROM ${table} WHERE asset = ?`).run(asset);
        }
      }
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
    // The movements of the range (a range of the block-ordered facts), not a scan of every holder's entries.
    const changed = new Set<string>();
    for (const [kind, itemId, from, to] of this.stmt.changedSince.all(after, upTo, token) as [MovementKind, string, string, string][]) {
      if (balanceTokenId(kind, itemId) !== tokenId) continue;
      if (from !== ZERO_ADDRESS) changed.add(from);
      if (to !== ZERO_ADDRESS) changed.add(to);
    }
    const out: Holding[] = [];
    for (const holder of [...changed].sort()) {
      const ref = this.knownRef(holder);
      const text = ref === undefined ? undefined : (this.stmt.balanceAt.get({ holder: ref, asset, tokenId, block: upTo }) as string | null | undefined);
      out.push({ holder, balance: text ? decodeBalance(text) : 0n });
    }
    return out;
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
    const text = (block === undefined ? this.stmt.getBalance.get(asset, tokenId, holderRef) : this.stmt.balanceAt.get({ holder: holderRef, asset, tokenId, block })) as string | null | undefined;
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

  /** The (asset, balance id) pairs `holder` has entries of, by a skip scan over its part of the entries. */
  private assetsOf(holder: number): [number, string][] {
    const out: [number, string][] = [];
    let next = this.stmt.nextAssetOf.get(holder, -1) as [number, string] | undefined;
    while (next) {
      out.push(next);
      next = (this.stmt.nextIdOf.get(holder, next[0], next[1]) ?? this.stmt.nextAssetOf.get(holder, next[0])) as [number, string] | undefined;
    }
    return out;
  }

  /** Address of a dictionary id, read on its own (the whole dictionary is only loaded for whole-table reads). */
  private addressOfId(id: number): string {
    let address = this.addresses.get(id);
    if (address === undefined) {
      address = this.stmt.addressById.get(id) as string | undefined;
      if (address === undefined) throw new IndexStoreError(`address id ${id} is not in idx_addresses`);
      this.addresses.set(id, address);
    }
    return address;
  }

  /** Movements in [from, to] where `account` is sender or receiver, in chain order. */
  movementsOf(account: string, from: number, to: number): StoredMovement[] {
    const holder = this.knownRef(account);
    if (holder === undefined) return [];
    const out: StoredMovement[] = [];
    for (const [asset, tokenId] of this.assetsOf(holder)) {
      for (const m of this.toMovements(this.stmt.movementsOfEntries.all(holder, asset, tokenId, from, to) as (string | number)[][])) out.push(m);
    }
    return out.sort(compareMovements);
  }

  /**
   * A statement's rows straight from the entries: per asset (and ERC-1155 id) the account's movements in
   * [from, to], in chain order, one range scan each, with no join and no block hash, as read (StatementRow).
   */
  statementRows(account: string, from: number, to: number): { token: string; tokenId: string; rows: StatementRow[] }[] {
    const holder = this.knownRef(account);
    if (holder === undefined) return [];
    const out: { token: string; tokenId: string; rows: StatementRow[] }[] = [];
    for (const [asset, tokenId] of this.assetsOf(holder)) {
      const rows = this.stmt.entriesOf.all(holder, asset, tokenId, from, to) as StatementRow[];
      if (rows.length > 0) out.push({ token: this.addressOfId(asset), tokenId, rows });
    }
    return out;
  }

  /** statementRows as movements. */
  statementLines(account: string, from: number, to: number): { token: string; tokenId: string; lines: StatementLine[] }[] {
    return this.statementRows(account, from, to).map(({ token, tokenId, rows }) => ({ token, tokenId, lines: rows.map((r) => statementLine(r, account, token, tokenId)) }));
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
    return this.toMovements(this.db.prepare(sql).raw().all(params) as (string | number)[][]);
  }

  private toMovements(rows: (string | number)[][]): StoredMovement[] {
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
