import type { Db } from "./database";
import type { BlockRef, ReorgEvent } from "../chain/types";
import type { Finding, StateChanges } from "../detectors/types";
import { StoreIdentity } from "./store-identity";
import { bindStoreToChain } from "./store-chain";
import type { GuardianStateStore } from "./store";
import { migrateSqlite } from "./sqlite-migrations";


export interface StoredFinding extends Finding {
  retracted: boolean;
}

/** What one processed block changes, committed atomically. */
export interface BlockCommit {
  block: BlockRef;
  findings: Finding[];
  /** Detector key -> saveState() output; only detectors that keep state. */
  detectorStates: Map<string, unknown>;
  /** Detector key -> saveChanges() output, for detectors that persist incrementally. */
  detectorChanges?: Map<string, StateChanges>;
  /** Blocks at or below this number leave the unfinalized window. */
  pruneBelow: number;
}

/** What a reorg changes, committed atomically. */
export interface ReorgCommit {
  reorg: ReorgEvent;
  /** Findings the detectors raised about the reorg itself (e.g. "deeper than allowed"). */
  findings: Finding[];
  detectorStates: Map<string, unknown>;
  detectorChanges?: Map<string, StateChanges>;
}

/** JSON.stringify replacer for what the store writes: bigints as decimal strings. */
export function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * JSON with bigints as decimal strings. A replacer makes JSON.stringify call back for every value, and
 * most state entries hold no bigint, so the plain call goes first: it throws a TypeError on the first
 * bigint, and only then is the value written again with the replacer.
 */
export function toJson(value: unknown): string {
  try {
    return JSON.stringify(value ?? null);
  } catch (err) {
    if (err instanceof TypeError) return JSON.stringify(value ?? null, bigintSafe);
    throw err;
  }
}

/**
 * The guardian's durable state: the cursor (last committed block), the unfinalized blocks the reorg
 * tracker needs after a restart, findings deduplicated by id, retractions and detector state. Each block
 * is one transaction (cursor + findings + detector state), so a kill at any instant leaves either the
 * block fully applied or not at all, and the restart resumes after the cursor.
 */
export class GuardianStore implements GuardianStateStore {
  private readonly stmts;
  /** The file opened; every commit checks the path still names it (see StoreIdentity). */
  readonly identity?: StoreIdentity;

  constructor(private readonly db: Db) {
    migrateSqlite(db);
    this.identity = db.memory ? undefined : StoreIdentity.of(db.name);
    this.stmts = {
      cursor: db.prepare<[number], { number: number; hash: string }>("SELECT number, hash FROM guardian_cursor WHERE chain_id = ?"),
      setCursor: db.prepare(
        "INSERT INTO guardian_cursor (chain_id, number, hash, updated_at) VALUES (?, ?, ?, ?) " +
          "ON CONFLICT (chain_id) DO UPDATE SET number = excluded.number, hash = excluded.hash, updated_at = excluded.updated_at",
      ),
      blocks: db.prepare<[number], { number: number; hash: string; parent_hash: string; timestamp: number }>(
        "SELECT number, hash, parent_hash, timestamp FROM guardian_blocks WHERE chain_id = ? ORDER BY number",
      ),
      putBlock: db.prepare(
        "INSERT OR REPLACE INTO guardian_blocks (chain_id, number, hash, parent_hash, timestamp) VALUES (?, ?, ?, ?, ?)",
      ),
      pruneBlocks: db.prepare("DELETE FROM guardian_blocks WHERE chain_id = ? AND number < ?"),
      dropBlocksAbove: db.prepare("DELETE FROM guardian_blocks WHERE chain_id = ? AND number > ?"),
      findingState: db.prepare<[string], { retracted_at: number | null }>("SELECT retracted_at FROM guardian_findings WHERE id = ?"),
      insertFinding: db.prepare(
        "INSERT INTO guardian_findings (id, chain_id, detector_id, severity, block_number, block_hash, tx_hash, contract, finding, seen_at) " +
          "VALUES (@id, @chainId, @detectorId, @severity, @blockNumber, @blockHash, @txHash, @contract, @finding, @seenAt)",
      ),
      reinstateFinding: db.prepare("UPDATE guardian_findings SET retracted_at = NULL, delivered = 0, seen_at = ? WHERE id = ?"),
      orphanedFindings: db.prepare<[number, number], { finding: string }>(
        "SELECT finding FROM guardian_findings WHERE chain_id = ? AND block_number > ? AND retracted_at IS NULL ORDER BY block_number, id",
      ),
      retract: db.prepare("UPDATE guardian_findings SET retracted_at = ? WHERE id = ?"),
      logRetraction: db.prepare(
        "INSERT INTO guardian_retractions (finding_id, chain_id, reorg_depth, ancestor_hash, retracted_at) VALUES (?, ?, ?, ?, ?)",
      ),
      markDelivered: db.prepare("UPDATE guardian_findings SET delivered = 1 WHERE id = ?"),
      undelivered: db.prepare<[number], { finding: string }>(
        "SELECT finding FROM guardian_findings WHERE chain_id = ? AND delivered = 0 AND retracted_at IS NULL ORDER BY block_number, id",
      ),
      findings: db.prepare<[number], { finding: string; retracted_at: number | null }>(
        "SELECT finding, retracted_at FROM guardian_findings WHERE chain_id = ? ORDER BY block_number, id",
      ),
      putState: db.prepare(
        "INSERT INTO guardian_detector_state (chain_id, detector_key, state) VALUES (?, ?, ?) " +
          "ON CONFLICT (chain_id, detector_key) DO UPDATE SET state = excluded.state",
      ),
      states: db.prepare<[number], { detector_key: string; state: string }>(
        "SELECT detector_key, state FROM guardian_detector_state WHERE chain_id = ?",
      ),
      dropState: db.prepare("DELETE FROM guardian_detector_state WHERE chain_id = ? AND detector_key = ?"),
      entries: db.prepare<[number], { detector_key: string; entry_key: string; value: string }>(
        "SELECT detector_key, entry_key, value FROM guardian_detector_entries WHERE chain_id = ?",
      ),
      putEntry: db.prepare(
        "INSERT INTO guardian_detector_entries (chain_id, detector_key, entry_key, value) VALUES (?, ?, ?, ?) " +
          "ON CONFLICT (chain_id, detector_key, entry_key) DO UPDATE SET value = excluded.value",
      ),
      dropEntry: db.prepare("DELETE FROM guardian_detector_entries WHERE chain_id = ? AND detector_key = ? AND entry_key = ?"),
      dropEntries: db.prepare("DELETE FROM guardian_detector_entries WHERE chain_id = ? AND detector_key = ?"),
    };
  }

  async bindChain(chainId: number, genesisHash: string): Promise<void> {
    bindStoreToChain(this.db, this.db.name, chainId, genesisHash);
  }

  problem(): string | undefined {
    return this.identity?.problem();
  }

  async cursor(chainId: number): Promise<{ number: number; hash: string } | undefined> {
    return this.stmts.cursor.get(chainId);
  }

  /** The unfinalized window as it was at the last commit, oldest first. */
  async unfinalizedBlocks(chainId: number): Promise<BlockRef[]> {
    return this.stmts.blocks.all(chainId).map((b) => ({ number: b.number, hash: b.hash, parentHash: b.parent_hash, timestamp: b.timestamp }));
  }

  /** What each detector saved: a whole state, or the record of entries of one that saves changes. */
  async detectorStates(chainId: number): Promise<Map<string, unknown>> {
    const states = new Map<string, unknown>(this.stmts.states.all(chainId).map((s) => [s.detector_key, JSON.parse(s.state)]));
    for (const row of this.stmts.entries.all(chainId)) {
      let record = states.get(row.detector_key) as Record<string, unknown> | undefined;
      if (!record) states.set(row.detector_key, (record = {}));
      record[row.entry_key] = JSON.parse(row.value);
    }
    return states;
  }

  /** Applies one processed block. Returns the findings that are new (not seen before under the same id). */
  async commitBlock(chainId: number, commit: BlockCommit): Promise<Finding[]> {
    this.identity?.check();
    return this.db.transaction(() => {
      const { block } = commit;
      this.stmts.putBlock.run(chainId, block.number, block.hash, block.parentHash, block.timestamp);
      this.stmts.pruneBlocks.run(chainId, commit.pruneBelow);
      this.stmts.setCursor.run(chainId, block.number, block.hash, Date.now());
      const fresh = this.insertFindings(commit.findings);
      this.saveStates(chainId, commit.detectorStates, commit.detectorChanges);
      return fresh;
    })();
  }

  /**
   * Applies a reorg: retracts the findings of orphaned blocks, drops those blocks, moves the cursor back
   * to the common ancestor, and records the detectors' reorg findings. Returns [retracted, fresh].
   */
  async commitReorg(chainId: number, commit: ReorgCommit): Promise<{ retracted: Finding[]; fresh: Finding[] }> {
    this.identity?.check();
    return this.db.transaction(() => {
      const { reorg } = commit;
      const ancestor = reorg.commonAncestor;
      const now = Date.now();
      const retracted: Finding[] = [];
      // Every block above the common ancestor left the chain, so every finding seen in one goes.
      const only = reorg.orphanedBlockHashes ? new Set(reorg.orphanedBlockHashes.map((h) => h.toLowerCase())) : undefined;
      for (const row of this.stmts.orphanedFindings.all(chainId, ancestor.number)) {
        const finding = JSON.parse(row.finding) as Finding;
        if (only && !only.has(finding.blockHash.toLowerCase())) continue;
        this.stmts.retract.run(now, finding.id);
        this.stmts.logRetraction.run(finding.id, chainId, reorg.depth, ancestor.hash, now);
        retracted.push(finding);
      }
      this.stmts.dropBlocksAbove.run(chainId, ancestor.number);
      // The ancestor anchors the window a restart (or the follower's fresh tracker) resumes from, even when it is
      // older than the blocks held (a reorg re-verified from beyond the window).
      if (ancestor.hash && ancestor.parentHash) this.stmts.putBlock.run(chainId, ancestor.number, ancestor.hash, ancestor.parentHash, ancestor.timestamp);
      const cursor = this.stmts.cursor.get(chainId);
      if (cursor && cursor.number > ancestor.number) this.stmts.setCursor.run(chainId, ancestor.number, ancestor.hash, now);
      const fresh = this.insertFindings(commit.findings);
      this.saveStates(chainId, commit.detectorStates, commit.detectorChanges);
      return { retracted, fresh };
    })();
  }

  /** Findings that belong to no block commit (the guardian's own, about its node); returns the new ones. */
  async recordFindings(findings: readonly Finding[]): Promise<Finding[]> {
    this.identity?.check();
    return this.db.transaction(() => this.insertFindings(findings))();
  }

  /** The blocks (by number) that hold live findings from `from` on: what a deep reorg is re-verified against. */
  async findingBlocksFrom(chainId: number, from: number): Promise<Map<number, string[]>> {
    const rows = this.db
      .prepare<[number, number], { block_number: number; block_hash: string }>(
        "SELECT DISTINCT block_number, block_hash FROM guardian_findings WHERE chain_id = ? AND block_number >= ? AND retracted_at IS NULL",
      )
      .all(chainId, from);
    const out = new Map<number, string[]>();
    for (const r of rows) out.set(r.block_number, [...(out.get(r.block_number) ?? []), r.block_hash]);
    return out;
  }

  /** Sinks have seen these; a restart will not deliver them again. */
  async markDelivered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    this.db.transaction(() => {
      for (const id of ids) this.stmts.markDelivered.run(id);
    })();
  }

  /** Committed but not yet handed to the sinks when the process died; delivered again on start. */
  async undeliveredFindings(chainId: number): Promise<Finding[]> {
    return this.stmts.undelivered.all(chainId).map((r) => JSON.parse(r.finding) as Finding);
  }

  async findings(chainId: number, options: { includeRetracted?: boolean } = {}): Promise<StoredFinding[]> {
    return this.stmts.findings
      .all(chainId)
      .map((r) => ({ ...(JSON.parse(r.finding) as Finding), retracted: r.retracted_at !== null }))
      .filter((f) => options.includeRetracted || !f.retracted);
  }

  private insertFindings(findings: readonly Finding[]): Finding[] {
    const fresh: Finding[] = [];
    const seenAt = Date.now();
    for (const f of findings) {
      const existing = this.stmts.findingState.get(f.id);
      if (existing === undefined) {
        this.stmts.insertFinding.run({
          id: f.id,
          chainId: f.chainId,
          detectorId: f.detectorId,
          severity: f.severity,
          blockNumber: f.blockNumber,
          blockHash: f.blockHash,
          txHash: f.txHash ?? null,
          contract: f.contract ?? null,
          finding: toJson(f),
          seenAt,
        });
        fresh.push(f);
      } else if (existing.retracted_at !== null) {
        // The chain came back to a branch we had retracted: the finding is live again.
        this.stmts.reinstateFinding.run(seenAt, f.id);
        fresh.push(f);
      }
    }
    return fresh;
  }

  private saveStates(chainId: number, states: Map<string, unknown>, changes: Map<string, StateChanges> = new Map()): void {
    for (const [key, state] of states) this.stmts.putState.run(chainId, key, toJson(state));
    for (const [key, change] of changes) {
      if (change.replace) {
        // Whatever this detector saved before, whole or by entries, is superseded.
        this.stmts.dropState.run(chainId, key);
        this.stmts.dropEntries.run(chainId, key);
      }
      for (const entry of change.delete) this.stmts.dropEntry.run(chainId, key, entry);
      for (const [entry, value] of Object.entries(change.set)) this.stmts.putEntry.run(chainId, key, entry, toJson(value));
    }
  }
}
