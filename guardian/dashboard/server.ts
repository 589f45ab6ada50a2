import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { IncidentContext } from "../commands/incident-context";
import { UsageError } from "../commands/usage-error";
import { buildGovernorReport } from "../reports/governor-report";
import { renderGovernorHtml } from "../reports/governor-report-html";
import { humanTitle, readTokenUnits, tokensOf, type TokenUnits } from "../reports/governor-report-units";
import type { IncidentRecord } from "../reports/incident-record";
import { renderDashboard } from "./page";
import { readSwitches } from "./switch-state";

export interface DashboardOptions {
  host: string;
  port: number;
  refreshSeconds?: number;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/** Loopback names: the only hosts a dashboard bound to loopback answers for (DNS rebinding sends others). */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const HEADERS = {
  // The pages run no script and load nothing: inline styles only; no framing, no referrer, no sniffing.
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...HEADERS, "content-type": `${type}; charset=utf-8`, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * The read-only incident dashboard: GET only, nothing it serves can change the store or the chain. It reads
 * the store and the breakers on every request, so it shows what the guardian and governance did since.
 */
/** Finding titles with their base-unit amounts of known tokens in human units, tokens read once per chain. */
async function withUnits(ctx: IncidentContext, records: IncidentRecord[]): Promise<IncidentRecord[]> {
  const out: IncidentRecord[] = [];
  const byChain = new Map<number, Promise<Map<string, TokenUnits>>>();
  for (const r of records) {
    let units = byChain.get(r.chainId);
    if (!units) {
      const tokens = tokensOf(records.filter((x) => x.chainId === r.chainId).flatMap((x) => x.findings));
      units = ctx.provider(r.chainId).then((p) => readTokenUnits(p, tokens)).catch(() => new Map<string, TokenUnits>());
      byChain.set(r.chainId, units);
    }
    const known = await units;
    out.push({ ...r, findings: r.findings.map((f) => ({ ...f, title: humanTitle(f.title, known) })) });
  }
  return out;
}

export async function startDashboard(ctx: IncidentContext, options: DashboardOptions): Promise<Dashboard> {
  const refreshSeconds = options.refreshSeconds ?? 15;
  const loopback = isLoopback(options.host);
  let port = options.port;

  const inHumanUnits = (records: IncidentRecord[]) => withUnits(ctx, records);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, "text/plain", "read-only: only GET and HEAD\n");
    }
    const hostHeader = (req.headers.host ?? "").replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    if (loopback && !isLoopback(hostHeader)) return send(res, 421, "text/plain", `this dashboard answers only for 127.0.0.1:${port} and localhost:${port}\n`);
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    if (url.pathname === "/") {
      const switches = await readSwitches(ctx.loaded.config, ctx.provider);
      const incidents = await ctx.recorder.list();
      return send(res, 200, "text/html", renderDashboard({ generatedAt: new Date().toISOString(), switches, incidents: await inHumanUnits(incidents), refreshSeconds }));
    }
    if (url.pathname === "/api/state") {
      const switches = await readSwitches(ctx.loaded.config, ctx.provider);
      return send(res, 200, "application/json", `${JSON.stringify({ generatedAt: new Date().toISOString(), switches, incidents: await ctx.recorder.list(), decisions: await ctx.recorder.decisions() }, null, 2)}\n`);
    }
    const m = /^\/incidents\/(0x[0-9a-fA-F]{4,64})$/.exec(url.pathname);
    if (m) {
      let record;
      try {
        record = await ctx.resolve(m[1]);
      } catch (err) {
        if (err instanceof UsageError) return send(res, 404, "text/plain", `${err.message.replace(/^<id>: /, "")}\n`);
        throw err;
      }
      const report = await buildGovernorReport(record, await ctx.reportDeps(record));
      return send(res, 200, "text/html", renderGovernorHtml(report));
    }
    return send(res, 404, "text/plain", "not found\n");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      ctx.logger.warn({ err: { message: (err as Error).message }, path: req.url }, "dashboard request failed");
      if (!res.headersSent) send(res, 500, "text/plain", `could not build the page: ${(err as Error).message.split("\n")[0]}\n`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shown = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
