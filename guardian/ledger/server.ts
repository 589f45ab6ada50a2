import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { ReportDeps } from "./report-context";
import type { Indexer } from "./indexer";
import type { Report } from "./report";
import { toJson } from "./format";
import { ReportArgumentError } from "./reporting-scope";
import { capTableReport } from "./cap-table";
import { holdingsReport } from "./holdings";
import { statementReport } from "./statement";
import { flowsReport } from "./flows";
import { groupReport } from "./group";
import { payoutsReport } from "./payouts";
import { flowsOverTime } from "./flows-over-time";
import type { SystemIndex } from "./system-index";
import { addressHoldingsReport, topTokensReport } from "./system-reports";

export interface LedgerServerOptions {
  deps: ReportDeps;
  indexer: Indexer;
  system?: SystemIndex;
  host?: string;
  port?: number;
  /** How often the index is brought to the node's head between requests. */
  syncIntervalMs?: number;
  logger?: Logger;
}

export interface LedgerServer {
  url: string;
  close(): Promise<void>;
}

type Query = Record<string, string | undefined>;

const PAGE_DIR = path.join(__dirname, "page");
const STATIC: Record<string, [string, string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/app.css": ["app.css", "text/css; charset=utf-8"],
};

/**
 * `failsafe ledger serve`: the same reports as the CLI, as JSON over HTTP, each fresh to the last indexed
 * block (a sync runs every `syncIntervalMs`, serialised with the reports by the indexer's queue), and a
 * read-only page drawing them. Only GET; binds 127.0.0.1 unless told otherwise. The page's script builds
 * every element with textContent, never HTML from data, and a Content-Security-Policy forbids inline
 * script, so token-controlled text (names, symbols) cannot run.
 */
export async function startLedgerServer(options: LedgerServerOptions): Promise<LedgerServer> {
  const { deps, indexer, logger } = options;
  const routes: Record<string, (q: Query) => Promise<Report | unknown>> = {
    "/api/cap-table": (q) => capTableReport(deps, { token: need(q, "token"), block: q.block, top: q.top, id: q.id }),
    "/api/holdings": (q) => holdingsReport(deps, { account: need(q, "account"), block: q.block }),
    "/api/statement": (q) => statementReport(deps, { account: need(q, "account"), from: q.from, to: q.to, period: q.period }),
    "/api/flows": (q) => flowsReport(deps, { contract: need(q, "contract"), from: q.from, to: q.to, period: q.period, top: q.top }),
    "/api/flows-over-time": (q) => flowsOverTime(deps, { contract: need(q, "contract"), from: q.from, to: q.to, period: q.period, slices: q.slices }),
    "/api/group": (q) => groupReport(deps, { group: need(q, "group"), block: q.block, from: q.from, to: q.to, period: q.period }),
    "/api/payouts": (q) => payoutsReport(deps, { game: need(q, "game"), from: q.from, to: q.to, period: q.period }),
    "/api/system/tokens": (q) => topTokensReport(systemDeps(), { by: q.by, top: q.top }),
    "/api/system/holdings": (q) => addressHoldingsReport(systemDeps(), { address: need(q, "address") }),
    "/api/status": async () => {
      const cursor = deps.store.cursor();
      return { chainId: deps.rpc.chainId, block: cursor, unverifiable: [...deps.store.unverifiable().values()] };
    },
    "/api/config": async () => ({
      tokens: deps.scope.tokens().map((t) => t.name),
      accounts: deps.scope.config.accounts.map((a) => a.name),
      games: (deps.scope.config.games ?? []).map((g) => g.name),
      groups: deps.scope.config.groups.map((g) => g.name),
    }),
  };
  const systemDeps = () => {
    if (!options.system) throw new ReportArgumentError("system", "the system-wide index is not open in this server");
    return { rpc: deps.rpc, index: options.system };
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, {
        "content-type": type,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      });
      res.end(body);
    };
    if (req.method !== "GET") return send(405, "application/json", JSON.stringify({ error: "read-only: only GET" }));
    const file = STATIC[url.pathname];
    if (file) return send(200, file[1], readFileSync(path.join(PAGE_DIR, file[0])));
    const route = routes[url.pathname];
    if (!route) return send(404, "application/json", JSON.stringify({ error: `no such endpoint ${url.pathname.slice(0, 100)}` }));
    const query = Object.fromEntries(url.searchParams.entries());
    // Reports run through the indexer's queue, so a sync never moves the index under a report.
    indexer
      .exclusive(() => route(query))
      .then(
        (result) => send(200, "application/json", JSON.stringify(isReport(result) ? toJson(result) : result)),
        (err: unknown) => {
          const bad = err instanceof ReportArgumentError;
          if (!bad) logger?.error({ err }, "ledger request failed");
          send(bad ? 400 : 500, "application/json", JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    indexer
      .syncToHead()
      .catch((err: unknown) => logger?.warn({ err }, "ledger sync failed; the next tick retries"))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.syncIntervalMs ?? 2_000);
      });
  };
  tick();
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await indexer.drain();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

function need(q: Query, key: string): string {
  const value = q[key];
  if (value === undefined || value === "") throw new ReportArgumentError(key, `the query needs ${key}=...`);
  return value;
}

const isReport = (value: unknown): value is Report => typeof value === "object" && value !== null && "sections" in value && "anchor" in value;
