import type { BlockRef, ChainEvent, ReorgEvent } from "./types";

/**
 * The new branch does not meet the held window: the reorg is deeper than the window, so the tracker cannot name the
 * common ancestor, and findings below the window may be orphaned too. The follower re-verifies from further back.
 */
export class ReorgBeyondWindowError extends Error {
  constructor(
    readonly oldest: BlockRef,
    readonly tip: BlockRef,
    readonly branchStart: BlockRef,
  ) {
    super(`reorg deeper than the window: the new branch at block ${branchStart.number} does not meet the held blocks ${oldest.number}-${tip.number}`);
    this.name = "ReorgBeyondWindowError";
  }
}

/**
 * A header whose parent hash names a block at another height than number - 1: the node lies (or serves a broken
 * chain). Taken as a reorg it would "orphan" the skipped blocks and retract their findings for good.
 */
export class HeaderLinkError extends Error {
  constructor(
    readonly block: BlockRef,
    readonly parent: BlockRef,
  ) {
    super(`block ${block.number} (${block.hash}) names parent ${block.parentHash}, which is block ${parent.number}, not ${block.number - 1}`);
    this.name = "HeaderLinkError";
  }
}

export interface ReorgTrackerOptions {
  chainId: number;
  /** How many recent blocks stay linked; a reorg can be resolved up to this depth. */
  window: number;
  /** A block this many blocks below the tip is final: a `finalize` event is emitted for it once. */
  confirmations: number;
}

/**
 * Keeps the unfinalized blocks linked by parent hash (ponder's realtime sync model). Each new canonical
 * block either extends the tip, repeats a known block, or does not link: then the tracker walks the new
 * branch back by parent hash until it meets a block it holds (the common ancestor), and reports what was
 * orphaned and what replaced it.
 */
export class ReorgTracker {
  private readonly blocks: BlockRef[] = [];
  private lastFinalized = -1;

  constructor(
    private readonly options: ReorgTrackerOptions,
    initial: readonly BlockRef[] = [],
  ) {
    for (const b of initial) this.blocks.push(b);
    const tip = this.tip();
    if (tip) this.lastFinalized = tip.number - options.confirmations;
  }

  tip(): BlockRef | undefined {
    return this.blocks[this.blocks.length - 1];
  }

  /** The blocks held, oldest first (what the store persists for a restart). */
  window(): readonly BlockRef[] {
    return this.blocks;
  }

  has(block: Pick<BlockRef, "number" | "hash">): boolean {
    return this.byNumber(block.number)?.hash === block.hash;
  }

  /**
   * Feeds the next block the node reports as canonical. It must not skip heights above the tip (the
   * follower backfills gaps first); it may be at or below the tip, which is how same-height reorgs and
   * rollbacks arrive. `fetchByHash` loads the new branch's ancestors while walking back.
   */
  async add(block: BlockRef, fetchByHash: (hash: string) => Promise<BlockRef>): Promise<ChainEvent[]> {
    const tip = this.tip();
    if (!tip) return this.extend([block]);
    if (this.has(block)) return [];
    if (block.number > tip.number + 1) {
      throw new Error(`block ${block.number} does not follow the tip ${tip.number}; backfill the gap first`);
    }
    if (block.number === tip.number + 1 && block.parentHash === tip.hash) return this.extend([block]);

    const branch: BlockRef[] = [block];
    const oldest = this.blocks[0];
    let ancestor: BlockRef | undefined;
    let cursor = block;
    for (;;) {
      const ours = this.byNumber(cursor.number - 1);
      if (ours && ours.hash === cursor.parentHash) {
        ancestor = ours;
        break;
      }
      if (cursor.number - 1 < oldest.number) break;
      const parent = await fetchByHash(cursor.parentHash);
      // Every link of the new branch must step down exactly one height, or the branch is not a chain.
      if (parent.number !== cursor.number - 1 || parent.hash !== cursor.parentHash) throw new HeaderLinkError(cursor, parent);
      cursor = parent;
      branch.unshift(cursor);
    }
    // Deeper than the window: the true ancestor is older than anything held, and guessing it would leave
    // orphaned findings below the window standing. The follower re-verifies from further back.
    if (!ancestor) throw new ReorgBeyondWindowError(oldest, tip, branch[0]);
    const commonAncestor: BlockRef = ancestor;
    const orphaned = this.blocks.filter((b) => b.number > commonAncestor.number);
    const reorg: ReorgEvent = {
      chainId: this.options.chainId,
      depth: orphaned.length,
      commonAncestor,
      orphaned,
      added: branch,
    };
    this.blocks.splice(this.blocks.length - orphaned.length, orphaned.length);
    // A reorg can only move finality backwards in our bookkeeping if it was deeper than confirmations.
    this.lastFinalized = Math.min(this.lastFinalized, commonAncestor.number);
    return [{ kind: "reorg", reorg }, ...this.extend(branch)];
  }

  private extend(added: BlockRef[]): ChainEvent[] {
    const events: ChainEvent[] = [];
    for (const b of added) {
      this.blocks.push(b);
      events.push({ kind: "block", block: b });
    }
    const tip = this.tip() as BlockRef;
    const finalUpTo = tip.number - this.options.confirmations;
    for (const b of this.blocks) {
      if (b.number > this.lastFinalized && b.number <= finalUpTo) events.push({ kind: "finalize", block: b });
    }
    if (finalUpTo > this.lastFinalized) this.lastFinalized = finalUpTo;
    const excess = this.blocks.length - this.options.window;
    if (excess > 0) this.blocks.splice(0, excess);
    return events;
  }

  private byNumber(n: number): BlockRef | undefined {
    const first = this.blocks[0];
    if (!first) return undefined;
    const b = this.blocks[n - first.number];
    return b && b.number === n ? b : this.blocks.find((x) => x.number === n);
  }
}
