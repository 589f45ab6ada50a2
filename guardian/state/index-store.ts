import type { Database, Statement } from "better-sqlite3";
import type { BlockRef } from "../chain/types";
import { balanceTokenId, ETHER, ZERO_ADDRESS, type Movement, type MovementKind } from "../reports/movement";

/**
 * The reports' tables on the shared guardian database. Every row carries the hash of its block, so a
 * reorg removes exactly what the orphaned blocks wrote. Balances are kept two ways:
 *  - idx_balances: the balance now (at the cursor), updated per movement, so a report at the head is
 *    one indexed read rather than a fold from genesis;
 *  - idx_checkpoints: the balance after each block that changed it, keyed (token, id, holder, block), so a
 *    report at block N reads the last checkpoint at or below N per holder.
 * Balances are stored as 64 hex digits: exact for uint256, and their text order is their numeric order.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS idx_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_blocks (
  number INTEGER PRIMARY KEY, hash TEXT NOT NULL, parent_hash TEXT NOT NULL, timestamp INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS idx_movements (
  block_number INTEGER NOT NULL, tx_index INTEGER NOT NULL, ord INTEGER NOT NULL,
  block_hash TEXT NOT NULL, tx_hash TEXT NOT NULL, kind TEXT NOT NULL, token TEXT NOT NULL,
  token_id TEXT NOT NULL, from_addr TEXT NOT NULL, to_addr TEXT NOT NULL, amount TEXT NOT NULL,
  PRIMARY KEY (block_number, tx_index, ord)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_movements_from ON idx_movements (from_addr, block_number);
CREATE INDEX IF NOT EXISTS idx_movements_to ON idx_movements (to_addr, block_number);
CREATE INDEX IF NOT EXISTS idx_movements_token ON idx_movements (token, block_number);
CREATE TABLE IF NOT EXISTS idx_balances (
  token TEXT NOT NULL, token_id TEXT NOT NULL, holder TEXT NOT NULL, balance TEXT NOT NULL,
  PRIMARY KEY (token, token_id, holder)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx_checkpoints (
  token TEXT NOT NULL, token_id TEXT NOT NULL, holder TEXT NOT NULL, block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL, balance TEXT NOT NULL,
  PRIMARY KEY (token, token_id, holder, block_number)) WITHOUT ROWID;
`;

const TABLES = ["idx_meta", "idx_blocks", "idx_movements", "idx_balances", "idx_checkpoints"];

export const encodeBalance = (value: bigint) => value.toString(16).padStart(64, "0");
export const decodeBalance = (text: string) => BigInt("0x" + text);
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

/** A balance that would drop below zero means the index missed history, so stop instead of guessing. */
export class NegativeBalanceError extends IndexStoreError {}

/** A block that does not extend the indexed chain: the stored tail is on another branch. */
export class ChainLinkError extends IndexStoreError {}

export class IndexStore {
  private readonly stmt: Record<string, Statement>;

  constructor(readonly db: Database) {
    db.exec(SCHEMA);
    const p = (sql: string) => db.prepare(sql);
    this.stmt = {
      getMeta: p("SELECT value FROM idx_meta WHERE key = ?"),
      setMeta: p("INSERT INTO idx_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      insertBlock: p("INSERT OR REPLACE INTO idx_blocks (number, hash, parent_hash, timestamp) VALUES (?, ?, ?, ?)"),
      getBlock: p("SELECT number, hash, parent_hash AS parentHash, timestamp FROM idx_blocks WHERE number = ?"),
      insertMovement: p("INSERT INTO idx_movements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      getBalance: p("SELECT balance FROM idx_balances WHERE token = ? AND token_id = ? AND holder = ?").pluck(),
      setBalance: p("INSERT OR REPLACE INTO idx_balances (token, token_id, holder, balance) VALUES (?, ?, ?, ?)"),
      deleteBalance: p("DELETE FROM idx_balances WHERE token = ? AND token_id = ? AND holder = ?"),
      setCheckpoint: p("INSERT OR REPLACE INTO idx_checkpoints VALUES (?, ?, ?, ?, ?, ?)"),
      balanceAt: p(
        "SELECT balance FROM idx_checkpoints WHERE token = ? AND token_id = ? AND holder = ? AND block_number <= ? ORDER BY block_number DESC LIMIT 1",
      ).pluck(),
      headHolders: p("SELECT holder, balance FROM idx_balances WHERE token = ? AND token_id = ? AND balance <> ?").raw(),
      holdersAt: p(
        "SELECT holder, balance, MAX(block_number) FROM idx_checkpoints WHERE token = ? AND token_id = ? AND block_number <= ? GROUP BY holder",
      ).raw(),
      idsOfHolderAt: p(
        "SELECT token_id, balance, MAX(block_number) FROM idx_checkpoints WHERE token = ? AND holder = ? AND block_number <= ? GROUP BY token_id",
      ).raw(),
      movedSince: p("SELECT DISTINCT kind, token, token_id, from_addr, to_addr FROM idx_movements WHERE block_number > ?").raw(),
      deleteMovements: p("DELETE FROM idx_movements WHERE block_number > ?"),
      deleteBlocks: p("DELETE FROM idx_blocks WHERE number > ?"),
      deleteCheckpointsAfter: p("DELETE FROM idx_checkpoints WHERE token = ? AND token_id = ? AND holder = ? AND block_number > ?"),
      lastCheckpoint: p(
        "SELECT balance FROM idx_checkpoints WHERE token = ? AND token_id = ? AND holder = ? ORDER BY block_number DESC LIMIT 1",
      ).pluck(),
    };
  }

  meta(key: string): string | undefined {
    return (this.stmt.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }

  /** The last block applied; every report at "the head" is at this block. */
  cursor(): BlockRef | undefined {
    const number = this.meta("cursor");
    return number === undefined ? undefined : this.block(Number(number));
  }

  /** Stored blocks at or below `below`, newest first, a page at a time (for walking back after a reorg). */
  blocksBelow(below: number, limit: number): BlockRef[] {
    return this.db.prepare("SELECT number, hash, parent_hash AS parentHash, timestamp FROM idx_blocks WHERE number <= ? ORDER BY number DESC LIMIT ?").all(below, limit) as BlockRef[];
  }

  block(number: number): BlockRef | undefined {
    return this.stmt.getBlock.get(number) as BlockRef | undefined;
  }

  /** Starts an empty index at `anchor` with opening ether balances (eth_getBalance at the anchor). */
  initialise(anchor: BlockRef, openingEther: ReadonlyMap<string, bigint>, fingerprint: string): void {
    this.db.transaction(() => {
      this.stmt.insertBlock.run(anchor.number, anchor.hash, anchor.parentHash, anchor.timestamp);
      for (const [holder, balance] of openingEther) {
        this.stmt.setBalance.run(ETHER, "", holder, encodeBalance(balance));
        this.stmt.setCheckpoint.run(ETHER, "", holder, anchor.number, anchor.hash, encodeBalance(balance));
      }
      this.setMeta("fingerprint", fingerprint);
      this.setMeta("anchor", String(anchor.number));
      this.setMeta("cursor", String(anchor.number));
    })();
  }

  /** Drops every table of the index (used when the reporting configuration changed). */
  reset(): void {
    this.db.transaction(() => {
      for (const table of TABLES) this.db.prepare(`DELETE FROM ${table}`).run();
    })();
  }

  /**
   * Applies blocks in one transaction. Each block must extend the cursor (number + 1 and the parent
   * hash), checked inside the transaction so two writers on the same file cannot both apply a block;
   * returns false, applying nothing, if the cursor already moved past. `sparse` is for catching up from
   * log ranges, where only blocks with transfers (and the range's last block) are present.
   */
  applyBlocks(batch: readonly { block: BlockRef; movements: readonly Movement[] }[], trackedEther: ReadonlySet<string>, opts: { sparse?: boolean } = {}): boolean {
    if (batch.length === 0) return true;
    return this.db.transaction(() => {
      const cursor = Number(this.meta("cursor"));
      if (batch[0].block.number <= cursor) return false;
      const balances = new Map<string, { token: string; tokenId: string; holder: string; value: bigint; dirtyAt: number }>();
      const touch = (token: string, tokenId: string, holder: string, delta: bigint, m: Movement) => {
        const key = token + "|" + tokenId + "|" + holder;
        let entry = balances.get(key);
        if (!entry) {
          const stored = this.stmt.getBalance.get(token, tokenId, holder) as string | undefined;
          entry = { token, tokenId, holder, value: stored ? decodeBalance(stored) : 0n, dirtyAt: -1 };
          balances.set(key, entry);
        }
        entry.value += delta;
        if (entry.value < 0n) {
          throw new NegativeBalanceError(
            `balance of ${holder} in ${token}${tokenId ? ` id ${tokenId}` : ""} would fall below zero at block ${m.blockNumber} (tx ${m.txHash}): ` +
              `the index is missing earlier history; set reporting.fromBlock at or before the token's deployment`,
          );
        }
        entry.dirtyAt = m.blockNumber;
      };
      let previous = cursor;
      let expectedParent = this.block(cursor)?.hash;
      for (const { block, movements } of batch) {
        if (block.number !== previous + 1 && !opts.sparse) {
          throw new ChainLinkError(`block ${block.number} does not follow the indexed block ${previous}`);
        }
        if (block.number === previous + 1 && expectedParent && block.parentHash !== expectedParent) {
          throw new ChainLinkError(`block ${block.number} (${block.hash}) has parent ${block.parentHash}, but the index holds ${expectedParent} at ${previous}`);
        }
        this.stmt.insertBlock.run(block.number, block.hash, block.parentHash, block.timestamp);
        for (const m of movements) {
          this.stmt.insertMovement.run(m.blockNumber, m.txIndex, m.ord, m.blockHash, m.txHash, m.kind, m.token, m.tokenId, m.from, m.to, m.amount.toString());
          const tokenId = balanceTokenId(m.kind, m.tokenId);
          if (m.token === ETHER) {
            if (trackedEther.has(m.from)) touch(ETHER, "", m.from, -m.amount, m);
            if (trackedEther.has(m.to)) touch(ETHER, "", m.to, m.amount, m);
          } else {
            if (m.from !== ZERO_ADDRESS) touch(m.token, tokenId, m.from, -m.amount, m);
            if (m.to !== ZERO_ADDRESS) touch(m.token, tokenId, m.to, m.amount, m);
          }
        }
        // Checkpoints are written per block, after all its movements, so one row per changed balance per block.
        for (const entry of balances.values()) {
          if (entry.dirtyAt !== block.number) continue;
          this.stmt.setCheckpoint.run(entry.token, entry.tokenId, entry.holder, block.number, block.hash, encodeBalance(entry.value));
        }
        previous = block.number;
        expectedParent = block.hash;
      }
      for (const entry of balances.values()) this.stmt.setBalance.run(entry.token, entry.tokenId, entry.holder, encodeBalance(entry.value));
      this.setMeta("cursor", String(previous));
      return true;
    })();
  }

  /**
   * Undoes every block above `ancestor`: their movements, blocks and checkpoints go, and the head balance
   * of each holder they touched returns to its last remaining checkpoint.
   */
  rollbackTo(ancestor: number): void {
    this.db.transaction(() => {
      const keys = new Set<string>();
      for (const [kind, token, tokenId, from, to] of this.stmt.movedSince.all(ancestor) as [MovementKind, string, string, string, string][]) {
        const id = balanceTokenId(kind, tokenId);
        keys.add(token + "|" + id + "|" + from);
        keys.add(token + "|" + id + "|" + to);
      }
      for (const key of keys) {
        const [token, tokenId, holder] = key.split("|");
        this.stmt.deleteCheckpointsAfter.run(token, tokenId, holder, ancestor);
        const last = this.stmt.lastCheckpoint.get(token, tokenId, holder) as string | undefined;
        if (last === undefined) this.stmt.deleteBalance.run(token, tokenId, holder);
        else this.stmt.setBalance.run(token, tokenId, holder, last);
      }
      this.stmt.deleteMovements.run(ancestor);
      this.stmt.deleteBlocks.run(ancestor);
      const cursor = Number(this.meta("cursor"));
      if (cursor > ancestor) this.setMeta("cursor", String(ancestor));
    })();
  }

  /** Non-zero balances of a token (an ERC-1155 id) at the cursor, or at `block` from the checkpoints. */
  holders(token: string, tokenId: string, block?: number): Holding[] {
    const rows = (block === undefined ? this.stmt.headHolders.all(token, tokenId, ZERO) : this.stmt.holdersAt.all(token, tokenId, block)) as [string, string][];
    const out: Holding[] = [];
    for (const row of rows) if (row[1] !== ZERO) out.push({ holder: row[0], balance: decodeBalance(row[1]) });
    return out;
  }

  balance(token: string, tokenId: string, holder: string, block?: number): bigint {
    const text = (block === undefined ? this.stmt.getBalance.get(token, tokenId, holder) : this.stmt.balanceAt.get(token, tokenId, holder, block)) as string | undefined;
    return text ? decodeBalance(text) : 0n;
  }

  /** ERC-1155 ids a holder has a non-zero balance of at `block`. */
  idsOf(token: string, holder: string, block: number): { tokenId: string; balance: bigint }[] {
    return (this.stmt.idsOfHolderAt.all(token, holder, block) as [string, string][])
      .filter((r) => r[1] !== ZERO)
      .map(([tokenId, balance]) => ({ tokenId, balance: decodeBalance(balance) }))
      .sort((a, b) => (BigInt(a.tokenId) < BigInt(b.tokenId) ? -1 : 1));
  }

  /** Movements in [from, to] where `account` is sender or receiver, in chain order. */
  movementsOf(account: string, from: number, to: number): StoredMovement[] {
    return this.queryMovements(
      `SELECT m.*, b.timestamp FROM (
         SELECT * FROM idx_movements WHERE from_addr = @account AND block_number BETWEEN @from AND @to
         UNION SELECT * FROM idx_movements WHERE to_addr = @account AND block_number BETWEEN @from AND @to
       ) m JOIN idx_blocks b ON b.number = m.block_number ORDER BY m.block_number, m.tx_index, m.ord`,
      { account, from, to },
    );
  }

  /** Movements of one token in [from, to], in chain order. */
  movementsOfToken(token: string, from: number, to: number): StoredMovement[] {
    return this.queryMovements(
      `SELECT m.*, b.timestamp FROM idx_movements m JOIN idx_blocks b ON b.number = m.block_number
       WHERE m.token = @token AND m.block_number BETWEEN @from AND @to ORDER BY m.block_number, m.tx_index, m.ord`,
      { token, from, to },
    );
  }

  private queryMovements(sql: string, params: Record<string, string | number>): StoredMovement[] {
    const rows = this.db.prepare(sql).all(params) as Record<string, string | number>[];
    return rows.map((r) => ({
      blockNumber: r.block_number as number,
      blockHash: r.block_hash as string,
      txIndex: r.tx_index as number,
      txHash: r.tx_hash as string,
      ord: r.ord as number,
      kind: r.kind as MovementKind,
      token: r.token as string,
      tokenId: r.token_id as string,
      from: r.from_addr as string,
      to: r.to_addr as string,
      amount: BigInt(r.amount as string),
      timestamp: r.timestamp as number,
    }));
  }
}
