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

type TreeNode = { to?: string; calls?: readonly { to?: string; calls?: unknown }[] };

/**
 * The protected addresses (lowercase, sorted) a transaction reaches: any callee in its call tree
 * (created contracts included), or any of `others` (its recipient, sender, log emitters). Only matches
 * are kept: most of what a block reaches is not protected, and this runs for every transaction.
 */
export function reachedProtected(protectedSet: ReadonlySet<string>, tree: TreeNode | undefined, others: Iterable<string | null | undefined>): string[] {
  const found = new Set<string>();
  const consider = (address: string | null | undefined): void => {
    if (!address) return;
    const a = address.toLowerCase();
    if (protectedSet.has(a)) found.add(a);
  };
  const walk = (frame: TreeNode): void => {
    consider(frame.to);
    const calls = frame.calls;
    if (calls) for (let i = 0; i < calls.length; i++) walk(calls[i] as TreeNode);
  };
  if (tree) walk(tree);
  for (const address of others) consider(address);
  // Usually one or two: ordered by hand, as Array.prototype.sort allocates a work area per call.
  if (found.size <= 2) {
    const [a, b] = found;
    return a === undefined ? [] : b === undefined ? [a] : a < b ? [a, b] : [b, a];
  }
  return [...found].sort();
}
