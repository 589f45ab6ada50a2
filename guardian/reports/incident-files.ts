import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

/** One rendered file of an incident: where it goes and what it holds. */
export interface RenderedFile {
  file: string;
  content: string;
}

export interface IncidentFileWriterDeps {
  /** Told of every failed write (with the error), and once of the recovery; an alert, never a lost trip. */
  onError(err: Error, files: string[]): void;
  onRecovered?(files: string[]): void;
  /** How often failed writes are retried. */
  retryMs?: number;
}

/**
 * Writes incident reports after the store committed them, never in the way of a trip: a write that fails (disk
 * full, folder not writable) is kept and retried until it succeeds; the store stays the record. Each file is
 * written to a temp file, fsynced and renamed over the old one, so a reader (or a crash) never sees half a file.
 * The latest rendering of each incident wins: a retry writes what is current, not what failed.
 */
export class IncidentFileWriter {
  readonly #pending = new Map<string, RenderedFile[]>();
  #timer?: NodeJS.Timeout;
  #failing = false;

  constructor(private readonly deps: IncidentFileWriterDeps) {}

  /** Writes now; on failure keeps the files for the retry and returns false. Never throws. */
  write(id: string, files: RenderedFile[]): boolean {
    this.#pending.set(id, files);
    return this.flush();
  }

  /** Queues the write for after the current task (the trip goes out first). */
  writeSoon(id: string, files: RenderedFile[]): void {
    this.#pending.set(id, files);
    setImmediate(() => this.flush());
  }

  /** Drops the pending write of `id` and removes its files: the record is no longer an incident. */
  discard(id: string, files: string[]): void {
    this.#pending.delete(id);
    for (const f of files) {
      try {
        unlinkSync(f);
      } catch {
        // never written, or already gone
      }
    }
  }

  /** Incidents whose files are not written yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Tries every pending write; true when none is left. */
  flush(): boolean {
    const failed: string[] = [];
    let error: Error | undefined;
    for (const [id, files] of [...this.#pending]) {
      try {
        for (const f of files) writeAtomically(f.file, f.content);
        this.#pending.delete(id);
      } catch (err) {
        error = err as Error;
        failed.push(...files.map((f) => f.file));
      }
    }
    if (error) {
      // Told once per episode (the retry runs every few seconds): the first failure is the alert.
      if (!this.#failing) this.deps.onError(error, failed);
      this.#failing = true;
      this.#schedule();
      return false;
    }
    if (this.#failing) {
      this.#failing = false;
      this.deps.onRecovered?.([]);
    }
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    return true;
  }

  /** Stops retrying (pending writes stay unwritten; the store holds them). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.flush(), this.deps.retryMs ?? 2_000);
    this.#timer.unref();
  }
}

/** temp file + fsync + rename: the file is either the old one or the new one, whole. */
export function writeAtomically(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      if (existsSync(tmp)) unlinkSync(tmp);
    } catch {
      // the temp file could not be removed either; the next write replaces it
    }
    throw err;
  }
}

/**
 * Incident evidence is never overwritten by a different record under the same id: when the JSON file on disk is
 * another incarnation of the incident (another `openedAt`, e.g. after the store was lost and the incident was opened
 * again), it is moved aside to `<name>.<openedAt>.json` (and its Markdown likewise) before the new one is written.
 * Returns the paths the old files were moved to, if any.
 */
export function preserveOtherIncarnation(jsonFile: string, markdownFile: string, openedAt: string): string[] {
  if (!existsSync(jsonFile)) return [];
  let onDisk: { openedAt?: string };
  try {
    onDisk = JSON.parse(readFileSync(jsonFile, "utf8")) as { openedAt?: string };
  } catch {
    onDisk = {};
  }
  if (onDisk.openedAt === openedAt) return [];
  const stamp = (onDisk.openedAt ?? `unknown-${Date.now()}`).replace(/[^0-9A-Za-z]/g, "");
  const moved: string[] = [];
  for (const f of [jsonFile, markdownFile]) {
    if (!existsSync(f)) continue;
    const ext = path.extname(f);
    const to = `${f.slice(0, -ext.length)}.${stamp}${ext}`;
    renameSync(f, to);
    moved.push(to);
  }
  return moved;
}
