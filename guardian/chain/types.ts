/** A block as the chain source knows it: enough to link blocks by parent hash. */
export interface BlockRef {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
}

/**
 * A reorg seen by the chain source: the blocks after `commonAncestor` on the old branch were replaced.
 * `orphaned` and `added` are ordered by ascending block number.
 */
export interface ReorgEvent {
  chainId: number;
  depth: number;
  commonAncestor: BlockRef;
  orphaned: BlockRef[];
  added: BlockRef[];
}

/** What the chain source emits, in order, for the pipeline to process. */
export type ChainEvent =
  | { kind: "block"; block: BlockRef }
  | { kind: "reorg"; reorg: ReorgEvent }
  | { kind: "finalize"; block: BlockRef };

/**
 * The JSON-RPC surface every stage uses. The real implementation fails over across URLs and retries
 * only retryable errors; tests can pass any object with this shape.
 */
export interface RpcClient {
  readonly chainId: number;
  request<T = unknown>(method: string, params: unknown[]): Promise<T>;
}
