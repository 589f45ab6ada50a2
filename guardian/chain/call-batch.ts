import type { RpcClient } from "./types";
import { batchSettled, type RpcCall } from "./rpc";
import { RpcResponseError } from "./errors";

interface Queued {
  call: RpcCall;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * The calls several stages make for one block, sent as one JSON-RPC batch: the block's context (block,
 * receipts, traces) and every detector's reads at that block travel in a single round trip instead of
 * one each. Calls made through it until the current task ends (microtasks included) join the batch;
 * later ones, such as follow-ups that need the batch's answers, go straight to the client.
 *
 * Unlike the client's own per-tick batching, it is scoped: calls for other blocks fetched in the same
 * tick go out in their own batches, so the node can answer the first block without waiting for eight.
 */
export class CallBatch implements RpcClient {
  readonly chainId: number;
  private queued: Queued[] | undefined = [];
  /** Identical calls (two detectors reading the same view at the same block) are asked once. */
  private readonly byKey = new Map<string, Promise<unknown>>();

  constructor(private readonly rpc: RpcClient) {
    this.chainId = rpc.chainId;
    setImmediate(() => this.send());
  }

  request<T = unknown>(method: string, params: unknown[]): Promise<T> {
    if (!this.queued) return this.rpc.request<T>(method, params);
    const key = `${method}:${JSON.stringify(params)}`;
    let pending = this.byKey.get(key);
    if (!pending) {
      pending = new Promise((resolve, reject) => this.queued!.push({ call: { method, params }, resolve, reject }));
      this.byKey.set(key, pending);
    }
    return pending as Promise<T>;
  }

  private send(): void {
    const queued = this.queued ?? [];
    this.queued = undefined;
    this.byKey.clear();
    if (queued.length === 0) return;
    // Each call settles on its own: one refused call (a revert, an unsupported method) fails only its caller.
    batchSettled(this.rpc, queued.map((q) => q.call)).then(
      (results) => results.forEach((r, i) => (r instanceof RpcResponseError ? queued[i].reject(r) : queued[i].resolve(r))),
      (err: unknown) => queued.forEach((q) => q.reject(err)),
    );
  }
}
