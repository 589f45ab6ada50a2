import type { PoolClient } from "pg";
import type { BlockRef } from "../../chain/types";
import type { Finding, StateChanges } from "../../detectors/types";
import { toJson, type BlockCommit, type ReorgCommit, type StoredFinding } from "../guardian-store";
import type { GuardianStateStore } from "../store";
import { StoreChainMismatchError } from "../store-chain";
import { num, type PgDatabase, type Queryable } from "./pool";

/**
 * The guardian's chain state on PostgreSQL: the same tables and the same semantics as the SQLite GuardianStore.
 * Each block is one transaction (cursor + findings + detector state), so a guardian killed at any instant leaves
 * the block fully applied or not at all, and whoever resumes (itself or a standby) starts after the cursor.
 */
export class PgGuardianStore implements GuardianStateStore {
  /** Per chain, the check every block commit makes in its transaction: the writer still holds the chain's lease. */
  readonly #fences = new Map<number, (tx: PoolClient) => Promise<void>>();

  constructor(private readonly db: PgDatabase) {}

  /**
   * Fences the chain's commits with a lease (several guardians share this store): each commit checks in its own
   * transaction that this guardian still holds it, and rolls back (LeaseLostError) if a standby took it over.
   * `undefined` removes the fence.
   */
  fenceChain(chainId: number, fence: ((tx: PoolClient) => Promise<void>) | undefined): void {
    if (fence) this.#fences.set(chainId, fence);
    else this.#fences.delete(chainId);
  }

  problem(): string | undefined {
    return undefined;
  }

  async bindChain(chainId: number, genesisHash: string): Promise<void> {
    const genesis = genesisHash.toLowerCase();
    await this.db.query("INSERT INTO guardian_chain_identity (chain_id, genesis_hash, bound_at) VALUES ($1, $2, $3) ON CONFLICT (chain_id) DO NOTHING", [chainId, genesis, Date.now()]);
    const { rows } = await this.db.query<{ genesis_hash: string }>("SELECT genesis_hash FROM guardian_chain_identity WHERE chain_id = $1", [chainId]);
    if (rows[0] && rows[0].genesis_hash !== genesis) {
      throw new StoreChainMismatchError(
        `store ${this.db.where}: it holds chain ${chainId} with genesis ${rows[0].genesis_hash}, but the node serves chain ${chainId} with genesis ${genesis}; point store.postgres at a new database for this chain`,
      );
    }
  }

  async cursor(chainId: number): Promise<{ number: number; hash: string } | undefined> {
    return cursorOf(this.db, chainId);
  }

  async unfinalizedBlocks(chainId: number): Promise<BlockRef[]> {
    const { rows } = await this.db.query<{ number: string; hash: string; parent_hash: string; timestamp: string }>(
      "SELECT number, hash, parent_hash, timestamp FROM guardian_blocks WHERE chain_id = $1 ORDER BY number",
      [chainId],
    );
    return rows.map((b) => ({ number: num(b.number), hash: b.hash, parentHash: b.parent_hash, timestamp: num(b.timestamp) }));
  }

  async detectorStates(chainId: number): Promise<Map<string, unknown>> {
    const [whole, entries] = await Promise.all([
      this.db.query<{ detector_key: string; state: string }>("SELECT detector_key, state FROM guardian_detector_state WHERE chain_id = $1", [chainId]),
      this.db.query<{ detector_key: string; entry_key: string; value: string }>(
        "SELECT detector_key, entry_key, value FROM guardian_detector_entries WHERE chain_id = $1 ORDER BY detector_key, entry_key",
        [chainId],
      ),
    ]);
    const states = new Map<string, unknown>(whole.rows.map((s) => [s.detector_key, JSON.parse(s.state)]));
    for (const row of entries.rows) {
      let record = states.get(row.detector_key) as Record<string, unknown> | undefined;
      if (!record) states.set(row.detector_key, (record = {}));
      record[row.entry_key] = JSON.parse(row.value);
    }
    return states;
  }

  async commitBlock(chainId: number, commit: BlockCommit): Promise<Finding[]> {
    // Serialised before the transaction opens: a state that cannot be written fails the block with nothing sent.
    const findingRows = commit.findings.map((f) => ({ f, json: toJson(f) }));
    const states = serialiseStates(commit.detectorStates, commit.detectorChanges);
    return this.db.transaction(async (tx) => {
      await this.#fences.get(chainId)?.(tx);
      const { block } = commit;
      await tx.query(
        `WITH put AS (
           INSERT INTO guardian_blocks (chain_id, number, hash, parent_hash, timestamp) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (chain_id, number) DO UPDATE SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash, timestamp = EXCLUDED.timestamp
         ), pruned AS (
           DELETE FROM guardian_blocks WHERE chain_id = $1 AND number < $6
         )
         INSERT INTO guardian_cursor (chain_id, number, hash, updated_at) VALUES ($1, $2, $3, $7)
         ON CONFLICT (chain_id) DO UPDATE SET number = EXCLUDED.number, hash = EXCLUDED.hash, updated_at = EXCLUDED.updated_at`,
        [chainId, block.number, block.hash, block.parentHash, block.timestamp, commit.pruneBelow, Date.now()],
      );
      const fresh = await insertFindings(tx, findingRows);
      await saveStates(tx, chainId, states);
      return fresh;
    });
  }

  async commitReorg(chainId: number, commit: ReorgCommit): Promise<{ retracted: Finding[]; fresh: Finding[] }> {
    const findingRows = commit.findings.map((f) => ({ f, json: toJson(f) }));
    const states = serialiseStates(commit.detectorStates, commit.detectorChanges);
    return this.db.transaction(async (tx) => {
      await this.#fences.get(chainId)?.(tx);
      const { reorg } = commit;
      const ancestor = reorg.commonAncestor;
      const now = Date.now();
      const retracted: Finding[] = [];
      const only = reorg.orphanedBlockHashes ? new Set(reorg.orphanedBlockHashes.map((h) => h.toLowerCase())) : undefined;
      const { rows } = await tx.query<{ finding: string }>(
        "SELECT finding FROM guardian_findings WHERE chain_id = $1 AND block_number > $2 AND retracted_at IS NULL ORDER BY block_number, id FOR UPDATE",
        [chainId, ancestor.number],
      );
      for (const row of rows) {
        const finding = JSON.parse(row.finding) as Finding;
        if (only && !only.has(finding.blockHash.toLowerCase())) continue;
        retracted.push(finding);
      }
      if (retracted.length > 0) {
        const ids = retracted.map((f) => f.id);
        await tx.query("UPDATE guardian_findings SET retracted_at = $1 WHERE id = ANY($2::text[])", [now, ids]);
        await tx.query(
          "INSERT INTO guardian_retractions (finding_id, chain_id, reorg_depth, ancestor_hash, retracted_at) SELECT id, $2, $3, $4, $5 FROM unnest($1::text[]) AS id",
          [ids, chainId, reorg.depth, ancestor.hash, now],
        );
      }
      await tx.query("DELETE FROM guardian_blocks WHERE chain_id = $1 AND number > $2", [chainId, ancestor.number]);
      if (ancestor.hash && ancestor.parentHash) {
        await tx.query(
          `INSERT INTO guardian_blocks (chain_id, number, hash, parent_hash, timestamp) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (chain_id, number) DO UPDATE SET hash = EXCLUDED.hash, parent_hash = EXCLUDED.parent_hash, timestamp = EXCLUDED.timestamp`,
          [chainId, ancestor.number, ancestor.hash, ancestor.parentHash, ancestor.timestamp],
        );
      }
      await tx.query("UPDATE guardian_cursor SET number = $2, hash = $3, updated_at = $4 WHERE chain_id = $1 AND number > $2", [chainId, ancestor.number, ancestor.hash, now]);
      const fresh = await insertFindings(tx, findingRows);
      await saveStates(tx, chainId, states);
      return { retracted, fresh };
    });
  }

  async recordFindings(findings: readonly Finding[]): Promise<Finding[]> {
    const rows = findings.map((f) => ({ f, json: toJson(f) }));
    return this.db.transaction((tx) => insertFindings(tx, rows));
  }

  async findingBlocksFrom(chainId: number, from: number): Promise<Map<number, string[]>> {
    const { rows } = await this.db.query<{ block_number: string; block_hash: string }>(
      "SELECT DISTINCT block_number, block_hash FROM guardian_findings WHERE chain_id = $1 AND block_number >= $2 AND retracted_at IS NULL ORDER BY block_number, block_hash",
      [chainId, from],
    );
    const out = new Map<number, string[]>();
    for (const r of rows) out.set(num(r.block_number), [...(out.get(num(r.block_number)) ?? []), r.block_hash]);
    return out;
  }

  async markDelivered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query("UPDATE guardian_findings SET delivered = true WHERE id = ANY($1::text[])", [[...ids]]);
  }

  async undeliveredFindings(chainId: number): Promise<Finding[]> {
    const { rows } = await this.db.query<{ finding: string }>(
      "SELECT finding FROM guardian_findings WHERE chain_id = $1 AND NOT delivered AND retracted_at IS NULL ORDER BY block_number, id",
      [chainId],
    );
    return rows.map((r) => JSON.parse(r.finding) as Finding);
  }

  async findings(chainId: number, options: { includeRetracted?: boolean } = {}): Promise<StoredFinding[]> {
    const { rows } = await this.db.query<{ finding: string; retracted_at: string | null }>(
      "SELECT finding, retracted_at FROM guardian_findings WHERE chain_id = $1 ORDER BY block_number, id",
      [chainId],
    );
    return rows
      .map((r) => ({ ...(JSON.parse(r.finding) as Finding), retracted: r.retracted_at !== null }))
      .filter((f) => options.includeRetracted || !f.retracted);
  }
}

export async function cursorOf(db: Queryable, chainId: number): Promise<{ number: number; hash: string } | undefined> {
  const { rows } = await db.query<{ number: string; hash: string }>("SELECT number, hash FROM guardian_cursor WHERE chain_id = $1", [chainId]);
  return rows[0] ? { number: num(rows[0].number), hash: rows[0].hash } : undefined;
}

interface SerialisedStates {
  whole: [string, string][];
  changes: { key: string; replace: boolean; del: string[]; set: [string, string][] }[];
}

function serialiseStates(states: Map<string, unknown>, changes: Map<string, StateChanges> = new Map()): SerialisedStates {
  return {
    whole: [...states].map(([key, state]) => [key, toJson(state)]),
    changes: [...changes].map(([key, change]) => ({
      key,
      replace: change.replace === true,
      del: [...change.delete],
      set: Object.entries(change.set).map(([entry, value]) => [entry, toJson(value)]),
    })),
  };
}

/** New findings are inserted, retracted ones that came back are live again; the rest were seen before. */
async function insertFindings(tx: PoolClient, rows: { f: Finding; json: string }[]): Promise<Finding[]> {
  if (rows.length === 0) return [];
  const unique = new Map<string, { f: Finding; json: string }>();
  for (const r of rows) if (!unique.has(r.f.id)) unique.set(r.f.id, r);
  const { rows: existing } = await tx.query<{ id: string; retracted_at: string | null }>(
    "SELECT id, retracted_at FROM guardian_findings WHERE id = ANY($1::text[]) FOR UPDATE",
    [[...unique.keys()]],
  );
  const state = new Map(existing.map((e) => [e.id, e.retracted_at]));
  const seenAt = Date.now();
  const fresh: Finding[] = [];
  const inserts: { f: Finding; json: string }[] = [];
  const reinstated: string[] = [];
  for (const r of unique.values()) {
    if (!state.has(r.f.id)) {
      inserts.push(r);
      fresh.push(r.f);
    } else if (state.get(r.f.id) !== null) {
      reinstated.push(r.f.id);
      fresh.push(r.f);
    }
  }
  if (inserts.length > 0) {
    await tx.query(
      `INSERT INTO guardian_findings (id, chain_id, detector_id, severity, block_number, block_hash, tx_hash, contract, finding, seen_at)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])`,
      [
        inserts.map((r) => r.f.id),
        inserts.map((r) => r.f.chainId),
        inserts.map((r) => r.f.detectorId),
        inserts.map((r) => r.f.severity),
        inserts.map((r) => r.f.blockNumber),
        inserts.map((r) => r.f.blockHash),
        inserts.map((r) => r.f.txHash ?? null),
        inserts.map((r) => r.f.contract ?? null),
        inserts.map((r) => r.json),
        inserts.map(() => seenAt),
      ],
    );
  }
  if (reinstated.length > 0) {
    await tx.query("UPDATE guardian_findings SET retracted_at = NULL, delivered = false, seen_at = $2 WHERE id = ANY($1::text[])", [reinstated, seenAt]);
  }
  // The order the detectors gave, as the SQLite store returns them.
  return fresh.sort((a, b) => rows.findIndex((r) => r.f.id === a.id) - rows.findIndex((r) => r.f.id === b.id));
}

async function saveStates(tx: PoolClient, chainId: number, states: SerialisedStates): Promise<void> {
  if (states.whole.length > 0) {
    await tx.query(
      `INSERT INTO guardian_detector_state (chain_id, detector_key, state) SELECT $1, k, s FROM unnest($2::text[], $3::text[]) AS t(k, s)
       ON CONFLICT (chain_id, detector_key) DO UPDATE SET state = EXCLUDED.state`,
      [chainId, states.whole.map((w) => w[0]), states.whole.map((w) => w[1])],
    );
  }
  for (const change of states.changes) {
    if (change.replace) {
      await tx.query("DELETE FROM guardian_detector_state WHERE chain_id = $1 AND detector_key = $2", [chainId, change.key]);
      await tx.query("DELETE FROM guardian_detector_entries WHERE chain_id = $1 AND detector_key = $2", [chainId, change.key]);
    }
    if (change.del.length > 0) {
      await tx.query("DELETE FROM guardian_detector_entries WHERE chain_id = $1 AND detector_key = $2 AND entry_key = ANY($3::text[])", [chainId, change.key, change.del]);
    }
    if (change.set.length > 0) {
      await tx.query(
        `INSERT INTO guardian_detector_entries (chain_id, detector_key, entry_key, value) SELECT $1, $2, e, v FROM unnest($3::text[], $4::text[]) AS t(e, v)
         ON CONFLICT (chain_id, detector_key, entry_key) DO UPDATE SET value = EXCLUDED.value`,
        [chainId, change.key, change.set.map((s) => s[0]), change.set.map((s) => s[1])],
      );
    }
  }
}
