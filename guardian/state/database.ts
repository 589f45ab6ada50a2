import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";

export type Db = Database.Database;

/**
 * Opens (creating if needed) the guardian's SQLite file in WAL mode. Every stage creates its own tables
 * on this one handle. `synchronous = NORMAL` with WAL survives a killed process (kill -9) without losing
 * a committed transaction; only an OS crash can lose the last few, which the cursor then replays.
 */
export function openDatabase(file: string): Db {
  if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  return db;
}
