import type { CallFrame } from "./types";

/** geth's callTracer frame as it arrives over JSON-RPC: quantities are hex strings. */
export interface RawCallFrame {
  type: string;
  from: string;
  to?: string;
  value?: string;
  gas?: string;
  gasUsed?: string;
  input?: string;
  output?: string;
  error?: string;
  revertReason?: string;
  calls?: RawCallFrame[];
}

const FRAME_TYPES = new Set<CallFrame["type"]>([
  "CALL",
  "STATICCALL",
  "DELEGATECALL",
  "CALLCODE",
  "CREATE",
  "CREATE2",
  "SELFDESTRUCT",
]);

export function toBigInt(hex: string | undefined | null): bigint {
  return hex ? BigInt(hex) : 0n;
}

/** callTracer output -> CallFrame: lowercase addresses, bigint amounts, always a `calls` array. */
export function normalizeCallFrame(raw: RawCallFrame): CallFrame {
  const type = raw.type.toUpperCase() as CallFrame["type"];
  const frame: CallFrame = {
    type: FRAME_TYPES.has(type) ? type : "CALL",
    from: raw.from.toLowerCase(),
    to: (raw.to ?? "0x0000000000000000000000000000000000000000").toLowerCase(),
    value: toBigInt(raw.value),
    input: raw.input ?? "0x",
    gasUsed: toBigInt(raw.gasUsed),
    calls: (raw.calls ?? []).map(normalizeCallFrame),
  };
  if (raw.output !== undefined) frame.output = raw.output;
  if (raw.error !== undefined) frame.error = raw.error;
  if (raw.revertReason !== undefined) frame.revertReason = raw.revertReason;
  return frame;
}

/** Hands every address a call tree reaches as a callee (including created contracts) to `visit`. */
export function collectCallees(frame: { to?: string; calls?: readonly { to?: string; calls?: unknown }[] }, visit: (address: string) => void): void {
  if (frame.to) visit(frame.to);
  const calls = frame.calls;
  if (calls) for (let i = 0; i < calls.length; i++) collectCallees(calls[i] as typeof frame, visit);
}
