import type { Db } from "./database";
import { migrateSqlite } from "./sqlite-migrations";

/** The store was written for another chain (or another deployment of it) than the node now serves. */
export class StoreChainMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreChainMismatchError";
  }
}

/**
 * Binds the store to each chain's genesis block: the first start records it, every later start compares. A
 * store reused against a fresh devnet or another network with the same chain id would otherwise resume from a
 * cursor, findings and incidents that belong to a different chain.
 */
export function bindStoreToChain(db: Db, file: string, chainId: number, genesisHash: string): void {
  migrateSqlite(db);
  const row = db.prepare("SELECT genesis_hash FROM guardian_chain_identity WHERE chain_id = ?").get(chainId) as { genesis_hash: string } | undefined;
  const genesis = genesisHash.toLowerCase();
  if (!row) {
    db.prepare("INSERT INTO guardian_chain_identity (chain_id, genesis_hash, bound_at) VALUES (?, ?, ?)").run(chainId, genesis, Date.now());
    return;
  }
  if (row.genesis_hash !== genesis) {
    throw new StoreChainMismatchError(
      `store ${file}: it holds chain ${chainId} with genesis ${row.genesis_hash}, but the node serves chain ${chainId} with genesis ${genesis}; point store.path at a new file for this chain`,
    );
  }
}
