import type { Database, Statement } from "better-sqlite3";
import type { RpcClient } from "../chain/types";
import { blockByNumber, hex } from "./chain-reader";
import { decodeBalance, encodeBalance } from "./index-store";
import { TRANSFER_TOPIC, type RpcLog } from "./transfer-logs";

/**
 * The system-wide index: every ERC-20 and ERC-721 Transfer on the chain, of any contract, folded into
 * balances per (token, holder), with per-token activity and holder counts. It answers "top tokens",
 * "what does this address hold across all tokens" and contract-group holdings without any token being
 * configured. ERC-20 and ERC-721 are told apart by the log's shape (3 topics and one data word, or 4
 * topics and no data); anything else is counted as unreadable for that token, never guessed.
 *
 * It follows the chain only up to `confirmations` below the head, so a reorg shallower than that never
 * reaches it; a run that finds its cursor block replaced stops and asks for a rebuild instead of folding
 * two branches together. A token whose balances would go negative (history before the first indexed
 * block, or mints logged in a non-standard shape) is marked incomplete and its balances dropped, so the
 * rest stay exact.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS sys_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sys_addresses (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS sys_tokens (
  id INTEGER PRIMARY KEY, standard TEXT NOT NULL, transfers INTEGER NOT NULL, holders INTEGER NOT NULL,
  unreadable INTEGER NOT NULL, incomplete TEXT);
CREATE TABLE IF NOT EXISTS sys_balances (
  token INTEGER NOT NULL, holder INTEGER NOT NULL, balance TEXT NOT NULL, PRIMARY KEY (token, holder)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sys_balances_by_holder ON sys_balances (holder, token);
`;

export interface SystemToken {
  address: string;
  standard: "erc20" | "erc721";
  transfers: number;
  holders: number;
  unreadable: number;
  incomplete: string | null;
}

interface TokenState extends Omit<SystemToken, "address"> {
  id: number;
  dirty: boolean;
}

export class SystemIndexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SystemIndexError";
  }
}

export class SystemIndex {
  private readonly refs = new Map<string, number>();
  private readonly stmt: Record<string, Statement>;

  constructor(readonly db: Database) {
    db.exec(SCHEMA);
    const p = (sql: string) => db.prepare(sql);
    this.stmt = {
      getMeta: p("SELECT value FROM sys_meta WHERE key = ?").pluck(),
      setMeta: p("INSERT OR REPLACE INTO sys_meta (key, value) VALUES (?, ?)"),
      findRef: p("SELECT id FROM sys_addresses WHERE address = ?").pluck(),
      insertRef: p("INSERT INTO sys_addresses (address) VALUES (?)"),
      getToken: p("SELECT id, standard, transfers, holders, unreadable, incomplete FROM sys_tokens WHERE id = ?"),
      setToken: p("INSERT OR REPLACE INTO sys_tokens (id, standard, transfers, holders, unreadable, incomplete) VALUES (?, ?, ?, ?, ?, ?)"),
      getBalance: p("SELECT balance FROM sys_balances WHERE token = ? AND holder = ?").pluck(),
      setBalance: p("INSERT OR REPLACE INTO sys_balances (token, holder, balance) VALUES (?, ?, ?)"),
      deleteBalance: p("DELETE FROM sys_balances WHERE token = ? AND holder = ?"),
      dropToken: p("DELETE FROM sys_balances WHERE token = ?"),
    };
  }

  meta(key: string): string | undefined {
    return this.stmt.getMeta.get(key) as string | undefined;
  }

  /** The last block folded in, with its hash, or undefined before the first run. */
  cursor(): { number: number; hash: string } | undefined {
    const n = this.meta("cursor");
    return n === undefined ? undefined : { number: Number(n), hash: this.meta("cursor_hash")! };
  }

  private ref(address: string): number {
    let id = this.refs.get(address);
    if (id === undefined) {
      id = (this.stmt.findRef.get(address) as number | undefined) ?? Number(this.stmt.insertRef.run(address).lastInsertRowid);
      this.refs.set(address, id);
    }
    return id;
  }

  /**
   * Folds a batch of Transfer logs (any contracts, chain order) in one transaction and moves the cursor to
   * `end`. Balances are kept in memory for the batch and written once, in key order.
   */
  ingest(logs: readonly RpcLog[], end: { number: number; hash: string }): void {
    try {
      this.db.transaction(() => this.fold(logs, end))();
    } catch (err) {
      this.refs.clear(); // ids handed out in the rolled-back transaction are gone
      throw err;
    }
  }

  private fold(logs: readonly RpcLog[], end: { number: number; hash: string }): void {
    const tokens = new Map<number, TokenState>();
    const balances = new Map<string, { token: number; holder: number; before: bigint; value: bigint }>();
    const tokenOf = (id: number, standard: "erc20" | "erc721"): TokenState => {
      let t = tokens.get(id);
      if (!t) {
        const row = this.stmt.getToken.get(id) as Omit<TokenState, "dirty"> | undefined;
        t = row ? { ...row, dirty: false } : { id, standard, transfers: 0, holders: 0, unreadable: 0, incomplete: null, dirty: true };
        tokens.set(id, t);
      }
      return t;
    };
    const move = (t: TokenState, holder: string, delta: bigint, block: number) => {
      if (holder === ZERO || t.incomplete) return;
      const h = this.ref(holder);
      const key = t.id + ":" + h;
      let b = balances.get(key);
      if (!b) {
        const stored = this.stmt.getBalance.get(t.id, h) as string | undefined;
        const before = stored ? decodeBalance(stored) : 0n;
        b = { token: t.id, holder: h, before, value: before };
        balances.set(key, b);
      }
      b.value += delta;
      if (b.value < 0n) t.incomplete = `a balance would fall below zero at block ${block}: history before the index's first block, or mints logged in a non-standard shape`;
    };
    for (const log of logs) {
      if (log.removed || log.topics[0] !== TRANSFER_TOPIC) continue;
      const token = log.address.toLowerCase();
      const erc20 = log.topics.length === 3 && log.data.length === 66;
      const erc721 = log.topics.length === 4 && log.data === "0x";
      const t = tokenOf(this.ref(token), erc721 ? "erc721" : "erc20");
      t.dirty = true;
      if ((!erc20 && !erc721) || (erc721 ? "erc721" : "erc20") !== t.standard) {
        t.unreadable++;
        continue;
      }
      t.transfers++;
      const amount = erc20 ? BigInt(log.data) : 1n;
      const block = Number(log.blockNumber);
      move(t, "0x" + log.topics[1].slice(26).toLowerCase(), -amount, block);
      move(t, "0x" + log.topics[2].slice(26).toLowerCase(), amount, block);
    }
    const written = [...balances.values()].sort((a, b) => a.token - b.token || a.holder - b.holder);
    for (const b of written) {
      const t = tokens.get(b.token)!;
      if (t.incomplete) continue;
      t.holders += (b.value > 0n ? 1 : 0) - (b.before > 0n ? 1 : 0);
      if (b.value === 0n) this.stmt.deleteBalance.run(b.token, b.holder);
      else this.stmt.setBalance.run(b.token, b.holder, encodeBalance(b.value));
    }
    for (const t of tokens.values()) {
      if (t.incomplete) {
        this.stmt.dropToken.run(t.id);
        t.holders = 0;
      }
      if (t.dirty) this.stmt.setToken.run(t.id, t.standard, t.transfers, t.holders, t.unreadable, t.incomplete);
    }
    this.stmt.setMeta.run("cursor", String(end.number));
    this.stmt.setMeta.run("cursor_hash", end.hash);
  }

  /** Tokens by activity (transfers) or by holders, largest first. */
  topTokens(by: "transfers" | "holders", limit: number): SystemToken[] {
    return this.db
      .prepare(
        `SELECT a.address, t.standard, t.transfers, t.holders, t.unreadable, t.incomplete FROM sys_tokens t JOIN sys_addresses a ON a.id = t.id
         ORDER BY t.${by === "holders" ? "holders" : "transfers"} DESC, a.address LIMIT ?`,
      )
      .all(limit) as SystemToken[];
  }

  /** Every token an address holds, with its balance (ERC-721: the count of ids). */
  holdingsOf(address: string): { token: string; standard: string; balance: bigint }[] {
    const id = this.stmt.findRef.get(address) as number | undefined;
    if (id === undefined) return [];
    const rows = this.db
      .prepare(
        `SELECT a.address AS token, t.standard, b.balance FROM sys_balances b JOIN sys_tokens t ON t.id = b.token JOIN sys_addresses a ON a.id = b.token
         WHERE b.holder = ? ORDER BY a.address`,
      )
      .all(id) as { token: string; standard: string; balance: string }[];
    return rows.map((r) => ({ token: r.token, standard: r.standard, balance: decodeBalance(r.balance) }));
  }

  /** Counts for a report's summary and the benchmark. */
  size(): { tokens: number; addresses: number; balances: number } {
    const count = (table: string) => this.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    return { tokens: count("sys_tokens"), addresses: count("sys_addresses"), balances: count("sys_balances") };
  }
}

const ZERO = "0x0000000000000000000000000000000000000000";

/**
 * Brings the system index to `confirmations` below the node's head with eth_getLogs ranges of every
 * contract's Transfer logs. Returns the new cursor.
 */
export async function syncSystemIndex(
  rpc: RpcClient,
  index: SystemIndex,
  options: { fromBlock: number; confirmations: number; chunkBlocks: number; onProgress?: (blocksDone: number, blocksTotal: number) => void },
): Promise<{ number: number; hash: string }> {
  const head = await blockByNumber(rpc, "latest");
  if (!head) throw new SystemIndexError("the node returned no latest block");
  const target = head.number - options.confirmations;
  let cursor = index.cursor();
  if (cursor) {
    const onNode = await blockByNumber(rpc, cursor.number);
    if (onNode?.hash !== cursor.hash) {
      throw new SystemIndexError(
        `block ${cursor.number} of the system-wide index is no longer on the node's chain (a reorg deeper than ${options.confirmations} confirmations); rebuild it with \`failsafe ledger index --rebuild\``,
      );
    }
  }
  if (!cursor) index.db.prepare("INSERT OR REPLACE INTO sys_meta (key, value) VALUES ('from_block', ?)").run(String(options.fromBlock));
  let from = cursor ? cursor.number + 1 : options.fromBlock;
  const first = from;
  while (from <= target) {
    const to = Math.min(target, from + options.chunkBlocks - 1);
    const logs = await rpc.request<RpcLog[]>("eth_getLogs", [{ fromBlock: hex(from), toBlock: hex(to), topics: [TRANSFER_TOPIC] }]);
    const end = await blockByNumber(rpc, to);
    if (!end) throw new SystemIndexError(`block ${to} disappeared from the node while indexing`);
    index.ingest(logs, end);
    cursor = end;
    from = to + 1;
    options.onProgress?.(to - first + 1, target - first + 1);
  }
  return cursor ?? { number: from - 1, hash: "" };
}
