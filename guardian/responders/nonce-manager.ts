/**
 * Hands out nonces for one signing account so that concurrent trips never send two different
 * transactions with the same nonce, and a fee bump re-uses its lease's nonce (so only one version can
 * land). A lease is the lowest nonce at or above the chain's count that no live lease holds: a released
 * nonce (its trip was abandoned) is handed out again, so no gap can strand later transactions.
 */
export class NonceManager {
  private readonly inUse = new Set<number>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly chainCount: () => Promise<number>) {}

  reserve(): Promise<NonceLease> {
    const next = this.queue.then(async () => {
      const onChain = await this.chainCount();
      for (const n of this.inUse) if (n < onChain) this.inUse.delete(n);
      let nonce = onChain;
      while (this.inUse.has(nonce)) nonce++;
      this.inUse.add(nonce);
      return new NonceLease(nonce, () => this.inUse.delete(nonce));
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Nonces held by live leases, ascending. */
  held(): number[] {
    return [...this.inUse].sort((a, b) => a - b);
  }
}

export class NonceLease {
  private released = false;

  constructor(
    readonly nonce: number,
    private readonly onRelease: () => void,
  ) {}

  /** Gives the nonce back: call when the transaction using it is included or abandoned. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}
