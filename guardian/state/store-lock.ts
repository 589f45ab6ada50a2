import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

/** Another live process holds the store. */
export class StoreLockedError extends Error {
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(`the store is in use by another guardian (pid ${pid}, lock ${lockFile}); give this guardian its own store.path, or stop the other one`);
    this.name = "StoreLockedError";
  }
}

export interface StoreLock {
  file: string;
  release(): void;
}

/**
 * One guardian per store: `<store>.lock` is created exclusively (O_EXCL) and holds the owner's pid. A lock whose
 * pid is no longer running (the owner was killed with -9) is stale and taken over; a live owner makes the second
 * process refuse to start. Readers (`failsafe incident`, `failsafe governance`, an operator's sqlite3) do not take
 * it: SQLite's own locking serialises their writes with the guardian's.
 */
export function acquireStoreLock(storePath: string, pid = process.pid): StoreLock {
  const file = `${storePath}.lock`;
  // A first start with the default store path: the store's folder does not exist yet, and the lock comes first.
  mkdirSync(path.dirname(path.resolve(storePath)), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          try {
            if (ownerOf(file) === pid) unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = ownerOf(file);
      if (owner !== undefined && owner !== pid && isRunning(owner)) throw new StoreLockedError(file, owner);
      // Stale (its process is gone) or unreadable: remove it and try again.
      try {
        unlinkSync(file);
      } catch {
        // another starter removed it first; the next attempt decides
      }
    }
  }
  throw new Error(`could not take the store lock ${file}`);
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user; still running.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
