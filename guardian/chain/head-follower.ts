import type { Logger } from "pino";
import type { BlockRef, ChainEvent } from "./types";
import { HeaderLinkError, ReorgBeyondWindowError, ReorgTracker } from "./reorg-tracker";
import { batchSettled, type HttpRpcClient } from "./rpc";
import type { RpcClient } from "./types";
import type { GuardianMetrics } from "../ops/metrics";
import type { ChainHealth } from "../ops/health-server";
import { NewHeadsSubscription } from "./new-heads";

interface RawHeader {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
}

export function toBlockRef(h: RawHeader): BlockRef {
  return { number: Number(h.number), hash: h.hash.toLowerCase(), parentHash: h.parentHash.toLowerCase(), timestamp: Number(h.timestamp) };
}

export interface HeadFollowerOptions {
  chainId: number;
  rpc: RpcClient;
  logger: Logger;
  metrics: GuardianMetrics;
  /** When set, `eth_subscribe newHeads` wakes the follower; polling stays on as a slower safety net. */
  wsUrl?: string;
  pollIntervalMs: number;
  window: number;
  confirmations: number;
  /** Where to begin when nothing was committed yet. */
  startBlock: number | "latest";
  /** Headers fetched per batch while catching up. */
  batchSize?: number;
  /** The committed window (the store's), reloaded after a failure so nothing is skipped. */
  loadWindow: () => BlockRef[] | Promise<BlockRef[]>;
  /** Where /healthz reads the node's head. */
  health?: ChainHealth;
  /**
   * The hashes of blocks that hold findings from `from` on, by number: a reorg deeper than the window is re-verified
   * against them (the window's own headers are gone by then).
   */
  findingBlocks?: (from: number) => Map<number, string[]> | Promise<Map<number, string[]>>;
  /** A header did not link to its parent by number (see HeaderLinkError); `url` is where it came from. */
  onBrokenLink?: (err: HeaderLinkError, url: string | undefined) => Promise<void>;
}

export type ChainEventHandler = (events: ChainEvent[]) => Promise<void>;

/**
 * The chain source: turns the node's head into an ordered stream of block/reorg/finalize events. It
 * never trusts a notification's order: every wake-up re-reads `latest`, backfills every height between
 * the committed tip and it, and lets the ReorgTracker link them by parent hash. After any failure it
 * reloads the committed window, so a block is never skipped and never handed over twice.
 */
export class HeadFollower {
  private tracker: ReorgTracker;
  private readonly log: Logger;
  private readonly batchSize: number;
  private wake?: () => void;
  private lastNotified?: BlockRef;
  private consecutiveFailures = 0;
  /** The tracker is rebuilt from the store's window before the next step (a store that answers asynchronously). */
  private stale = false;

  constructor(private readonly options: HeadFollowerOptions) {
    this.log = options.logger;
    this.batchSize = options.batchSize ?? 100;
    const window = options.loadWindow();
    if (Array.isArray(window)) {
      this.tracker = this.trackerOf(window);
    } else {
      window.catch(() => undefined);
      this.tracker = this.trackerOf([]);
      this.stale = true;
    }
  }

  /** The node's head as last read. */
  private nodeHead?: number;

  get tip(): BlockRef | undefined {
    return this.tracker.tip();
  }

  async run(handler: ChainEventHandler, signal: AbortSignal): Promise<void> {
    let subscription: NewHeadsSubscription | undefined;
    if (this.options.wsUrl) {
      subscription = new NewHeadsSubscription({
        url: this.options.wsUrl,
        logger: this.log,
        onHead: (head) => this.onNotifiedHead(head),
      });
      subscription.start();
    }
    try {
      while (!signal.aborted) {
        const caughtUp = await this.step(handler, signal);
        if (signal.aborted) break;
        if (caughtUp === false) continue;
        const idleMs = subscription?.connected ? this.options.pollIntervalMs * 5 : this.options.pollIntervalMs;
        await this.idle(caughtUp === "failed" ? this.failureDelay() : idleMs, signal);
      }
    } finally {
      subscription?.stop();
    }
  }

  /**
   * Reads `latest` and processes everything up to it (one batch of headers per call while far behind).
   * Returns true when caught up, false when more remains, "failed" after an error (already logged).
   */
  async step(handler: ChainEventHandler, signal?: AbortSignal): Promise<boolean | "failed"> {
    try {
      if (this.stale) {
        this.tracker = this.trackerOf(await this.options.loadWindow());
        this.stale = false;
      }
      const caughtUp = await this.syncBatch(handler, signal);
      this.consecutiveFailures = 0;
      return caughtUp;
    } catch (err) {
      this.consecutiveFailures++;
      if (err instanceof ReorgBeyondWindowError) {
        try {
          await this.reverifyBeyondWindow(err, handler);
          this.resetTracker();
          return false;
        } catch (again) {
          this.log.error({ err: again }, "could not re-verify a reorg deeper than the window; retrying");
          this.resetTracker();
          return "failed";
        }
      }
      if (err instanceof HeaderLinkError) {
        // The node's chain does not hold together: ask another URL for it, and make the lie a finding.
        const rpc = this.options.rpc as Partial<HttpRpcClient>;
        const from = rpc.currentUrl;
        const to = typeof rpc.failover === "function" ? rpc.failover() : undefined;
        this.log.fatal({ block_number: err.block.number, block_hash: err.block.hash, claimed_parent: err.block.parentHash, parent_number: err.parent.number, url: from, next_url: to }, "critical: a header does not link to its parent by number; re-fetching from another URL");
        await this.options.onBrokenLink?.(err, from).catch((e: unknown) => this.log.error({ err: e }, "could not record the broken header link"));
      }
      this.log.error(
        { err, tip: this.tracker.tip()?.number, failures: this.consecutiveFailures },
        "chain sync failed; resuming from the last committed block",
      );
      // The liveness watch tells a failing node from a quiet one (a retried failure does not make /healthz red).
      if (this.options.health) this.options.health.lastSyncFailureAt = Date.now();
      this.resetTracker();
      return "failed";
    }
  }

  private async syncBatch(handler: ChainEventHandler, signal?: AbortSignal): Promise<boolean> {
    const { rpc, metrics, chainId } = this.options;
    const chain = String(chainId);
    const latest = toBlockRef(await rpc.request<RawHeader>("eth_getBlockByNumber", ["latest", false]));
    metrics.head.set({ chain }, latest.number);
    this.nodeHead = latest.number;
    if (this.options.health) this.options.health.head = latest.number;
    const events: ChainEvent[] = [];
    let tip = this.tracker.tip();
    if (!tip) {
      // A fresh start: the start block opens the first batch, so the blocks after it are fetched and
      // processed with it instead of waiting for it to be handled alone.
      const start = this.options.startBlock === "latest" ? latest.number : this.options.startBlock;
      const first = start === latest.number ? latest : await this.headerByNumber(start);
      events.push(...(await this.tracker.add(first, (h) => this.headerByHash(h))));
      tip = first;
      if (first.number >= latest.number) {
        await this.deliver(events, handler);
        return true;
      }
    } else {
      metrics.headLag.set({ chain }, Math.max(0, latest.number - tip.number));
      if (latest.number <= tip.number) {
        if (this.tracker.has(latest)) return true;
        // Same height or lower with a different hash: either a reorg or a lagging node after failover.
        // Only the node's block at that height tells which, so feed it and let the tracker compare.
        if (latest.number < tip.number) {
          this.log.warn({ node_head: latest.number, tip: tip.number }, "node head is behind our tip (lagging RPC or rollback)");
        }
        await this.deliver(await this.tracker.add(latest, (h) => this.headerByHash(h)), handler);
        return true;
      }
    }

    const to = Math.min(latest.number, tip.number + this.batchSize);
    const numbers: number[] = [];
    for (let n = tip.number + 1; n <= to; n++) numbers.push(n);
    const headers = to === latest.number && numbers.length === 1 ? [latest] : await this.headersByNumber(numbers, latest);
    for (const h of headers) {
      if (signal?.aborted) break;
      events.push(...(await this.tracker.add(h, (hash) => this.headerByHash(hash))));
    }
    await this.deliver(events, handler);
    return to >= latest.number;
  }

  /**
   * A reorg deeper than the window: the window can no longer be trusted. The canonical headers from one more window
   * back are read; every block holding findings whose hash the chain no longer has is orphaned (its findings are
   * retracted), and the range from that point is processed again as a reorg to a new branch. Critical on /healthz.
   */
  private async reverifyBeyondWindow(err: ReorgBeyondWindowError, handler: ChainEventHandler): Promise<void> {
    const from = Math.max(0, err.oldest.number - this.options.window);
    const numbers: number[] = [];
    for (let n = from; n <= err.tip.number; n++) numbers.push(n);
    const settled = await batchSettled(this.options.rpc, numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] })));
    const canonical = new Map<number, BlockRef>();
    settled.forEach((s, i) => {
      if (s instanceof Error) throw s;
      if (s) canonical.set(numbers[i], toBlockRef(s as RawHeader));
    });
    const ancestor = canonical.get(from);
    if (!ancestor) throw new Error(`block ${from} is not on the node's chain`);
    const orphaned = new Set<string>();
    for (const b of this.tracker.window()) if (canonical.get(b.number)?.hash !== b.hash) orphaned.add(b.hash);
    for (const [n, hashes] of (await this.options.findingBlocks?.(from + 1)) ?? new Map<number, string[]>()) {
      for (const h of hashes) if (canonical.get(n)?.hash !== h) orphaned.add(h);
    }
    const message = `reorg deeper than the window (${this.options.window} blocks) at block ${err.branchStart.number}: the window is not trusted; findings re-verified from block ${from}, ${orphaned.size} orphaned block(s)`;
    this.log.fatal({ oldest: err.oldest.number, tip: err.tip.number, branch_start: err.branchStart.number, reverify_from: from, orphaned: [...orphaned] }, `critical: ${message}`);
    if (this.options.health) this.options.health.critical = [...(this.options.health.critical ?? []), message];
    this.options.metrics.headEvents.inc({ chain: String(this.options.chainId), kind: "reorg_beyond_window" });
    const held = this.tracker.window().filter((b) => b.number > from);
    await handler([
      {
        kind: "reorg",
        reorg: {
          chainId: this.options.chainId,
          depth: err.tip.number - from,
          commonAncestor: ancestor,
          orphaned: held,
          added: [],
          orphanedBlockHashes: [...orphaned],
          beyondWindow: true,
        },
      },
    ]);
  }

  private async deliver(events: ChainEvent[], handler: ChainEventHandler): Promise<void> {
    if (events.length > 0) await handler(events);
    const tip = this.tracker.tip();
    if (tip && this.nodeHead !== undefined) {
      this.options.metrics.headLag.set({ chain: String(this.options.chainId) }, Math.max(0, this.nodeHead - tip.number));
    }
  }

  private async headersByNumber(numbers: number[], latest: BlockRef): Promise<BlockRef[]> {
    const settled = await batchSettled(
      this.options.rpc,
      numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] })),
    );
    return settled.map((s, i) => {
      if (s instanceof Error) throw s;
      if (!s) {
        // The node's head moved back between reading `latest` and now (a reorg in progress).
        if (numbers[i] === latest.number) return latest;
        throw new Error(`block ${numbers[i]} vanished while backfilling`);
      }
      return toBlockRef(s as RawHeader);
    });
  }

  private async headerByNumber(n: number): Promise<BlockRef> {
    const h = await this.options.rpc.request<RawHeader | null>("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
    if (!h) throw new Error(`start block ${n} does not exist yet`);
    return toBlockRef(h);
  }

  private async headerByHash(hash: string): Promise<BlockRef> {
    const h = await this.options.rpc.request<RawHeader | null>("eth_getBlockByHash", [hash, false]);
    if (!h) throw new Error(`block ${hash} not found while walking back a reorg`);
    return toBlockRef(h);
  }

  /** newHeads notifications only wake the loop; they are also checked so anomalies show in metrics. */
  private onNotifiedHead(head: BlockRef): void {
    const chain = String(this.options.chainId);
    const last = this.lastNotified;
    if (last) {
      if (head.number === last.number && head.hash === last.hash) {
        this.options.metrics.headEvents.inc({ chain, kind: "duplicate" });
        this.log.debug({ block_number: head.number }, "duplicate head notification");
        return;
      }
      if (head.number > last.number + 1) {
        this.options.metrics.headEvents.inc({ chain, kind: "missed" });
        this.log.info({ from: last.number + 1, to: head.number - 1 }, "head notifications skipped blocks; backfilling");
      } else if (head.number <= last.number) {
        this.options.metrics.headEvents.inc({ chain, kind: "out_of_order" });
        this.log.info({ block_number: head.number, last: last.number }, "head notification at or below the previous one");
      }
    }
    this.lastNotified = head;
    this.wake?.();
  }

  private idle(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.wake = done;
    });
  }

  private failureDelay(): number {
    return Math.min(10_000, 250 * 2 ** Math.min(this.consecutiveFailures - 1, 6));
  }

  /** Back to the committed window: now when the store answers synchronously, else before the next step. */
  private resetTracker(): void {
    const window = this.options.loadWindow();
    if (Array.isArray(window)) {
      this.tracker = this.trackerOf(window);
      this.stale = false;
    } else {
      window.catch(() => undefined);
      this.stale = true;
    }
  }

  private trackerOf(window: BlockRef[]): ReorgTracker {
    return new ReorgTracker({ chainId: this.options.chainId, window: this.options.window, confirmations: this.options.confirmations }, window);
  }
}
