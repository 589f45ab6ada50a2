import type { RpcClient } from "../chain/types";
import { RpcResponseError, isUnsupportedMethod } from "../chain/errors";
import type { RawCallFrame } from "./call-frame";

/** A pending transaction's call fields, as `debug_traceCall` takes them. */
export interface PendingCall {
  from: string;
  to: string | null;
  value: string;
  input: string;
  gas: string;
  nonce: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
}

export interface TracedFrame extends RawCallFrame {
  logs?: { address: string; topics: string[]; data: string }[];
  calls?: TracedFrame[];
}

/** One account's post-state as `prestateTracer` (diffMode) reports it, and as a state override takes it. */
interface AccountState {
  balance?: string;
  nonce?: number | string;
  code?: string;
  storage?: Record<string, string>;
}

interface StateOverride {
  balance?: string;
  nonce?: string;
  code?: string;
  stateDiff?: Record<string, string>;
}

export type SimulationBasis =
  /** On the latest mined state: the sender had nothing pending before this transaction. */
  | "latest"
  /** On the latest mined state plus the sender's earlier pending transactions, carried as state overrides. */
  | "latest+predecessors"
  /** At the node's `pending` tag, which already holds this transaction's own effects (the node lacks overrides). */
  | "pending-tag";

export interface PendingSimulation {
  trace: TracedFrame;
  basis: SimulationBasis;
}

const CALL_TRACER_WITH_LOGS = { tracer: "callTracer", tracerConfig: { withLog: true } } as const;
const PRESTATE_DIFF = { tracer: "prestateTracer", tracerConfig: { diffMode: true } } as const;

function callOf(tx: PendingCall): Record<string, unknown> {
  const call: Record<string, unknown> = { from: tx.from, to: tx.to ?? undefined, value: tx.value, input: tx.input, gas: tx.gas, nonce: tx.nonce };
  if (tx.maxFeePerGas !== undefined) {
    call.maxFeePerGas = tx.maxFeePerGas;
    call.maxPriorityFeePerGas = tx.maxPriorityFeePerGas ?? "0x0";
  } else if (tx.gasPrice !== undefined) call.gasPrice = tx.gasPrice;
  return call;
}

function hexQuantity(v: number | string): string {
  return typeof v === "number" ? `0x${v.toString(16)}` : v;
}

/** Folds one transaction's post-state into the overrides the next simulation runs on. */
function applyDiff(overrides: Record<string, StateOverride>, diff: { pre?: Record<string, AccountState>; post?: Record<string, AccountState> }): void {
  for (const [address, post] of Object.entries(diff.post ?? {})) {
    const o = (overrides[address.toLowerCase()] ??= {});
    if (post.balance !== undefined) o.balance = post.balance;
    if (post.nonce !== undefined) o.nonce = hexQuantity(post.nonce);
    if (post.code !== undefined) o.code = post.code;
    if (post.storage) o.stateDiff = { ...o.stateDiff, ...post.storage };
  }
  // An account in `pre` but not in `post` was deleted (selfdestruct in its creating transaction).
  for (const address of Object.keys(diff.pre ?? {})) {
    if (diff.post && !(address in diff.post)) overrides[address.toLowerCase()] = { balance: "0x0", nonce: "0x0", code: "0x" };
  }
}

/**
 * Simulates a pending transaction the way it will run if it lands next: on the latest MINED state, not the
 * node's `pending` state, which already contains the transaction's own effects (a one-shot exploit run twice
 * finds its target already drained or its own "used" flag set, and shows nothing). When the same sender has
 * earlier transactions still pending (deploy the exploit, then fire it), those run first and their state
 * changes are carried into the simulation as `debug_traceCall` state overrides, from `prestateTracer` in diff mode.
 *
 * Nodes without state overrides or the prestate tracer fall back to the `pending` tag for that case alone
 * (the basis says which was used); a transaction without pending predecessors needs neither.
 */
export class PendingSimulator {
  /** Learnt on first refusal: this node cannot carry predecessors as overrides. */
  private overridesUnsupported = false;

  constructor(private readonly rpc: RpcClient) {}

  /**
   * `predecessors`: the sender's pending transactions with lower nonces, in nonce order; undefined when they
   * could not be read (no txpool_content), which leaves the `pending` tag as the only way to include them.
   */
  async simulate(tx: PendingCall, predecessors: readonly PendingCall[] | undefined): Promise<PendingSimulation> {
    if (predecessors?.length === 0) {
      return { trace: await this.rpc.request<TracedFrame>("debug_traceCall", [callOf(tx), "latest", CALL_TRACER_WITH_LOGS]), basis: "latest" };
    }
    if (predecessors && !this.overridesUnsupported) {
      try {
        const overrides: Record<string, StateOverride> = {};
        for (const p of predecessors) {
          const diff = await this.rpc.request<{ pre?: Record<string, AccountState>; post?: Record<string, AccountState> }>("debug_traceCall", [
            callOf(p),
            "latest",
            { ...PRESTATE_DIFF, stateOverrides: overrides },
          ]);
          applyDiff(overrides, diff);
        }
        const trace = await this.rpc.request<TracedFrame>("debug_traceCall", [callOf(tx), "latest", { ...CALL_TRACER_WITH_LOGS, stateOverrides: overrides }]);
        return { trace, basis: "latest+predecessors" };
      } catch (err) {
        if (!(err instanceof RpcResponseError && (isUnsupportedMethod(err) || /override|prestate|tracer/i.test(err.shortMessage)))) throw err;
        this.overridesUnsupported = true;
      }
    }
    return { trace: await this.rpc.request<TracedFrame>("debug_traceCall", [callOf(tx), "pending", CALL_TRACER_WITH_LOGS]), basis: "pending-tag" };
  }
}
