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
}

export interface HealthServerOptions {
  host: string;
  port: number;
  metrics: GuardianMetrics;
  health: () => ChainHealth[];
  /** A chain whose last processed block is older than this is unhealthy. */
  staleAfterMs: number;
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
        const now = Date.now();
        const chains = options.health().map((c) => ({
          ...c,
          lag: c.head !== undefined && c.cursor !== undefined ? Math.max(0, c.head - c.cursor) : undefined,
          healthy: c.lastBlockAt !== undefined && now - c.lastBlockAt <= options.staleAfterMs,
        }));
        const ok = chains.length > 0 && chains.every((c) => c.healthy);
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ status: ok ? "ok" : "degraded", chains }));
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
