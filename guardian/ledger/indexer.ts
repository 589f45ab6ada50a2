import type { Logger } from "pino";
import type { Database } from "better-sqlite3";
import type { BlockRef, ChainEvent, ReorgEvent, RpcClient } from "../chain/types";
import { reportingChainId, type ReportingConfig } from "../config/reporting";
import { ChainLinkError, IndexStore } from "./index-store";
import { blockByHash, blockByNumber, hex, readBlock, transferLogs, type BlockMovements } from "./chain-reader";
import { compareMovements } from "./movement";
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
/** Log-range catch-up applies at least this many logs per SQLite transaction. */
export const INGEST_BATCH_LOGS = 100_000;

/**
 * The catch-up path from an eth_getLogs response to the store: decode, group per block, apply in one
 * transaction. `headers` has every block a log points at; `end` is the range's last block, which
 * becomes the cursor even when it has no transfers. The benchmark drives exactly this function.
 */
export function ingestLogRange(store: IndexStore, scope: ReportingScope, logs: readonly RpcLog[], headers: ReadonlyMap<string, BlockRef>, end: BlockRef): void {
  const blocks = new Map<number, BlockMovements>();
  for (const m of decodeTransferLogs(logs, scope.standards)) {
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
  store.applyBlocks(batch, scope.accounts, { sparse: true });
}

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
  handle(event: ChainEvent): Promise<void> {
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

  /** Resolves once every queued event is processed (before the database closes). */
  async drain(): Promise<void> {
    await this.queue;
  }

  /** Brings the index to the node's latest block; what one-shot report commands call. */
  async syncToHead(): Promise<BlockRef> {
    const head = await blockByNumber(this.deps.rpc, "latest");
    if (!head) throw new IndexerError("the node returned no latest block");
    await this.handle({ kind: "block", block: head });
    return this.deps.store.cursor()!;
  }

  private async process(event: ChainEvent): Promise<void> {
    await this.ensureInitialised();
    if (event.kind === "block") await this.onBlock(event.block);
    else if (event.kind === "reorg") await this.onReorg(event.reorg);
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
    const data = await readBlock(this.deps.rpc, this.deps.scope, block.hash);
    try {
      store.applyBlocks([data], this.deps.scope.accounts);
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

  /** Fills the store up to and including block `target`. */
  private async catchUp(target: number): Promise<void> {
    const { store, rpc, scope, logger } = this.deps;
    let from = store.cursor()!.number + 1;
    logger?.info({ from_block: from, to_block: target }, "report index catching up");
    if (scope.accounts.size > 0) {
      while (from <= target) {
        const batch: BlockMovements[] = [];
        for (let n = from; n <= Math.min(target, from + BLOCK_BATCH - 1); n++) {
          const header = await blockByNumber(rpc, n);
          if (!header) throw new IndexerError(`block ${n} disappeared from the node while catching up`);
          batch.push(await readBlock(rpc, scope, header.hash));
        }
        store.applyBlocks(batch, scope.accounts);
        from += batch.length;
      }
      return;
    }
    // Several responses go into one transaction: the checkpoint and posting trees are then written in
    // larger key-ordered runs, which is most of the cost of catching up.
    let logs: RpcLog[] = [];
    let headers = new Map<string, BlockRef>();
    while (from <= target) {
      const to = Math.min(target, from + scope.config.logChunkBlocks - 1);
      const chunk = await transferLogs(rpc, scope, { fromBlock: from, toBlock: to });
      const hashes = [...new Set(chunk.map((l) => l.blockHash.toLowerCase()))].filter((h) => !headers.has(h));
      await Promise.all(
        hashes.map(async (hash) => {
          const header = await blockByHash(rpc, hash);
          if (!header) throw new IndexerError(`block ${hash} was reorged away while catching up; retry`);
          headers.set(hash, header);
        }),
      );
      for (const log of chunk) logs.push(log);
      if (logs.length >= INGEST_BATCH_LOGS || to === target) {
        const end = await blockByNumber(rpc, to);
        if (!end) throw new IndexerError(`block ${to} disappeared from the node while catching up`);
        ingestLogRange(store, scope, logs, headers, end);
        logs = [];
        headers = new Map();
      }
      from = to + 1;
    }
  }
}
