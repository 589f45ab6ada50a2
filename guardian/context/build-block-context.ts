import type { RpcClient } from "../chain/types";
import { batchSettled, type RpcCall } from "../chain/rpc";
import { RpcResponseError, isUnsupportedMethod } from "../chain/errors";
import type { BlockContext, CallFrame, DegradedBlock, LogEntry, TxContext } from "./types";
import { TraceBudget, TraceLimiter, isDeadlineOrTimeout, withDeadline } from "./block-deadline";
import { normalizeCallFrame, reachedProtected, toBigInt, type RawCallFrame } from "./call-frame";
import { callTreeFromStructLogs, type StructLogTrace } from "./struct-logs";
import { callTreesFromParityTraces, type ParityTrace } from "./parity-trace";

/** A transaction as JSON-RPC returns it, mined or pending: the fields every TxContext takes from it. */
export interface RpcTransaction {
  hash: string;
  from: string;
  to: string | null;
  value: string;
  input: string;
  nonce: string;
  gasPrice?: string;
  maxPriorityFeePerGas?: string;
}

interface RawTx extends RpcTransaction {
  transactionIndex: string;
}

/** A block with transaction hashes only (cheap for nodes to serve) or full transaction objects. */
interface RawHeader {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
  transactions: (string | RawTx)[];
}

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  logIndex: string;
}

interface RawReceipt {
  transactionHash: string;
  transactionIndex: string;
  blockNumber: string;
  from: string;
  to: string | null;
  status?: string;
  gasUsed: string;
  effectiveGasPrice?: string;
  contractAddress?: string | null;
  logs: RawLog[];
}

/** A trace as the node gave it (callTracer) or as rebuilt (struct logs, Parity's flat list). */
type TraceResult = { raw: RawCallFrame } | { frame: CallFrame };

/**
 * Where call trees come from. `callTracer` is geth's debug_trace* with callTracer, which every major
 * client serves. `parity` is `trace_block` (reth, erigon, nethermind, anvil): the same call tree as a flat
 * list; on anvil it is served from traces recorded at mining time, where debug_traceBlock re-executes the
 * block once per transaction.
 */
export type TraceSource = "callTracer" | "parity";

/**
 * How this node can trace, learnt on first use and kept: `parity` and `block` cost one request per block,
 * `tx` one callTracer request per transaction, `structLog` (Hardhat's network) one default-tracer request
 * per transaction plus the rebuild.
 */
type TraceMode = "parity" | "block" | "tx" | "structLog";

const CALL_TRACER = { tracer: "callTracer" } as const;
/** Memory is needed to recover call inputs and outputs; storage never is, and it is the bulk of a struct log. */
const STRUCT_LOGGER = { enableMemory: true, disableStorage: true, enableReturnData: true } as const;

/**
 * A block is named by number, by hash, or by both (what the pipeline passes, so a reorg cannot swap the
 * block under it while the number still serves methods that only take numbers).
 */
export type BlockId = number | string | { number: number; hash: string };

function blockTagOf(id: BlockId): { byHash: boolean; tag: string; number?: number } {
  if (typeof id === "object") return { byHash: true, tag: id.hash, number: id.number };
  if (typeof id === "number") return { byHash: false, tag: hex(id), number: id };
  return { byHash: /^0x[0-9a-fA-F]{64}$/.test(id), tag: id };
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** What a TxContext takes from elsewhere than the transaction object: its receipt, trace, or simulation. */
export type TxOutcome = Pick<TxContext, "index" | "gasPrice" | "status" | "gasUsed" | "logs" | "trace" | "touched">;

/**
 * A TxContext from a transaction as JSON-RPC returns it, mined or pending, and its outcome. Built as one
 * literal with its properties in a fixed order: every detector reads these objects, and a spread of a
 * differently shaped object into a literal leaves V8 with slow dictionary-mode objects (measured at
 * about 8 µs each, a third of the context's build time).
 */
export function txContextOf(tx: RpcTransaction, outcome: TxOutcome): TxContext {
  const context: TxContext = {
    hash: tx.hash.toLowerCase(),
    index: outcome.index,
    from: tx.from.toLowerCase(),
    to: tx.to ? tx.to.toLowerCase() : null,
    value: toBigInt(tx.value),
    input: tx.input,
    nonce: Number(tx.nonce),
    gasPrice: outcome.gasPrice,
    status: outcome.status,
    gasUsed: outcome.gasUsed,
    logs: outcome.logs,
    trace: outcome.trace,
    touched: outcome.touched,
  };
  if (tx.maxPriorityFeePerGas !== undefined) context.maxPriorityFeePerGas = toBigInt(tx.maxPriorityFeePerGas);
  return context;
}

function blockContext(chainId: number, header: RawHeader, transactions: TxContext[]): BlockContext {
  return {
    chainId,
    number: Number(header.number),
    hash: header.hash.toLowerCase(),
    parentHash: header.parentHash.toLowerCase(),
    timestamp: Number(header.timestamp),
    transactions,
  };
}

export class BlockNotFoundError extends Error {
  constructor(readonly block: string | number) {
    super(`block ${block} not found`);
  }
}

/**
 * Builds BlockContexts: for one block, the transactions that touch protected contracts (in the call tree
 * or by emitting logs, reverted ones included), with receipts, logs and normalised call trees.
 *
 * The block, the receipts and the traces travel in one batched request; which transactions touch is
 * decided from traces and receipts alone. Nodes spend most of a full block's cost on transaction objects,
 * and usually few of a block's transactions touch any one protocol, so the block comes with hashes only
 * and the touching transactions are fetched afterwards. While most of each block touches (a busy
 * protocol, a benchmark), the builder asks for full blocks instead and saves the second round trip.
 */
export class BlockContextBuilder {
  private traceMode: TraceMode;
  private receiptsByBlock = true;
  /** Learnt from the previous block: whether most transactions touched, so full blocks pay off. */
  private fullBlocks = false;
  private readonly protectedSet: ReadonlySet<string>;
  private readonly budget: TraceBudget;
  /**
   * Heavy trace requests go through these clients (one per node URL): one attempt each, timed out at the block
   * deadline, never retried as is. A node that let a block's trace time out is failed over for the next one.
   */
  private readonly traceRpcs: RpcClient[];
  private traceIndex = 0;
  /** Learnt on first refusal: the node has no `trace_block` to fall back to. */
  private parityUnsupported = false;
  /** Heavy traces in flight at once, whatever the look-ahead asks for; each block's deadline starts when its turn comes. */
  private readonly heavy = new TraceLimiter(2);
  /** Protected addresses as indexed event topics: Transfer and Approval logs name owners this way. */
  private readonly protectedTopics: ReadonlyMap<string, string>;
  /** Protected addresses without 0x, as they appear inside bytecode and calldata. */
  private readonly protectedHex: readonly string[];

  constructor(
    private readonly rpc: RpcClient,
    protectedAddresses: Iterable<string>,
    traceSource: TraceSource = "callTracer",
    deadline: { deadlineMs?: number; traceRpc?: RpcClient | RpcClient[] } = {},
  ) {
    this.protectedSet = new Set([...protectedAddresses].map((a) => a.toLowerCase()));
    this.protectedTopics = new Map([...this.protectedSet].map((a) => [`0x${a.slice(2).padStart(64, "0")}`, a]));
    this.protectedHex = [...this.protectedSet].map((a) => a.slice(2));
    this.traceMode = traceSource === "parity" ? "parity" : "block";
    this.budget = new TraceBudget(deadline.deadlineMs);
    const clients = deadline.traceRpc === undefined ? [] : Array.isArray(deadline.traceRpc) ? deadline.traceRpc : [deadline.traceRpc];
    this.traceRpcs = clients.length > 0 ? clients : [rpc];
  }

  private get traceRpc(): RpcClient {
    return this.traceRpcs[this.traceIndex];
  }

  /** After a timeout: the next block's heavy traces go to the next node, if there is one. */
  private failOverTraces(): void {
    if (this.traceRpcs.length > 1) this.traceIndex = (this.traceIndex + 1) % this.traceRpcs.length;
  }

  /** The per-block deadline in force (configured, or derived from the block time seen so far). */
  get deadlineMs(): number {
    return this.budget.deadlineMs();
  }

  /**
   * `via` carries the first round trip (block, receipts, traces): a CallBatch there lets other reads at
   * the same block share it. Follow-ups that need its answers go to the builder's own client.
   */
  async build(id: BlockId, via: RpcClient = this.rpc): Promise<BlockContext> {
    const { byHash, tag, number } = blockTagOf(id);
    const mode = this.traceMode;
    const calls: RpcCall[] = [{ method: byHash ? "eth_getBlockByHash" : "eth_getBlockByNumber", params: [tag, this.fullBlocks] }];
    if (this.receiptsByBlock) calls.push({ method: "eth_getBlockReceipts", params: [tag] });
    // callTracer over a whole block is asked for only once the block's size says it fits the deadline (below).
    if (mode === "parity" && number !== undefined) {
      calls.push({ method: "trace_block", params: [hex(number)] });
    }
    const settled = await batchSettled(via, calls);
    const header = unwrap(settled[0]) as RawHeader | null;
    if (!header) throw new BlockNotFoundError(typeof id === "object" ? id.hash : id);
    const hashes = header.transactions.map((t) => (typeof t === "string" ? t : t.hash).toLowerCase());
    let fullTxs: Map<string, RawTx> | undefined;
    if (header.transactions.length > 0 && typeof header.transactions[0] === "object") {
      fullTxs = new Map((header.transactions as RawTx[]).map((t) => [t.hash.toLowerCase(), t]));
    }

    let receipts: RawReceipt[];
    const r = this.receiptsByBlock ? settled[1] : undefined;
    if (r instanceof RpcResponseError && isUnsupportedMethod(r)) this.receiptsByBlock = false;
    if (this.receiptsByBlock) receipts = unwrap(r) as RawReceipt[];
    else receipts = await this.fetchReceipts(hashes);
    const receiptByHash = new Map(receipts.map((x) => [x.transactionHash.toLowerCase(), x]));
    const receiptOf = (hash: string): RawReceipt => {
      const receipt = receiptByHash.get(hash);
      if (!receipt) throw new Error(`no receipt for transaction ${hash} in block ${header.hash}`);
      return receipt;
    };

    this.budget.observeTimestamp(Number(header.timestamp));
    let traces: Map<string, TraceResult> | undefined;
    let degraded: DegradedBlock | undefined;
    if (mode === "block") {
      const within = await this.heavy.run(() => this.traceWithinDeadline(header, hashes, receiptOf, byHash, tag, number));
      traces = within.traces;
      degraded = within.degraded;
    } else if (mode === "parity") {
      const t = number !== undefined ? settled[settled.length - 1] : await this.rpc.request("trace_block", [header.number]).catch((err: unknown) => err);
      if (t instanceof RpcResponseError && isUnsupportedMethod(t)) {
        // The node has no trace_ namespace (geth): use callTracer from now on.
        this.traceMode = "block";
        return this.build(id);
      }
      const flat = unwrap(t) as ParityTrace[];
      const blockHash = header.hash.toLowerCase();
      if (flat.some((x) => x.blockHash && x.blockHash.toLowerCase() !== blockHash)) {
        throw new Error(`block ${Number(header.number)} changed while it was fetched (reorg in progress)`);
      }
      traces = new Map();
      for (const [h, frame] of callTreesFromParityTraces(flat)) traces.set(h, { frame });
    }

    if (!traces) {
      // Struct logs need each transaction's own fields for the root frame, so fetch them all first.
      if (this.traceMode === "structLog") fullTxs ??= await this.fetchTransactions(hashes);
      traces = await this.traceEach(hashes, receiptOf, fullTxs);
    }

    const touching = hashes
      .map((hash) => ({ hash, touched: this.touched(receiptOf(hash), traces!.get(hash)) }))
      .filter((t) => t.touched.length > 0);
    if (hashes.length > 0) this.fullBlocks = touching.length * 4 > hashes.length;
    fullTxs ??= await this.fetchTransactions(touching.map((t) => t.hash));
    const ctx = blockContext(this.rpc.chainId, header, touching.map((t) => this.txContext(fullTxs!.get(t.hash)!, receiptOf(t.hash), traces!.get(t.hash), t.touched)));
    if (degraded) ctx.degraded = degraded;
    return ctx;
  }

  /**
   * callTracer for a whole block when its predicted cost fits the deadline; otherwise, or when it does not answer
   * in time, the cheaper ways in order: `trace_block` (and from then on, as the builder's mode), then only the
   * transactions whose receipts name a protected contract (debug_traceTransaction), then receipts and logs alone.
   * Whatever was not traced is named in `degraded`. `traces` undefined: the node has no callTracer over blocks
   * (the caller traces per transaction as before).
   */
  private async traceWithinDeadline(
    header: RawHeader,
    hashes: string[],
    receiptOf: (hash: string) => RawReceipt,
    byHash: boolean,
    tag: string,
    number: number | undefined,
  ): Promise<{ traces?: Map<string, TraceResult>; degraded?: DegradedBlock }> {
    const traces = new Map<string, TraceResult>();
    const n = hashes.length;
    if (n === 0) return { traces };
    const deadlineMs = this.budget.deadlineMs();
    const started = performance.now();
    const left = () => deadlineMs - (performance.now() - started);
    const attempts: string[] = [];

    const predicted = this.budget.predictMs("block", n);
    if (predicted <= deadlineMs) {
      const method = byHash ? "debug_traceBlockByHash" : "debug_traceBlockByNumber";
      try {
        const t0 = performance.now();
        const raw = await withDeadline(this.traceRpc.request<{ result?: RawCallFrame }[]>(method, [tag, CALL_TRACER]), deadlineMs, method);
        this.budget.record("block", n, performance.now() - t0);
        raw.forEach((x, i) => x.result && traces.set(hashes[i], { raw: x.result }));
        return { traces };
      } catch (err) {
        if (err instanceof RpcResponseError && isUnsupportedMethod(err)) {
          this.traceMode = "tx";
          return {};
        }
        if (!isDeadlineOrTimeout(err)) throw err;
        attempts.push(`${method}: no answer within ${deadlineMs} ms${this.traceRpcs.length > 1 ? "; failing over to the next node" : ""}`);
        // With another node to ask, the slow one is blamed rather than the block; alone, the block's cost is.
        if (this.traceRpcs.length > 1) this.failOverTraces();
        else this.budget.penalize("block", n, performance.now() - started);
      }
    } else {
      attempts.push(`callTracer over the block: predicted ${Math.round(predicted)} ms for ${n} transactions, over the ${deadlineMs} ms deadline; not asked`);
    }

    if (number !== undefined && !this.parityUnsupported && left() <= 0) {
      attempts.push("trace_block: not asked, no time left before the deadline");
    } else if (number !== undefined && !this.parityUnsupported) {
      try {
        const t0 = performance.now();
        const flat = await withDeadline(this.traceRpc.request<ParityTrace[]>("trace_block", [hex(number)]), left(), "trace_block");
        this.budget.record("parity", n, performance.now() - t0);
        const blockHash = header.hash.toLowerCase();
        if (flat.some((x) => x.blockHash && x.blockHash.toLowerCase() !== blockHash)) {
          throw new Error(`block ${number} changed while it was fetched (reorg in progress)`);
        }
        for (const [h, frame] of callTreesFromParityTraces(flat)) traces.set(h, { frame });
        // The node serves Parity traces cheaply: use them for every block from now on.
        this.traceMode = "parity";
        return { traces };
      } catch (err) {
        if (err instanceof RpcResponseError && isUnsupportedMethod(err)) {
          this.parityUnsupported = true;
          attempts.push("trace_block: not served by this node");
        } else if (isDeadlineOrTimeout(err)) {
          attempts.push(`trace_block: no answer within the ${deadlineMs} ms deadline`);
          this.failOverTraces();
        } else throw err;
      }
    }

    // Receipts say which transactions reached a protected contract by sender, target, created address or logs.
    const candidates = hashes.filter((h) => this.touched(receiptOf(h), undefined).length > 0);
    let traced = 0;
    if (candidates.length > 0 && left() <= 0) {
      attempts.push(`debug_traceTransaction: not asked for the ${candidates.length} transactions named by receipts, no time left before the deadline`);
    } else if (candidates.length > 0) {
      try {
        const settled = await withDeadline(
          batchSettled(this.traceRpc, candidates.map((h) => ({ method: "debug_traceTransaction", params: [h, CALL_TRACER] }))),
          left(),
          "debug_traceTransaction",
        );
        settled.forEach((s, i) => {
          if (s instanceof RpcResponseError) return;
          traces.set(candidates[i], { raw: s as RawCallFrame });
          traced++;
        });
        attempts.push(`debug_traceTransaction: ${traced} of ${candidates.length} transactions named by receipts traced`);
      } catch (err) {
        if (!isDeadlineOrTimeout(err)) throw err;
        attempts.push(`debug_traceTransaction: no answer within the ${deadlineMs} ms deadline for ${candidates.length} transactions; receipts and logs only`);
      }
    }
    return {
      traces,
      degraded: {
        reason: `tracing all ${n} transactions would not fit the ${deadlineMs} ms block deadline`,
        deadlineMs,
        transactions: n,
        traced,
        untraced: n - traced,
        attempts,
      },
    };
  }

  /** The context of one transaction: its block's header with only that transaction in it (if it touches). */
  async buildForTx(txHash: string): Promise<BlockContext> {
    const hash = txHash.toLowerCase();
    const [receipt, tx] = (await batchSettled(this.rpc, [
      { method: "eth_getTransactionReceipt", params: [hash] },
      { method: "eth_getTransactionByHash", params: [hash] },
    ])).map(unwrap) as [RawReceipt | null, RawTx | null];
    if (!receipt || !tx) throw new Error(`transaction ${txHash} not found or not mined`);
    const header = await this.rpc.request<RawHeader | null>("eth_getBlockByNumber", [receipt.blockNumber, false]);
    if (!header) throw new BlockNotFoundError(Number(receipt.blockNumber));
    const traces = await this.traceEach([hash], () => receipt, new Map([[hash, tx]]));
    const trace = traces.get(hash);
    const touched = this.touched(receipt, trace);
    return blockContext(this.rpc.chainId, header, touched.length > 0 ? [this.txContext(tx, receipt, trace, touched)] : []);
  }

  /** Protected contracts a transaction reaches: anywhere in its call tree, by its logs, or as its sender. */
  private touched(receipt: RawReceipt, trace: TraceResult | undefined): string[] {
    const tree = trace && ("raw" in trace ? trace.raw : trace.frame);
    // A watched sender pays gas and value even when it calls nothing watched (the reports follow accounts).
    const others = [receipt.to, receipt.contractAddress, receipt.from];
    for (const log of receipt.logs) {
      others.push(log.address);
      // Tokens leaving a protected address, or an approval it gave, of any token: a spender's
      // transferFrom moves a treasury's tokens without the treasury's code running.
      const t = log.topics;
      if (t.length === 3 && (t[0] === TRANSFER_TOPIC || t[0] === APPROVAL_TOPIC)) others.push(this.protectedTopics.get(t[1].toLowerCase()));
    }
    // A contract created with a protected address in its bytecode: exploits deploy their tools first.
    if (tree && this.protectedHex.length > 0) createdReferencing(tree as CreationNode, this.protectedHex, others);
    return reachedProtected(this.protectedSet, tree, others);
  }

  private txContext(tx: RawTx, receipt: RawReceipt, trace: TraceResult | undefined, touched: string[]): TxContext {
    const logs: LogEntry[] = new Array(receipt.logs.length);
    for (let i = 0; i < logs.length; i++) logs[i] = normalizeLog(receipt.logs[i]);
    return txContextOf(tx, {
      index: Number(tx.transactionIndex),
      gasPrice: toBigInt(receipt.effectiveGasPrice ?? tx.gasPrice),
      status: receipt.status === "0x0" ? 0 : 1,
      gasUsed: toBigInt(receipt.gasUsed),
      logs,
      trace: trace ? ("raw" in trace ? normalizeCallFrame(trace.raw) : trace.frame) : null,
      touched,
    });
  }

  private async fetchReceipts(hashes: string[]): Promise<RawReceipt[]> {
    const settled = await batchSettled(this.rpc, hashes.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })));
    return settled.map((r) => unwrap(r) as RawReceipt);
  }

  private async fetchTransactions(hashes: string[]): Promise<Map<string, RawTx>> {
    const settled = await batchSettled(this.rpc, hashes.map((h) => ({ method: "eth_getTransactionByHash", params: [h] })));
    return new Map(
      settled.map((s, i) => {
        const tx = unwrap(s) as RawTx | null;
        if (!tx) throw new Error(`transaction ${hashes[i]} vanished while its block was fetched (reorg in progress)`);
        return [hashes[i], tx];
      }),
    );
  }

  /**
   * Per-transaction traces: Parity's trace_transaction or callTracer where the node has them, else
   * struct logs rebuilt into a call tree (which needs the full transactions in `txs`).
   */
  private async traceEach(hashes: string[], receiptOf: (hash: string) => RawReceipt, txs?: Map<string, RawTx>): Promise<Map<string, TraceResult>> {
    const out = new Map<string, TraceResult>();
    if (hashes.length === 0) return out;
    if (this.traceMode === "parity") {
      const settled = await batchSettled(this.rpc, hashes.map((h) => ({ method: "trace_transaction", params: [h] })));
      const refused = settled.find((s) => s instanceof RpcResponseError);
      if (!refused) {
        settled.forEach((s, i) => {
          const frame = callTreesFromParityTraces(s as ParityTrace[]).get(hashes[i]);
          if (frame) out.set(hashes[i], { frame });
        });
        return out;
      }
      if (!isUnsupportedMethod(refused)) throw refused;
      this.traceMode = "tx";
    }
    if (this.traceMode !== "structLog") {
      const settled = await batchSettled(this.rpc, hashes.map((h) => ({ method: "debug_traceTransaction", params: [h, CALL_TRACER] })));
      const refused = settled.find((s) => s instanceof RpcResponseError);
      if (!refused) {
        settled.forEach((s, i) => out.set(hashes[i], { raw: s as RawCallFrame }));
        return out;
      }
      if (!isCallTracerRefusal(refused)) throw refused;
      this.traceMode = "structLog";
      txs ??= await this.fetchTransactions(hashes);
    }
    // Struct logs are large; one at a time keeps memory flat on big blocks.
    for (const hash of hashes) {
      const tx = txs!.get(hash)!;
      const receipt = receiptOf(hash);
      const trace = await this.rpc.request<StructLogTrace>("debug_traceTransaction", [hash, STRUCT_LOGGER]);
      out.set(hash, {
        frame: callTreeFromStructLogs(
          { from: tx.from, to: tx.to, value: toBigInt(tx.value), input: tx.input, gasUsed: toBigInt(receipt.gasUsed), contractAddress: receipt.contractAddress },
          trace,
        ),
      });
    }
    return out;
  }
}

const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const APPROVAL_TOPIC = "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925";

type CreationNode = { type?: string; input?: string; calls?: readonly CreationNode[] };

/** Adds to `out` the protected addresses named in the init code of any contract the tree creates. */
function createdReferencing(frame: CreationNode, protectedHex: readonly string[], out: (string | null | undefined)[]): void {
  const type = frame.type?.toUpperCase();
  if ((type === "CREATE" || type === "CREATE2") && frame.input) {
    const code = frame.input.toLowerCase();
    for (const hex of protectedHex) if (code.includes(hex)) out.push(`0x${hex}`);
  }
  if (frame.calls) for (const c of frame.calls) createdReferencing(c, protectedHex, out);
}

function normalizeLog(log: RawLog): LogEntry {
  const topics: string[] = new Array(log.topics.length);
  for (let i = 0; i < topics.length; i++) topics[i] = log.topics[i].toLowerCase();
  return { address: log.address.toLowerCase(), topics, data: log.data, logIndex: Number(log.logIndex) };
}

function unwrap(settled: unknown): unknown {
  if (settled instanceof Error) throw settled;
  return settled;
}

/** Hardhat answers a callTracer request with an error about the tracer, not about the method. */
function isCallTracerRefusal(err: unknown): boolean {
  return (
    isUnsupportedMethod(err) ||
    (err instanceof RpcResponseError && /tracer|trace/i.test(err.shortMessage))
  );
}

const builders = new WeakMap<RpcClient, Map<string, BlockContextBuilder>>();

function builderFor(rpc: RpcClient, protectedAddresses: Iterable<string>): BlockContextBuilder {
  const key = [...protectedAddresses].map((a) => a.toLowerCase()).sort().join(",");
  let byKey = builders.get(rpc);
  if (!byKey) builders.set(rpc, (byKey = new Map()));
  let builder = byKey.get(key);
  if (!builder) byKey.set(key, (builder = new BlockContextBuilder(rpc, protectedAddresses)));
  return builder;
}

/**
 * The BlockContext of one block (by number or hash): what the pipeline feeds detectors, and what tests
 * record as fixtures. `protectedAddresses` decides which transactions are kept.
 */
export function buildBlockContext(rpc: RpcClient, block: BlockId, protectedAddresses: Iterable<string>): Promise<BlockContext> {
  return builderFor(rpc, protectedAddresses).build(block);
}

/** The BlockContext of one transaction: its block's header, and that transaction if it touches a protected contract. */
export function buildTxContext(rpc: RpcClient, txHash: string, protectedAddresses: Iterable<string>): Promise<BlockContext> {
  return builderFor(rpc, protectedAddresses).buildForTx(txHash);
}
