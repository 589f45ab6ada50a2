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
  /**
   * Set for a reorg deeper than the window, re-verified from further back: only findings seen in these blocks
   * (hashes the canonical chain no longer has) are retracted; findings above the ancestor whose blocks are still
   * canonical stand and are found again, with the same ids, as the range is processed again.
   */
  orphanedBlockHashes?: string[];
  /** Set with `orphanedBlockHashes`: the reorg went past the window and was re-verified from `commonAncestor`. */
  beyondWindow?: boolean;
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
