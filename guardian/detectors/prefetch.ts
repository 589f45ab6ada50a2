/**
 * Reads a detector started ahead of its turn (Detector.prefetch), keyed by block hash and taken once by
 * onBlock. Entries for blocks that never get their turn (orphaned, or a retry that fetched again) fall
 * out after `limit` newer ones.
 */
export class PrefetchedReads<T> {
  private readonly byHash = new Map<string, Promise<T>>();

  constructor(private readonly limit = 64) {}

  start(blockHash: string, read: () => Promise<T>): void {
    const pending = Promise.resolve().then(read);
    // Surfaced when onBlock takes it; until then a failure must not count as unhandled.
    pending.catch(() => undefined);
    this.byHash.delete(blockHash);
    this.byHash.set(blockHash, pending);
    if (this.byHash.size > this.limit) this.byHash.delete(this.byHash.keys().next().value as string);
  }

  /** The read started for this block, or `read()` now when none was. */
  take(blockHash: string, read: () => Promise<T>): Promise<T> {
    const started = this.byHash.get(blockHash);
    if (!started) return read();
    this.byHash.delete(blockHash);
    return started;
  }
}

/**
 * Which entries of a detector's flat state record changed since they were last persisted
 * (Detector.saveChanges). Starts in `replace` mode: nothing is known to be stored yet.
 */
export class ChangedEntries {
  private readonly dirty = new Set<string>();
  private replace = true;

  touch(key: string): void {
    this.dirty.add(key);
  }

  /** After loadState(): the store's copy may differ anywhere. */
  replaceAll(): void {
    this.replace = true;
    this.dirty.clear();
  }

  /** The changes since the last call; `lookup` gives an entry's current value, undefined once removed. */
  take(record: () => Record<string, unknown>, lookup: (key: string) => unknown): { replace: boolean; set: Record<string, unknown>; delete: string[] } {
    if (this.replace) {
      this.replace = false;
      this.dirty.clear();
      return { replace: true, set: record(), delete: [] };
    }
    const set: Record<string, unknown> = {};
    const removed: string[] = [];
    for (const key of this.dirty) {
      const value = lookup(key);
      if (value === undefined) removed.push(key);
      else set[key] = value;
    }
    this.dirty.clear();
    return { replace: false, set, delete: removed };
  }
}
