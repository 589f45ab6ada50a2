/**
 * Hands out results strictly in item order while keeping up to `ahead` later items already in flight:
 * the node works on the next blocks while the detectors work on this one.
 */
export class LookAhead<K, V> {
  private readonly inFlight: Promise<V>[] = [];
  private started = 0;
  private taken = 0;

  constructor(
    private readonly items: readonly K[],
    private readonly fetch: (item: K) => Promise<V>,
    private readonly ahead: number,
  ) {}

  /** The next item's result; rejects with that item's error (later items are unaffected). */
  next(): Promise<V> {
    if (this.taken >= this.items.length) throw new Error("LookAhead: no items left");
    for (; this.started < this.items.length && this.started <= this.taken + this.ahead; this.started++) {
      const p = this.fetch(this.items[this.started]);
      // Surfaced when its turn comes; until then an early failure must not count as unhandled.
      p.catch(() => undefined);
      this.inFlight[this.started] = p;
    }
    const result = this.inFlight[this.taken];
    delete this.inFlight[this.taken];
    this.taken++;
    return result;
  }
}
