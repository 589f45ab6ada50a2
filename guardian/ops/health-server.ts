import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { GuardianMetrics } from "./metrics";

/** What /healthz reports for one chain; the guardian updates it as it goes. */
export interface ChainHealth {
  chainId: number;
  head?: number;
  cursor?: number;
  lastBlockAt?: number;
  lastError?: string;
  /** When `lastError` happened (ms since the epoch). */
  lastErrorAt?: number;
  /** Problems that stay until an operator acts (store deleted, reorg deeper than the window, ...). */
  critical?: string[];
  /** Wall clock minus the head block's timestamp, in seconds, when over the configured bound. */
  clockSkewSeconds?: number;
  /** When following the chain last failed (a node call, a commit), retried since: what tells a stall from a quiet chain. */
  lastSyncFailureAt?: number;
  /** With several guardians on one store: whether this one processes the chain now (leader) or waits (standby). */
  role?: "leader" | "standby";
}

export interface HealthServerOptions {
  host: string;
  port: number;
  metrics: GuardianMetrics;
  health: () => ChainHealth[];
  /** A chain whose last processed block is older than this is unhealthy. */
  staleAfterMs: number;
  /** A chain further behind the node's head than this many blocks is unhealthy. */
  maxLagBlocks?: number;
  /** A chain whose last error is more recent than this is unhealthy. */
  errorWindowMs?: number;
  /** Guardian-wide problems (the store file is missing or replaced, reports unwritable, ...), checked on each request. */
  problems?: () => string[];
  now?: () => number;
}

export interface ChainHealthReport extends ChainHealth {
  lag?: number;
  healthy: boolean;
  reasons: string[];
}

/** Judges each chain: every reason it is not healthy, so /healthz says why. */
export function judgeHealth(options: Omit<HealthServerOptions, "host" | "port" | "metrics">): { ok: boolean; chains: ChainHealthReport[]; problems: string[] } {
  const now = (options.now ?? Date.now)();
  const problems = options.problems?.() ?? [];
  const chains = options.health().map((c) => {
    const lag = c.head !== undefined && c.cursor !== undefined ? Math.max(0, c.head - c.cursor) : undefined;
    const reasons: string[] = [];
    // A standby processes nothing by design: its health is that it is ready to take over (no critical problem).
    if (c.role === "standby") {
      for (const p of c.critical ?? []) reasons.push(p);
      return { ...c, lag, healthy: reasons.length === 0 && problems.length === 0, reasons };
    }
    if (c.lastBlockAt === undefined) reasons.push("no block processed yet");
    else if (now - c.lastBlockAt > options.staleAfterMs) reasons.push(`no block processed for ${Math.round((now - c.lastBlockAt) / 1000)} s (bound ${Math.round(options.staleAfterMs / 1000)} s)`);
    if (lag !== undefined && options.maxLagBlocks !== undefined && lag > options.maxLagBlocks) reasons.push(`${lag} blocks behind the node (bound ${options.maxLagBlocks})`);
    if (c.lastError !== undefined && c.lastErrorAt !== undefined && now - c.lastErrorAt <= (options.errorWindowMs ?? 60_000)) reasons.push(`recent error: ${c.lastError}`);
    for (const p of c.critical ?? []) reasons.push(p);
    if (c.clockSkewSeconds !== undefined) reasons.push(`clock skew: the wall clock is ${c.clockSkewSeconds} s ${c.clockSkewSeconds > 0 ? "ahead of" : "behind"} the head block's timestamp`);
    return { ...c, lag, healthy: reasons.length === 0 && problems.length === 0, reasons };
  });
  return { ok: chains.length > 0 && problems.length === 0 && chains.every((c) => c.healthy), chains, problems };
}

/**
 * /metrics (Prometheus text) and /healthz (JSON, 200 or 503) on one small HTTP server, bound to
 * 127.0.0.1 by default so neither leaks outside the host unless configured.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== "GET") {
        res.writeHead(405, { allow: "GET" }).end();
      } else if (req.url === "/metrics") {
        const body = await options.metrics.registry.metrics();
        res.writeHead(200, { "content-type": options.metrics.registry.contentType }).end(body);
      } else if (req.url === "/healthz" || req.url === "/health") {
        const { ok, chains, problems } = judgeHealth(options);
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ status: ok ? "ok" : "degraded", problems, chains }));
      } else {
        res.writeHead(404).end();
      }
    } catch (err) {
      res.writeHead(500).end((err as Error).message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
