/**
 * One frame of a call tree, normalised from geth's callTracer (or rebuilt from struct logs on nodes
 * without it). Addresses are lowercase hex; amounts are bigint.
 */
export interface CallFrame {
  type: "CALL" | "STATICCALL" | "DELEGATECALL" | "CALLCODE" | "CREATE" | "CREATE2" | "SELFDESTRUCT";
  from: string;
  to: string;
  value: bigint;
  input: string;
  output?: string;
  gasUsed: bigint;
  /** Set when this frame reverted or failed; the frame's effects were undone. */
  error?: string;
  revertReason?: string;
  calls: CallFrame[];
}

/** A log as detectors see it: address and topics lowercase hex. */
export interface LogEntry {
  address: string;
  topics: string[];
  data: string;
  logIndex: number;
}

/** A transaction that touched a protected contract, with everything detectors may need. */
export interface TxContext {
  hash: string;
  index: number;
  from: string;
  to: string | null;
  value: bigint;
  input: string;
  nonce: number;
  gasPrice: bigint;
  maxPriorityFeePerGas?: bigint;
  /** 1 success, 0 reverted. Reverted transactions are kept: an attack that reverted is evidence too. */
  status: 0 | 1;
  gasUsed: bigint;
  logs: LogEntry[];
  /** Root call frame; null only if the node could not trace the transaction. */
  trace: CallFrame | null;
  /** Protected contracts (lowercase) that appear anywhere in the call tree or logs. */
  touched: string[];
}

export interface BlockContext {
  chainId: number;
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
  /** Only the transactions that touch protected contracts, in block order. */
  transactions: TxContext[];
  /** True when built from a simulation of a pending transaction rather than a mined block. */
  pending?: boolean;
  /** Set when the block could not be traced in full within its deadline (see block-deadline.ts). */
  degraded?: DegradedBlock;
}

/** What a block's context is missing because tracing it whole would have blown the per-block deadline. */
export interface DegradedBlock {
  /** Why the block was degraded, in words. */
  reason: string;
  deadlineMs: number;
  transactions: number;
  /** Transactions with a call tree (those whose receipts name a protected contract). */
  traced: number;
  /**
   * Transactions seen by receipts and logs alone: a call into a protected contract made through one of them that
   * emits no log of its own is not seen.
   */
  untraced: number;
  /** Each trace method tried for the block and how it ended. */
  attempts: string[];
}
