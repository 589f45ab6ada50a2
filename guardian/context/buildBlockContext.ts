import type { RpcClient } from "../chain/types";
import { batchSettled, type RpcCall } from "../chain/rpc";
import { RpcResponseError, isUnsupportedMethod } from "../chain/errors";
import type { BlockContext, CallFrame, LogEntry, TxContext } from "./types";
import { collectCallees, normalizeCallFrame, toBigInt, type RawCallFrame } from "./callFrame";
import { callTreeFromStructLogs, type StructLogTrace } from "./structLogs";

/** A block is named by number or by hash; the pipeline always uses the hash so a reorg cannot swap it. */
export type BlockId = number | string;

interface RawTx {
  hash: string;
  transactionIndex: string;
  from: string;
  to: string | null;
  value: string;
  input: string;
  nonce: string;
  gasPrice?: string;
  maxPriorityFeePerGas?: string;
  blockNumber?: string;
}

interface RawBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
  transactions: RawTx[];
}

interface RawLog {
  address: string;
  topics: string[];
  data: string;
  logIndex: string;
}

interface RawReceipt {
  transactionHash: string;
  blockNumber: string;
  status?: string;
  gasUsed: string;
  effectiveGasPrice?: string;
  contractAddress?: string | null;
  logs: RawLog[];
}

/** A trace as the node gave it (callTracer) or as rebuilt from struct logs. */
type TraceResult = { raw: RawCallFrame } | { frame: CallFrame };

/**
 * How this node can trace, learnt from the first block and kept: a block-wide callTracer is one request,
 * per-transaction callTracer one per tx, struct logs (Hardhat's network) one per tx plus the rebuild.
 */
type TraceMode = "block" | "tx" | "structLog";

const CALL_TRACER = { tracer: "callTracer" } as const;
/** Memory is needed to recover call inputs and outputs; storage never is, and it is the bulk of a struct log. */
const STRUCT_LOGGER = { enableMemory: true, disableStorage: true, enableReturnData: true } as const;

function blockTagOf(id: BlockId): { byHash: boolean; tag: string } {
  if (typeof id === "number") return { byHash: false, tag: `0x${id.toString(16)}` };
  return { byHash: /^0x[0-9a-fA-F]{64}$/.test(id), tag: id };
}

export class BlockNotFoundError extends Error {
  constructor(readonly block: BlockId) {
    super(`block ${block} not found`);
  }
}

/**
 * Builds BlockContexts: for one block, the transactions that touch protected contracts (in the call tree
 * or by emitting logs, reverted ones included), with receipts, logs and normalised call trees. The block,
 * its receipts and its traces travel in one batched request where the node allows it.
 */
export class BlockContextBuilder {
  private traceMode: TraceMode = "block";
  private receiptsByBlock = true;
  private readonly protectedSet: ReadonlySet<string>;

  constructor(
    private readonly rpc: RpcClient,
    protectedAddresses: Iterable<string>,
  ) {
    this.protectedSet = new Set([...protectedAddresses].map((a) => a.toLowerCase()));
  }

  async build(id: BlockId): Promise<BlockContext> {
    const { byHash, tag } = blockTagOf(id);
    const calls: RpcCall[] = [{ method: byHash ? "eth_getBlockByHash" : "eth_getBlockByNumber", params: [tag, true] }];
    if (this.receiptsByBlock) calls.push({ method: "eth_getBlockReceipts", params: [tag] });
    if (this.traceMode === "block") {
      calls.push({ method: byHash ? "debug_traceBlockByHash" : "debug_traceBlockByNumber", params: [tag, CALL_TRACER] });
    }
    const settled = await batchSettled(this.rpc, calls);
    const block = unwrap(settled[0]) as RawBlock | null;
    if (!block) throw new BlockNotFoundError(id);

    let receipts: RawReceipt[];
    if (this.receiptsByBlock) {
      const r = settled[1];
      if (r instanceof RpcResponseError && isUnsupportedMethod(r)) {
        this.receiptsByBlock = false;
        receipts = await this.fetchReceipts(block.transactions.map((t) => t.hash));
      } else {
        receipts = unwrap(r) as RawReceipt[];
      }
    } else {
      receipts = await this.fetchReceipts(block.transactions.map((t) => t.hash));
    }

    let rawTraces: (RawCallFrame | null)[] | undefined;
    if (this.traceMode === "block") {
      const t = settled[settled.length - 1];
      if (t instanceof RpcResponseError && isUnsupportedMethod(t)) this.traceMode = "tx";
      else rawTraces = (unwrap(t) as { result: RawCallFrame }[]).map((x) => x.result ?? null);
    }
    const traces =
      rawTraces?.map((t) => (t ? { raw: t } : null)) ?? (await this.traceEach(block.transactions, receipts));
    return this.assemble(block, receipts, traces);
  }

  /** The context of one transaction: its block's header with only that transaction in it (if it touches). */
  async buildForTx(txHash: string): Promise<BlockContext> {
    const receipt = await this.rpc.request<RawReceipt | null>("eth_getTransactionReceipt", [txHash]);
    if (!receipt) throw new Error(`transaction ${txHash} not found or not mined`);
    const block = await this.rpc.request<RawBlock | null>("eth_getBlockByNumber", [receipt.blockNumber, true]);
    if (!block) throw new BlockNotFoundError(Number(receipt.blockNumber));
    const tx = block.transactions.find((t) => t.hash.toLowerCase() === txHash.toLowerCase());
    if (!tx) throw new Error(`transaction ${txHash} is not in block ${Number(receipt.blockNumber)}`);
    const [trace] = await this.traceEach([tx], [receipt]);
    return this.assemble({ ...block, transactions: [tx] }, [receipt], [trace]);
  }

  private async fetchReceipts(hashes: string[]): Promise<RawReceipt[]> {
    const settled = await batchSettled(
      this.rpc,
      hashes.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
    );
    return settled.map((r) => unwrap(r) as RawReceipt);
  }

  /** Per-transaction traces: callTracer if the node has it, else struct logs rebuilt into a call tree. */
  private async traceEach(txs: RawTx[], receipts: RawReceipt[]): Promise<TraceResult[]> {
    if (txs.length === 0) return [];
    if (this.traceMode !== "structLog") {
      const settled = await batchSettled(
        this.rpc,
        txs.map((t) => ({ method: "debug_traceTransaction", params: [t.hash, CALL_TRACER] })),
      );
      const refused = settled.find((s) => s instanceof RpcResponseError);
      if (!refused) return settled.map((s) => ({ raw: s as RawCallFrame }));
      if (!isCallTracerRefusal(refused)) throw refused;
      this.traceMode = "structLog";
    }
    // Struct logs are large; one at a time keeps memory flat on big blocks.
    const out: TraceResult[] = [];
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i];
      const trace = await this.rpc.request<StructLogTrace>("debug_traceTransaction", [tx.hash, STRUCT_LOGGER]);
      const receipt = receipts[i];
      out.push({
        frame: callTreeFromStructLogs(
          {
            from: tx.from,
            to: tx.to,
            value: toBigInt(tx.value),
            input: tx.input,
            gasUsed: toBigInt(receipt.gasUsed),
            contractAddress: receipt.contractAddress,
          },
          trace,
        ),
      });
    }
    return out;
  }

  private assemble(
    block: RawBlock,
    receipts: RawReceipt[],
    traces: (TraceResult | null)[],
  ): BlockContext {
    const receiptByHash = new Map(receipts.map((r) => [r.transactionHash.toLowerCase(), r]));
    const transactions: TxContext[] = [];
    block.transactions.forEach((tx, i) => {
      const receipt = receiptByHash.get(tx.hash.toLowerCase());
      if (!receipt) throw new Error(`no receipt for transaction ${tx.hash} in block ${block.hash}`);
      const trace = traces[i];
      const touched = new Set<string>();
      const callees = trace ? collectCallees("raw" in trace ? trace.raw : trace.frame, new Set()) : new Set<string>();
      if (tx.to) callees.add(tx.to.toLowerCase());
      if (receipt.contractAddress) callees.add(receipt.contractAddress.toLowerCase());
      // A watched sender pays gas and value even when it calls nothing watched (the reports follow accounts).
      if (this.protectedSet.has(tx.from.toLowerCase())) callees.add(tx.from.toLowerCase());
      for (const a of callees) if (this.protectedSet.has(a)) touched.add(a);
      for (const log of receipt.logs) {
        const a = log.address.toLowerCase();
        if (this.protectedSet.has(a)) touched.add(a);
      }
      if (touched.size === 0) return;
      transactions.push({
        hash: tx.hash.toLowerCase(),
        index: Number(tx.transactionIndex),
        from: tx.from.toLowerCase(),
        to: tx.to ? tx.to.toLowerCase() : null,
        value: toBigInt(tx.value),
        input: tx.input,
        nonce: Number(tx.nonce),
        gasPrice: toBigInt(receipt.effectiveGasPrice ?? tx.gasPrice),
        ...(tx.maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas: toBigInt(tx.maxPriorityFeePerGas) } : {}),
        status: receipt.status === "0x0" ? 0 : 1,
        gasUsed: toBigInt(receipt.gasUsed),
        logs: receipt.logs.map(normalizeLog),
        trace: trace ? ("raw" in trace ? normalizeCallFrame(trace.raw) : trace.frame) : null,
        touched: [...touched].sort(),
      });
    });
    return {
      chainId: this.rpc.chainId,
      number: Number(block.number),
      hash: block.hash.toLowerCase(),
      parentHash: block.parentHash.toLowerCase(),
      timestamp: Number(block.timestamp),
      transactions,
    };
  }
}

function normalizeLog(log: RawLog): LogEntry {
  return {
    address: log.address.toLowerCase(),
    topics: log.topics.map((t) => t.toLowerCase()),
    data: log.data,
    logIndex: Number(log.logIndex),
  };
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
