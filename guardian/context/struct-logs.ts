import type { CallFrame } from "./types";

/**
 * One step of geth's default (struct-log) tracer, which every node offers, Hardhat's network included.
 * Stack words are hex (with or without 0x), last element on top; memory, when enabled, is 32-byte words.
 */
export interface StructLog {
  pc: number;
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
  memory?: string[];
}

export interface StructLogTrace {
  gas: number;
  failed: boolean;
  returnValue?: string;
  structLogs: StructLog[];
}

/** What the root frame needs from the transaction itself; struct logs only describe nested calls. */
export interface RootCall {
  from: string;
  to: string | null;
  value: bigint;
  input: string;
  gasUsed: bigint;
  /** For contract creations: the created address from the receipt. */
  contractAddress?: string | null;
}

const CALL_OPS = new Set(["CALL", "CALLCODE", "DELEGATECALL", "STATICCALL", "CREATE", "CREATE2"]);

function word(stack: string[], fromTop: number): bigint {
  const v = stack[stack.length - 1 - fromTop];
  if (v === undefined) return 0n;
  return BigInt(v.startsWith("0x") ? v : `0x${v}`);
}

function address(w: bigint): string {
  return `0x${(w & ((1n << 160n) - 1n)).toString(16).padStart(40, "0")}`;
}

/** Slice [offset, offset+length) out of the struct-log memory words, or undefined when memory was not captured. */
function memorySlice(memory: string[] | undefined, offset: bigint, length: bigint): string | undefined {
  if (length === 0n) return "0x";
  if (!memory || memory.length === 0) return undefined;
  const hex = memory.map((m) => (m.startsWith("0x") ? m.slice(2) : m)).join("");
  const start = Number(offset) * 2;
  const end = start + Number(length) * 2;
  // Memory beyond what was touched reads as zeros in the EVM.
  return `0x${hex.slice(start, end).padEnd(end - start, "0")}`;
}

interface OpenFrame {
  frame: CallFrame;
  /** Gas available at this frame's first step, to derive gasUsed when it returns. */
  startGas: number;
  lastStep?: StructLog;
}

/**
 * Rebuilds a callTracer-shaped call tree from struct logs, for nodes that refuse `callTracer`.
 * A call opcode at depth d followed by a step at depth d+1 opens a child frame; the first step back at
 * depth d closes it, and the word it finds on top of the stack is the call's success flag (or the created
 * address). A call opcode followed directly by a step at the same depth reached no code (an EOA, a
 * precompile, or a call that failed before entering) and becomes a leaf frame.
 */
export function callTreeFromStructLogs(root: RootCall, trace: StructLogTrace): CallFrame {
  const rootFrame: CallFrame = {
    type: root.to ? "CALL" : "CREATE",
    from: root.from.toLowerCase(),
    to: (root.to ?? root.contractAddress ?? "0x0000000000000000000000000000000000000000").toLowerCase(),
    value: root.value,
    input: root.input,
    gasUsed: root.gasUsed,
    calls: [],
  };
  if (trace.returnValue !== undefined && trace.returnValue !== "") {
    rootFrame.output = trace.returnValue.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`;
  }
  if (trace.failed) rootFrame.error = "execution reverted";

  const logs = trace.structLogs;
  if (logs.length === 0) return rootFrame;
  const stack: OpenFrame[] = [{ frame: rootFrame, startGas: logs[0].gas }];
  const baseDepth = logs[0].depth;

  for (let i = 0; i < logs.length; i++) {
    const step = logs[i];
    const level = step.depth - baseDepth;
    // Returning to a shallower depth closes every frame above it (a frame can end by running out of gas
    // without a RETURN/REVERT step of its own).
    while (stack.length - 1 > level) {
      const closed = stack.pop() as OpenFrame;
      closeFrame(closed, step);
    }
    const open = stack[stack.length - 1];
    open.lastStep = step;

    if (step.op === "REVERT" || step.op === "RETURN") {
      const s = step.stack ?? [];
      const out = memorySlice(step.memory, word(s, 0), word(s, 1));
      if (out !== undefined && open.frame !== rootFrame) open.frame.output = out;
      if (step.op === "REVERT" && open.frame !== rootFrame) open.frame.error = "execution reverted";
      continue;
    }
    if (step.op === "SELFDESTRUCT") {
      const s = step.stack ?? [];
      open.frame.calls.push({
        type: "SELFDESTRUCT",
        from: open.frame.type === "DELEGATECALL" || open.frame.type === "CALLCODE" ? contextAddress(stack) : open.frame.to,
        to: address(word(s, 0)),
        value: 0n,
        input: "0x",
        gasUsed: 0n,
        calls: [],
      });
      continue;
    }
    if (!CALL_OPS.has(step.op)) continue;

    const child = frameFromCallStep(step, contextAddress(stack));
    open.frame.calls.push(child);
    const next = logs[i + 1];
    if (next && next.depth - baseDepth === level + 1) {
      stack.push({ frame: child, startGas: next.gas });
    } else if (next) {
      // No code ran: the next step at our depth holds the result on top of its stack.
      applyResult(child, next);
    }
  }
  while (stack.length > 1) closeFrame(stack.pop() as OpenFrame, undefined);
  return rootFrame;
}

/** The address whose storage and balance the current frame acts on (DELEGATECALL runs in the caller's). */
function contextAddress(stack: OpenFrame[]): string {
  for (let i = stack.length - 1; i >= 0; i--) {
    const f = stack[i].frame;
    if (f.type !== "DELEGATECALL" && f.type !== "CALLCODE") return f.to;
  }
  return stack[0].frame.to;
}

function frameFromCallStep(step: StructLog, self: string): CallFrame {
  const s = step.stack ?? [];
  const op = step.op as CallFrame["type"];
  let to = "0x0000000000000000000000000000000000000000";
  let value = 0n;
  let input: string | undefined;
  switch (op) {
    case "CALL":
    case "CALLCODE":
      to = address(word(s, 1));
      value = word(s, 2);
      input = memorySlice(step.memory, word(s, 3), word(s, 4));
      break;
    case "DELEGATECALL":
    case "STATICCALL":
      to = address(word(s, 1));
      input = memorySlice(step.memory, word(s, 2), word(s, 3));
      break;
    case "CREATE":
    case "CREATE2":
      value = word(s, 0);
      input = memorySlice(step.memory, word(s, 1), word(s, 2));
      break;
  }
  return { type: op, from: self, to, value, input: input ?? "0x", gasUsed: 0n, calls: [] };
}

/** The step right after a call returns has the call's result on top of the stack. */
function applyResult(frame: CallFrame, after: StructLog): void {
  const result = word(after.stack ?? [], 0);
  if (frame.type === "CREATE" || frame.type === "CREATE2") {
    if (result === 0n) frame.error ??= "execution reverted";
    else frame.to = address(result);
  } else if (result === 0n) {
    frame.error ??= "execution reverted";
  }
}

function closeFrame(open: OpenFrame, after: StructLog | undefined): void {
  const last = open.lastStep;
  if (last) {
    const ended = last.op === "RETURN" || last.op === "REVERT" || last.op === "STOP";
    const remaining = ended ? last.gas - last.gasCost : 0;
    open.frame.gasUsed = BigInt(Math.max(0, open.startGas - remaining));
  }
  // The caller's next step tells success or failure; if there is none, the whole transaction died inside
  // this frame.
  if (after) applyResult(open.frame, after);
  else open.frame.error ??= "execution failed";
}
