import { statSync } from "node:fs";

/** The store file the guardian writes is no longer the one it opened: deleted, or replaced by another file. */
export class StoreIdentityError extends Error {
  constructor(
    readonly file: string,
    readonly reason: "missing" | "replaced",
  ) {
    super(
      reason === "missing"
        ? `the store ${file} was deleted while the guardian was running; commits would go to a file nobody can read`
        : `the store ${file} was replaced by another file while the guardian was running`,
    );
    this.name = "StoreIdentityError";
  }
}

/**
 * The (device, inode) of the store file at open. SQLite keeps writing to an unlinked file without complaint, so
 * each commit first checks that the path still names the file it opened.
 */
export class StoreIdentity {
  readonly #dev: number;
  readonly #ino: number;

  private constructor(
    readonly file: string,
    stat: { dev: number; ino: number },
  ) {
    this.#dev = stat.dev;
    this.#ino = stat.ino;
  }

  /** Undefined for an in-memory store (nothing on disk to lose). */
  static of(file: string): StoreIdentity | undefined {
    if (file === "" || file === ":memory:") return undefined;
    const stat = statSync(file, { throwIfNoEntry: false });
    return stat ? new StoreIdentity(file, stat) : undefined;
  }

  /** Throws StoreIdentityError unless the path still names the opened file. */
  check(): void {
    const stat = statSync(this.file, { throwIfNoEntry: false });
    if (!stat) throw new StoreIdentityError(this.file, "missing");
    if (stat.ino !== this.#ino || stat.dev !== this.#dev) throw new StoreIdentityError(this.file, "replaced");
  }

  /** The problem as a sentence, or undefined when the store is in place. */
  problem(): string | undefined {
    try {
      this.check();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
}
