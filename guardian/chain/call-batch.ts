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

  constructor(private readonly rpc: RpcClient) {
    this.chainId = rpc.chainId;
    setImmediate(() => this.send());
  }

  request<T = unknown>(method: string, params: unknown[]): Promise<T> {
    if (!this.queued) return this.rpc.request<T>(method, params);
    return new Promise<T>((resolve, reject) => {
      this.queued!.push({ call: { method, params }, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private send(): void {
    const queued = this.queued ?? [];
    this.queued = undefined;
    if (queued.length === 0) return;
    // Each call settles on its own: one refused call (a revert, an unsupported method) fails only its caller.
    batchSettled(this.rpc, queued.map((q) => q.call)).then(
      (results) => results.forEach((r, i) => (r instanceof RpcResponseError ? queued[i].reject(r) : queued[i].resolve(r))),
      (err: unknown) => queued.forEach((q) => q.reject(err)),
    );
  }
}
