import { keccak256, toUtf8Bytes } from "ethers";
import type { BlockContext, CallFrame, TxContext } from "../context/types";
import { normalizeCallFrame, type RawCallFrame } from "../context/call-frame";
import type { Finding } from "../detectors/types";
import type { RpcClient } from "./types";
import { CHAIN_INTEGRITY } from "./integrity-findings";

/** A transaction whose receipt shows it reached protected contracts, but whose trace is missing or never reaches them. */
export interface TraceGap {
  tx: TxContext;
  /** Protected contracts the receipt names (call target or log emitter) that the trace does not reach. */
  missing: string[];
  why: "no trace" | "trace does not reach them";
}

/**
 * Protected contracts the receipt shows running (the call target, a log emitter) that no frame of the trace calls.
 * Only those: a protected address can be in `touched` without its code running (the sender; the `from` of a
 * Transfer a spender moved; an address written into a created contract's bytecode), and a trace that does not
 * reach such an address is not lying.
 */
export function traceGaps(ctx: BlockContext): TraceGap[] {
  const gaps: TraceGap[] = [];
  for (const tx of ctx.transactions) {
    const ran = new Set<string>(tx.logs.map((l) => l.address));
    if (tx.to) ran.add(tx.to.toLowerCase());
    const expected = tx.touched.filter((c) => c !== tx.from && ran.has(c));
    if (expected.length === 0) continue;
    if (!tx.trace) {
      gaps.push({ tx, missing: expected, why: "no trace" });
      continue;
    }
    const reached = new Set<string>();
    collect(tx.trace, reached);
    const missing = expected.filter((c) => !reached.has(c));
    if (missing.length > 0) gaps.push({ tx, missing, why: "trace does not reach them" });
  }
  return gaps;
}

function collect(frame: CallFrame, out: Set<string>): void {
  out.add(frame.to);
  for (const c of frame.calls) collect(c, out);
}

/**
 * Re-traces each gap another way (callTracer per transaction, whatever the block-level tracer was) and patches the
 * context when that trace holds together. Returns the gaps that stay: their transactions are processed without a
 * call tree (degraded) and each is a finding.
 */
export async function repairTraceGaps(rpc: RpcClient, gaps: TraceGap[]): Promise<TraceGap[]> {
  const left: TraceGap[] = [];
  for (const gap of gaps) {
    let frame: CallFrame | undefined;
    try {
      const raw = await rpc.request<RawCallFrame | null>("debug_traceTransaction", [gap.tx.hash, { tracer: "callTracer" }]);
      if (raw && typeof raw === "object" && typeof raw.to === "string") frame = normalizeCallFrame(raw);
    } catch {
      frame = undefined;
    }
    if (frame) {
      const reached = new Set<string>();
      collect(frame, reached);
      if (gap.missing.every((c) => reached.has(c))) {
        gap.tx.trace = frame;
        continue;
      }
    }
    left.push(gap);
  }
  return left;
}

export function traceGapFinding(ctx: BlockContext, gap: TraceGap): Finding {
  return {
    id: keccak256(toUtf8Bytes(`${CHAIN_INTEGRITY}:${ctx.chainId}:trace-gap:${ctx.hash}:${gap.tx.hash}`)),
    detectorId: CHAIN_INTEGRITY,
    severity: "high",
    title: `Transaction ${gap.tx.hash} reached protected contracts by its receipt, but the node's traces ${gap.why === "no trace" ? "are empty" : "never reach them"}: call-tree detectors could not check it`,
    chainId: ctx.chainId,
    blockNumber: ctx.number,
    blockHash: ctx.hash,
    txHash: gap.tx.hash,
    contract: gap.missing[0],
    evidence: { kind: "trace-gap", why: gap.why, missing: gap.missing, status: gap.tx.status },
  };
}
