import type { Logger } from "pino";
import type { Database } from "better-sqlite3";
import type { BlockRef, ChainEvent, ReorgEvent, RpcClient } from "../chain/types";
import { reportingChainId, type ReportingConfig } from "./config";
import { ChainLinkError, IndexStore, NegativeBalanceError } from "./index-store";
import { blockByNumber, hex, readBlock, transferLogs, type BlockMovements, type ReadScope } from "./chain-reader";
import { compareMovements, ETHER } from "./movement";
import { readTokenMetadata } from "./token-metadata";
import { ReportingScope } from "./reporting-scope";
import { decodeTransferLogs, type RpcLog } from "./transfer-logs";

export interface IndexerDeps {
  rpc: RpcClient;
  store: IndexStore;
  scope: ReportingScope;
  logger?: Logger;
}

export class IndexerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IndexerError";
  }
}

/** Per-block catch-up applies this many blocks per SQLite transaction. */
const BLOCK_BATCH = 50;
/**
 * Log-range catch-up applies at least this many logs per SQLite transaction. Larger batches write each
 * holder's entries in longer key-ordered runs (250k: ~14% more logs per CPU-second than 100k on the bench),
 * at the cost of holding the batch's parsed logs (~150 MB at 250k) while catching up.
 */
export const INGEST_BATCH_LOGS = 250_000;

/**
 * The catch-up path from an eth_getLogs response to the store: decode, group per block, apply in one
 * transaction. `headers` has every block a log points at; `end` is the range's last block, which
 * becomes the cursor even when it has no transfers. The benchmark drives exactly this function.
 */
export function ingestLogRange(
  store: IndexStore,
  scope: ReportingScope,
  logs: readonly RpcLog[],
  headers: ReadonlyMap<string, BlockRef>,
  end: BlockRef,
  isolate?: (batch: BlockMovements[], sparse: boolean) => void,
  rejected?: Map<string, string>,
): void {
  const blocks = new Map<number, BlockMovements>();
  for (const m of decodeTransferLogs(logs, scope.standards, rejected)) {
    let entry = blocks.get(m.blockNumber);
    if (!entry) {
      const block = headers.get(m.blockHash);
      if (!block) throw new IndexerError(`no header for block ${m.blockHash}`);
      entry = { block, movements: [] };
      blocks.set(m.blockNumber, entry);
    }
    entry.movements.push(m);
  }
  if (!blocks.has(end.number)) blocks.set(end.number, { block: end, movements: [] });
  const batch = [...blocks.values()].sort((a, b) => a.block.number - b.block.number);
  for (const b of batch) b.movements.sort(compareMovements);
  if (isolate) isolate(batch, true);
  else store.applyBlocks(batch, scope.accounts, { sparse: true, stateTokens: scope.stateTokens });
}

/** The chain source's events, and "check": confirm the cursor is still on the node's chain. */
export type IndexerEvent = ChainEvent | { kind: "check" };

/** Thrown inside a catch-up when the node's chain moved under it; the indexer reconciles and retries. */
class ChainMovedError extends Error {}

/**
 * The daemon's report indexer for `chainId`, or undefined when the reports are about another chain (or
 * there is no reporting section). The guardian feeds it the same events as the detection pipeline.
 */
export function createReportIndexer(
  config: { reporting?: ReportingConfig; chains: readonly { id: number }[] },
  chainId: number,
  deps: { rpc: RpcClient; db: Database; logger?: Logger },
): Indexer | undefined {
  if (!config.reporting) return undefined;
  const reportsChain = reportingChainId(config);
  if (reportsChain === undefined) throw new IndexerError(`reporting.chain: the config has ${config.chains.length} chains; say which one the reports are about`);
  if (reportsChain !== chainId) return undefined;
  return new Indexer({ rpc: deps.rpc, store: new IndexStore(deps.db), scope: new ReportingScope(config.reporting), logger: deps.logger });
}

/**
 * Keeps the report tables in step with the chain. It consumes the chain source's events: a block is
 * read by hash and applied; a reorg rolls the store back to the common ancestor and applies the new
 * branch. A gap between the indexed cursor and a new block (first start, a restart, a one-shot report)
 * is filled from eth_getLogs ranges, or block by block when ether of accounts is followed (that needs
 * every block's traces).
 */
export class Indexer {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: IndexerDeps) {}

  /** Serialises events so that a reorg never interleaves with the block it replaces. */
  handle(event: IndexerEvent): Promise<void> {
    const next = this.queue.then(() => this.process(event));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * For the daemon: queues the chain source's events without making detection wait for them. A failure is
   * logged and the next block event catches up the gap (or reconciles a reorg), so nothing is skipped.
   */
  consume(events: readonly ChainEvent[]): void {
    for (const event of events) {
      this.handle(event).catch((err: unknown) => this.deps.logger?.error({ err, event: event.kind }, "report indexing failed; the next block retries"));
    }
  }

  /** Runs `work` between events, so that it reads the index while nothing moves it (the server's reports). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every queued event is processed (before the database closes). */
  async drain(): Promise<void> {
    await this.queue;
  }

  /** Brings the index to the node's latest block; what one-shot report commands call. */
  async syncToHead(): Promise<BlockRef> {
    const head = await blockByNumber(this.deps.rpc, "latest");
    if (!head) throw new IndexerError("the node returned no latest block");
    // Without a chain source there is no reorg event: whatever happened since the last run shows only as
    // a cursor block the node no longer has, even when the next blocks have no logs to link them.
    await this.handle({ kind: "check" });
    await this.handle({ kind: "block", block: head });
    return this.deps.store.cursor()!;
  }

  /** Tokens the index set aside, with why; every report names them. */
  unverifiable() {
    return this.deps.store.unverifiable();
  }

  private async process(event: IndexerEvent): Promise<void> {
    await this.ensureInitialised();
    if (event.kind === "check") await this.ensureCanonicalCursor();
    else if (event.kind === "block") {
      await this.onBlock(event.block);
      await this.ensureMetadata(event.block.number);
    } else if (event.kind === "reorg") await this.onReorg(event.reorg);
  }

  /** The scope actually read: the configured tokens less those set aside. */
  private readScope(): ReadScope {
    const aside = this.deps.store.unverifiable();
    if (aside.size === 0) return this.deps.scope;
    return { standards: new Map([...this.deps.scope.standards].filter(([t]) => !aside.has(t))), accounts: this.deps.scope.accounts };
  }

  /** Rolls back to the node's chain if the cursor block is no longer on it. */
  private async ensureCanonicalCursor(): Promise<void> {
    const cursor = this.deps.store.cursor()!;
    const onNode = await blockByNumber(this.deps.rpc, cursor.number);
    if (onNode?.hash !== cursor.hash) await this.reconcile();
  }

  /** Reads decimals, name and symbol once per token, from the chain, when the token has code. */
  private async ensureMetadata(block: number): Promise<void> {
    const { store, scope, rpc } = this.deps;
    for (const token of scope.tokens()) {
      if (store.tokenMetadata(token.address)) continue;
      if ((await rpc.request<string>("eth_getCode", [token.address, hex(block)])) === "0x") continue;
      store.setTokenMetadata(token.address, await readTokenMetadata(rpc, token, block));
    }
  }

  /**
   * Applies blocks, setting aside any token whose events cannot be folded (a shape error found while
   * decoding, or a balance that would go negative) and applying the rest: one odd token never stops
   * the others. Ether of a followed account going negative is not a token's fault and still stops.
   */
  private applyIsolated(batch: BlockMovements[], sparse: boolean, rejected?: Map<string, string>): void {
    const { store, scope, logger } = this.deps;
    const first = batch[0]?.block.number ?? 0;
    for (const [token, reason] of rejected ?? []) {
      store.markUnverifiable(token, first, reason);
      logger?.warn({ token, reason }, "token set aside as unverifiable");
    }
    for (;;) {
      try {
        store.applyBlocks(batch, scope.accounts, { sparse, stateTokens: scope.stateTokens });
        return;
      } catch (err) {
        if (!(err instanceof NegativeBalanceError) || err.token === ETHER) throw err;
        store.markUnverifiable(err.token, err.blockNumber, err.message);
        logger?.warn({ token: err.token, reason: err.message }, "token set aside as unverifiable");
        for (const b of batch) b.movements = b.movements.filter((m) => m.token !== err.token);
      }
    }
  }

  private async ensureInitialised(): Promise<void> {
    const { store, scope, rpc } = this.deps;
    const fingerprint = scope.fingerprint();
    const stored = store.meta("fingerprint");
    if (stored === fingerprint) return;
    if (stored !== undefined) {
      throw new IndexerError("the reporting section (tokens, accounts, groups or fromBlock) changed since the index was built; run `failsafe report reindex` to rebuild it");
    }
    const anchorNumber = Math.max(scope.config.fromBlock - 1, 0);
    const anchor = await blockByNumber(rpc, anchorNumber);
    if (!anchor) throw new IndexerError(`reporting.fromBlock: block ${anchorNumber} does not exist on the node yet`);
    const opening = new Map<string, bigint>();
    for (const account of [...scope.accounts].sort()) {
      opening.set(account, BigInt(await rpc.request<string>("eth_getBalance", [account, hex(anchor.number)])));
    }
    store.initialise(anchor, opening, fingerprint);
    this.deps.logger?.info({ block_number: anchor.number, accounts: opening.size }, "report index initialised");
  }

  private async onBlock(block: BlockRef, retried = false): Promise<void> {
    const { store } = this.deps;
    if (block.number <= store.cursor()!.number) {
      if (store.block(block.number)?.hash === block.hash) return; // already applied
      await this.reconcile();
      if (store.cursor()!.number >= block.number) return;
    }
    if (block.number > store.cursor()!.number + 1) await this.catchUp(block.number - 1);
    const rejected = new Map<string, string>();
    const data = await readBlock(this.deps.rpc, this.readScope(), block.hash, rejected);
    try {
      this.applyIsolated([data], false, rejected);
    } catch (err) {
      // The parent we hold is not this block's parent: our tail is on a dead branch.
      if (!(err instanceof ChainLinkError) || retried) throw err;
      await this.reconcile();
      await this.onBlock(block, true);
    }
  }

  private async onReorg(reorg: ReorgEvent): Promise<void> {
    const { store, logger } = this.deps;
    const ancestor = reorg.commonAncestor;
    const held = store.block(ancestor.number);
    if (ancestor.number < Number(store.meta("anchor"))) {
      throw new IndexerError(`a reorg to block ${ancestor.number} reaches below the index's first block; run \`failsafe report reindex\``);
    }
    if (held && held.hash !== ancestor.hash) {
      await this.reconcile();
    } else if (store.cursor()!.number > ancestor.number) {
      store.rollbackTo(ancestor.number);
      logger?.warn({ common_ancestor: ancestor.number, depth: reorg.depth }, "report index rolled back after reorg");
    }
    for (const block of reorg.added) await this.onBlock(block);
  }

  /** Finds the highest stored block still on the node's chain and rolls back to it. */
  private async reconcile(): Promise<void> {
    const { store, rpc, logger } = this.deps;
    let below = store.cursor()!.number;
    for (;;) {
      const page = store.blocksBelow(below, 64);
      if (page.length === 0) break;
      for (const held of page) {
        if ((await blockByNumber(rpc, held.number))?.hash !== held.hash) continue;
        if (store.cursor()!.number > held.number) {
          store.rollbackTo(held.number);
          logger?.warn({ common_ancestor: held.number }, "report index rolled back to the node's chain");
        }
        return;
      }
      below = page[page.length - 1].number - 1;
    }
    throw new IndexerError("no indexed block is on the node's chain any more (a reorg below the index's first block); run `failsafe report reindex`");
  }

  /**
   * Fills the store up to and including block `target`. The node's chain may move while this runs (or
   * may have moved since the last run): a block that does not link to the stored tail, or a log whose
   * block is no longer the node's block at that height, rolls the store back to the node's chain and
   * the catch-up goes on from there.
   */
  private async catchUp(target: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ensureCanonicalCursor();
        await this.catchUpOnce(target);
        return;
      } catch (err) {
        if (!(err instanceof ChainLinkError || err instanceof ChainMovedError) || attempt >= 8) throw err;
        this.deps.logger?.warn({ reason: err.message }, "the chain moved while catching up; reconciling");
        await this.reconcile();
      }
    }
  }

  private async catchUpOnce(target: number): Promise<void> {
    const { store, rpc, scope, logger } = this.deps;
    let from = store.cursor()!.number + 1;
    if (from > target) return;
    logger?.info({ from_block: from, to_block: target }, "report index catching up");
    if (scope.accounts.size > 0) {
      while (from <= target) {
        const batch: BlockMovements[] = [];
        const rejected = new Map<string, string>();
        const read = this.readScope();
        for (let n = from; n <= Math.min(target, from + BLOCK_BATCH - 1); n++) {
          const header = await blockByNumber(rpc, n);
          if (!header) throw new ChainMovedError(`block ${n} disappeared from the node while catching up`);
          batch.push(await readBlock(rpc, read, header.hash, rejected));
        }
        this.applyIsolated(batch, false, rejected);
        from += batch.length;
      }
      return;
    }
    // Several responses go into one transaction: the entries tree is then written in larger key-ordered
    // runs, which is most of the cost of catching up.
    let logs: RpcLog[] = [];
    let headers = new Map<string, BlockRef>();
    while (from <= target) {
      const to = Math.min(target, from + scope.config.logChunkBlocks - 1);
      const chunk = await transferLogs(rpc, this.readScope(), { fromBlock: from, toBlock: to });
      const numbers = new Map<number, string>();
      for (const l of chunk) numbers.set(Number(l.blockNumber), l.blockHash.toLowerCase());
      // Headers by number, not by the logs' hashes: a log from a block the node has since replaced
      // must not be stored as if it were on the chain.
      await Promise.all(
        [...numbers].map(async ([n, hash]) => {
          const header = await blockByNumber(rpc, n);
          if (header?.hash !== hash) throw new ChainMovedError(`block ${n} changed while its logs were read (log from ${hash}, node has ${header?.hash ?? "none"})`);
          headers.set(hash, header);
        }),
      );
      for (const log of chunk) logs.push(log);
      if (logs.length >= INGEST_BATCH_LOGS || to === target) {
        const end = await blockByNumber(rpc, to);
        if (!end) throw new ChainMovedError(`block ${to} disappeared from the node while catching up`);
        const rejected = new Map<string, string>();
        ingestLogRange(store, scope, logs, headers, end, (batch, sparse) => this.applyIsolated(batch, sparse, rejected), rejected);
        logs = [];
        headers = new Map();
      }
      from = to + 1;
    }
  }
}
