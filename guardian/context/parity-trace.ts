import type { CallFrame } from "./types";
import { toBigInt } from "./call-frame";

/**
 * One entry of `trace_block` / `trace_transaction` (the Parity/OpenEthereum trace format that reth,
 * erigon, nethermind and anvil serve): a flat list in depth-first order, each entry placed in its
 * transaction's call tree by `traceAddress`.
 */
export interface ParityTrace {
  type: "call" | "create" | "suicide" | "selfdestruct" | "reward";
  action: {
    from?: string;
    to?: string;
    callType?: string;
    value?: string;
    input?: string;
    init?: string;
    creationMethod?: string;
    address?: string;
    refundAddress?: string;
    balance?: string;
  };
  result?: { gasUsed?: string; output?: string; address?: string; code?: string } | null;
  error?: string;
  traceAddress: number[];
  transactionHash?: string | null;
  blockHash?: string;
}

const CALL_TYPES: Record<string, CallFrame["type"]> = {
  call: "CALL",
  staticcall: "STATICCALL",
  delegatecall: "DELEGATECALL",
  callcode: "CALLCODE",
};

function frameOf(t: ParityTrace): CallFrame {
  const a = t.action;
  let frame: CallFrame;
  if (t.type === "create") {
    frame = {
      type: a.creationMethod === "create2" ? "CREATE2" : "CREATE",
      from: (a.from ?? "").toLowerCase(),
      to: (t.result?.address ?? "0x0000000000000000000000000000000000000000").toLowerCase(),
      value: toBigInt(a.value),
      input: a.init ?? "0x",
      gasUsed: toBigInt(t.result?.gasUsed),
      calls: [],
    };
    if (t.result?.code !== undefined) frame.output = t.result.code;
  } else if (t.type === "suicide" || t.type === "selfdestruct") {
    frame = {
      type: "SELFDESTRUCT",
      from: (a.address ?? "").toLowerCase(),
      to: (a.refundAddress ?? "").toLowerCase(),
      value: toBigInt(a.balance),
      input: "0x",
      gasUsed: 0n,
      calls: [],
    };
  } else {
    frame = {
      type: CALL_TYPES[a.callType ?? "call"] ?? "CALL",
      from: (a.from ?? "").toLowerCase(),
      to: (a.to ?? "").toLowerCase(),
      value: toBigInt(a.value),
      input: a.input ?? "0x",
      gasUsed: toBigInt(t.result?.gasUsed),
      calls: [],
    };
    if (t.result?.output !== undefined) frame.output = t.result.output;
  }
  // Parity says "Reverted"; callTracer says "execution reverted". Keep one vocabulary for detectors.
  if (t.error) frame.error = t.error === "Reverted" ? "execution reverted" : t.error;
  return frame;
}

/** Rebuilds each transaction's call tree from a flat Parity trace list; keyed by lowercase tx hash. */
export function callTreesFromParityTraces(traces: readonly ParityTrace[]): Map<string, CallFrame> {
  const roots = new Map<string, CallFrame>();
  for (const t of traces) {
    if (t.type === "reward" || !t.transactionHash) continue;
    const hash = t.transactionHash.toLowerCase();
    const frame = frameOf(t);
    if (t.traceAddress.length === 0) {
      roots.set(hash, frame);
      continue;
    }
    let parent = roots.get(hash);
    const path = t.traceAddress;
    for (let depth = 0; depth < path.length - 1 && parent; depth++) parent = parent.calls[path[depth]];
    if (!parent) throw new Error(`trace of ${hash} has an entry at [${t.traceAddress.join(",")}] without its parent`);
    parent.calls.push(frame);
  }
  return roots;
}
