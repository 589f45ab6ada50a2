import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type Fault =
  | { kind: "pass" }
  | { kind: "delay"; ms: number }
  /** Close the connection without answering. */
  | { kind: "drop" }
  | { kind: "status"; status: number }
  /** 200 with a body cut in half: not JSON. */
  | { kind: "malformed" }
  /** Answer with this body instead of asking the node. */
  | { kind: "respond"; status: number; body: string }
  /** Ask the node, then answer with `rewrite(its body)`: a node that lies about what it returns. */
  | { kind: "rewrite"; rewrite: (body: string) => string };

export interface FaultProxy {
  url: string;
  /** How many requests got each fault kind. */
  counts: Record<Fault["kind"], number>;
  setPlan(plan: (requestNumber: number, body: string) => Fault): void;
  stop(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 between the guardian and a node that misbehaves on a plan: it drops
 * connections, delays answers, answers 429/5xx, or returns malformed JSON.
 */
export async function startFaultProxy(target: string, plan: (n: number, body: string) => Fault = () => ({ kind: "pass" })): Promise<FaultProxy> {
  const upstream = new URL(target);
  let current = plan;
  let n = 0;
  const counts: FaultProxy["counts"] = { pass: 0, delay: 0, drop: 0, status: 0, malformed: 0, respond: 0, rewrite: 0 };
  const sockets = new Set<Socket>();

  const forward = (body: Buffer, res: ServerResponse, mangle: boolean, rewrite?: (body: string) => string) => {
    const req = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: "/", method: "POST", headers: { "content-type": "application/json", "content-length": body.length } },
      (up: IncomingMessage) => {
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("end", () => {
          const full = Buffer.concat(chunks);
          const out = rewrite ? Buffer.from(rewrite(full.toString())) : mangle ? full.subarray(0, Math.max(1, Math.floor(full.length / 2))) : full;
          res.writeHead(up.statusCode ?? 502, { "content-type": "application/json" }).end(out);
        });
      },
    );
    req.on("error", () => res.destroy());
    req.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const fault = current(++n, body.toString());
      counts[fault.kind]++;
      switch (fault.kind) {
        case "drop":
          req.socket.destroy();
          return;
        case "status":
          res.writeHead(fault.status, { "content-type": "text/plain" }).end(fault.status === 429 ? "Too Many Requests" : "upstream error");
          return;
        case "delay":
          setTimeout(() => forward(body, res, false), fault.ms);
          return;
        case "malformed":
          forward(body, res, true);
          return;
        case "respond":
          res.writeHead(fault.status, { "content-type": "application/json" }).end(fault.body);
          return;
        case "rewrite":
          forward(body, res, false, fault.rewrite);
          return;
        default:
          forward(body, res, false);
      }
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setPlan(p) {
      current = p;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
