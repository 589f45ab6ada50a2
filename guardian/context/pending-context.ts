import { WebSocketProvider, concat, keccak256, type SocketSubscriber } from "ethers";
import type { Logger } from "pino";
import { z } from "zod";
import type { RpcClient } from "../chain/types";
import type { FindingSink } from "../decisions/types";
import type { Detector, Finding } from "../detectors/types";
import { normalizeCallFrame, reachedProtected, toBigInt } from "./call-frame";
import type { BlockContext, LogEntry, TxContext } from "./types";
import { txContextOf, type RpcTransaction } from "./build-block-context";
import { PendingSimulator, type SimulationBasis, type TracedFrame } from "./pending-simulation";

/** A pending transaction as `eth_getTransactionByHash` / `txpool_content` return it. */
export interface PendingTx extends RpcTransaction {
  gas: string;
  maxFeePerGas?: string;
  blockNumber?: string | null;
}

interface RawHead {
  number: string;
  hash: string;
  timestamp: string;
}

export type PendingSource =
  /** `eth_subscribe newPendingTransactions` over a websocket (lowest latency). */
  | { mode: "subscribe"; wsUrl: string }
  /** `txpool_content` every `intervalMs` (works over plain HTTP on geth, reth, anvil). */
  | { mode: "poll"; intervalMs: number };

/** A chain's mempool watch in the YAML config (for `chains[].mempool`). */
export const mempoolConfigSchema = z
  .object({
    /** `subscribe` uses the chain's `ws` URL; `poll` reads `txpool_content` over HTTP. */
    mode: z.enum(["subscribe", "poll"]).default("subscribe"),
    pollIntervalMs: z.number().int().min(20).max(60_000).default(250),
  })
  .strict();

export type MempoolConfig = z.infer<typeof mempoolConfigSchema>;

/** The watch source for a chain's mempool config; subscribing needs the chain's websocket URL. */
export function pendingSource(mempool: MempoolConfig, wsUrl: string | undefined): PendingSource {
  if (mempool.mode === "poll") return { mode: "poll", intervalMs: mempool.pollIntervalMs };
  if (!wsUrl) throw new Error('mempool.mode "subscribe" needs the chain\'s ws URL; set chains[].ws or use mode: poll');
  return { mode: "subscribe", wsUrl };
}

export interface PendingContextOptions {
  rpc: RpcClient;
  protectedAddresses: Iterable<string>;
  source: PendingSource;
  logger: Logger;
  /** Receives one BlockContext (`pending: true`) per pending transaction that touches a protected contract. */
  onContext(ctx: BlockContext): Promise<void>;
  /** How many transaction hashes to remember so each is simulated once. */
  seenLimit?: number;
}

/**
 * Watches the mempool and simulates every new pending transaction on the latest mined state (plus the
 * sender's earlier pending transactions; see PendingSimulator) with `debug_traceCall` + callTracer (logs
 * included). Transactions whose call tree or logs touch a protected
 * contract become a BlockContext with `pending: true`, the same shape detectors see for mined blocks, so
 * an attack waiting in the mempool is caught before it lands. An attacker's contract is usually the
 * `to`, so every pending transaction is traced, not only those sent to protected addresses.
 */
export class PendingContextWatcher {
  private readonly protectedSet: ReadonlySet<string>;
  private readonly seen = new Set<string>();
  private readonly seenLimit: number;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private ws?: WebSocketProvider;
  private queue: Promise<void> = Promise.resolve();
  private readonly simulator: PendingSimulator;
  /** How the last simulation was based (for logs and tests). */
  lastBasis?: SimulationBasis;

  constructor(private readonly options: PendingContextOptions) {
    this.simulator = new PendingSimulator(options.rpc);
    this.protectedSet = new Set([...options.protectedAddresses].map((a) => a.toLowerCase()));
    this.seenLimit = options.seenLimit ?? 10_000;
  }

  async start(): Promise<void> {
    const { source } = this.options;
    if (source.mode === "subscribe") {
      const ws = new WebSocketProvider(source.wsUrl, this.options.rpc.chainId, { staticNetwork: true });
      this.ws = ws;
      // Subscribe by hand rather than with ws.on("pending"), so start() returns only once the node has
      // acknowledged the subscription: nothing sent after start() can be missed.
      const subscriptionId: string = await ws.send("eth_subscribe", ["newPendingTransactions"]);
      ws._register(subscriptionId, { _handleMessage: (hash: string) => this.enqueue(hash) } as unknown as SocketSubscriber);
      // What was already pending before the subscription existed.
      await this.pollOnce().catch((err: unknown) => this.options.logger.debug({ err: { message: (err as Error).message } }, "no txpool_content; only new pending transactions are watched"));
    } else {
      const poll = async () => {
        try {
          await this.pollOnce();
        } catch (err) {
          this.options.logger.warn({ err: { message: (err as Error).message } }, "txpool poll failed");
        }
        if (!this.stopped) this.timer = setTimeout(() => void poll(), source.intervalMs);
      };
      await poll();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ws) await this.ws.destroy();
    await this.queue;
  }

  /** Resolves once every transaction seen so far has been simulated and delivered. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Simulates one pending transaction; undefined when it touches nothing protected (or already mined). */
  async buildContext(tx: PendingTx): Promise<BlockContext | undefined> {
    const [head, sentBefore] = await Promise.all([
      this.options.rpc.request<RawHead>("eth_getBlockByNumber", ["latest", false]),
      this.options.rpc.request<string>("eth_getTransactionCount", [tx.from, "latest"]),
    ]);
    // The sender's own transactions that must run before this one (deploy the exploit, then fire it).
    const predecessors = Number(tx.nonce) > Number(sentBefore) ? await this.predecessorsOf(tx, Number(sentBefore)) : [];
    const { trace, basis } = await this.simulator.simulate(tx, predecessors);
    this.lastBasis = basis;
    const logs = collectLogs(trace);
    const touched = reachedProtected(this.protectedSet, trace, [tx.to, ...logs.map((l) => l.address)]);
    if (touched.length === 0) return undefined;

    const frame = normalizeCallFrame(trace);
    const txContext: TxContext = txContextOf(tx, {
      index: 0,
      // What the sender offers per gas; for EIP-1559 transactions the cap.
      gasPrice: toBigInt(tx.maxFeePerGas ?? tx.gasPrice),
      status: frame.error ? 0 : 1,
      gasUsed: frame.gasUsed,
      logs,
      trace: frame,
      touched,
    });
    return {
      chainId: this.options.rpc.chainId,
      number: Number(head.number) + 1,
      // No block exists yet: a synthetic hash, unique per (parent, transaction), keeps finding ids distinct
      // from those of the block the transaction later lands in.
      hash: keccak256(concat([head.hash, tx.hash])).toLowerCase(),
      parentHash: head.hash.toLowerCase(),
      timestamp: Math.max(Number(head.timestamp) + 1, Math.floor(Date.now() / 1000)),
      transactions: [txContext],
      pending: true,
    };
  }

  /** The sender's pending transactions with nonces from `from` up to this one's; undefined if the pool cannot say. */
  private async predecessorsOf(tx: PendingTx, from: number): Promise<PendingTx[] | undefined> {
    let content: { pending?: Record<string, Record<string, PendingTx>> };
    try {
      content = await this.options.rpc.request("txpool_content", []);
    } catch {
      return undefined;
    }
    const sender = tx.from.toLowerCase();
    const mine = Object.entries(content.pending ?? {}).find(([address]) => address.toLowerCase() === sender)?.[1] ?? {};
    const out: PendingTx[] = [];
    for (let n = from; n < Number(tx.nonce); n++) {
      const p = mine[String(n)];
      if (!p) return undefined;
      out.push(p);
    }
    return out;
  }

  private async pollOnce(): Promise<void> {
    const content = await this.options.rpc.request<{ pending?: Record<string, Record<string, PendingTx>> }>("txpool_content", []);
    for (const byNonce of Object.values(content.pending ?? {})) {
      for (const tx of Object.values(byNonce)) this.enqueue(tx.hash, tx);
    }
  }

  private enqueue(hash: string, known?: PendingTx): void {
    const key = hash.toLowerCase();
    if (this.seen.has(key) || this.stopped) return;
    this.seen.add(key);
    if (this.seen.size > this.seenLimit) this.seen.delete(this.seen.values().next().value as string);
    this.queue = this.queue.then(() => this.process(key, known));
  }

  private async process(hash: string, known?: PendingTx): Promise<void> {
    const started = Date.now();
    try {
      const tx = known ?? (await this.options.rpc.request<PendingTx | null>("eth_getTransactionByHash", [hash]));
      if (!tx || (tx.blockNumber !== null && tx.blockNumber !== undefined)) return;
      const ctx = await this.buildContext(tx);
      if (!ctx) return;
      this.options.logger.debug({ tx_hash: hash, touched: ctx.transactions[0].touched, ms: Date.now() - started }, "pending transaction touches protected contracts");
      await this.options.onContext(ctx);
    } catch (err) {
      this.options.logger.warn({ tx_hash: hash, err: { message: (err as Error).message } }, "could not simulate pending transaction");
    }
  }
}

/** Logs of the frames that did not revert, in execution order (a reverted frame's logs never happen). */
export function collectLogs(frame: TracedFrame, into: LogEntry[] = []): LogEntry[] {
  if (frame.error) return into;
  // callTracer reports a frame's own logs and its children separately; `position` orders them, but the
  // frame's logs before its calls is enough for detectors, which match by address and topic.
  for (const l of frame.logs ?? []) {
    into.push({ address: l.address.toLowerCase(), topics: l.topics.map((t) => t.toLowerCase()), data: l.data, logIndex: into.length });
  }
  for (const child of frame.calls ?? []) collectLogs(child, into);
  return into;
}

/**
 * Runs detectors over a pending context without letting it change their windowed state: a pending
 * transaction may never land, so each detector's state is saved before and restored after. A detector
 * that cannot work on a block that does not exist yet (it reads state at the block's hash) is skipped
 * for this context and logged.
 */
export async function detectPending(detectors: readonly Detector[], ctx: BlockContext, logger?: Logger): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const detector of detectors) {
    // Through JSON, exactly as the guardian store hands state back after a restart.
    const saved = detector.saveState ? JSON.parse(JSON.stringify(detector.saveState() ?? null, (_k, v) => (typeof v === "bigint" ? v.toString() : v))) : undefined;
    try {
      findings.push(...(await detector.onBlock(ctx)));
    } catch (err) {
      logger?.debug({ detector_id: detector.id, tx_hash: ctx.transactions[0]?.hash, err: { message: (err as Error).message } }, "detector skipped a pending context");
    } finally {
      if (detector.loadState && detector.saveState) detector.loadState(saved);
    }
  }
  return findings;
}

/** The mempool watch of one chain: pending transactions -> detectors -> the same sinks as mined blocks. */
export async function startPendingDetection(options: {
  rpc: RpcClient;
  protectedAddresses: Iterable<string>;
  source: PendingSource;
  detectors: readonly Detector[];
  sinks: readonly FindingSink[];
  logger: Logger;
  /**
   * Runs detection while the pipeline is not inside a block. Pass the pipeline's lock when the detector
   * instances are shared with it: the save/restore of windowed state must not interleave with a mined
   * block's update of the same state.
   */
  exclusive?: <T>(run: () => Promise<T>) => Promise<T>;
}): Promise<PendingContextWatcher> {
  const { logger } = options;
  const watcher = new PendingContextWatcher({
    rpc: options.rpc,
    protectedAddresses: options.protectedAddresses,
    source: options.source,
    logger,
    onContext: async (ctx) => {
      const detect = () => detectPending(options.detectors, ctx, logger);
      const findings = await (options.exclusive ? options.exclusive(detect) : detect());
      if (findings.length === 0) return;
      logger.warn({ tx_hash: ctx.transactions[0].hash, findings: findings.map((f) => `${f.detectorId}:${f.severity}`) }, "pending transaction flagged");
      for (const sink of options.sinks) {
        try {
          await sink.onFindings(findings, ctx);
        } catch (err) {
          logger.error({ err, sink: sink.name }, "sink failed on pending findings");
        }
      }
    },
  });
  await watcher.start();
  return watcher;
}
