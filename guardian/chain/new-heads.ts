import type { Logger } from "pino";
import type { BlockRef } from "./types";
import { redactUrl } from "./rpc";

/** The slice of the `ws` package used here (it ships with ethers; it has no bundled typings). */
interface WsSocket {
  on(event: "open", cb: () => void): void;
  on(event: "message", cb: (data: Buffer) => void): void;
  on(event: "close", cb: (code: number) => void): void;
  on(event: "error", cb: (err: Error) => void): void;
  send(data: string): void;
  close(): void;
  terminate(): void;
}
type WsConstructor = new (url: string, options?: { handshakeTimeout?: number }) => WsSocket;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const WebSocketImpl = require("ws") as WsConstructor;

export interface NewHeadsOptions {
  url: string;
  logger: Logger;
  onHead(head: BlockRef): void;
  /** Longest pause between reconnection attempts. */
  maxReconnectMs?: number;
}

/**
 * `eth_subscribe newHeads` over a websocket that reconnects with backoff. It only signals; the follower
 * reads the chain itself, so a dropped or reordered notification costs latency, never a block.
 */
export class NewHeadsSubscription {
  private socket?: WsSocket;
  private stopped = false;
  private attempts = 0;
  private reconnectTimer?: NodeJS.Timeout;
  connected = false;

  constructor(private readonly options: NewHeadsOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.connected = false;
    this.socket?.terminate();
  }

  private connect(): void {
    const { url, logger } = this.options;
    const socket = new WebSocketImpl(url, { handshakeTimeout: 5_000 });
    this.socket = socket;
    socket.on("open", () => {
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
    });
    socket.on("message", (data) => {
      let msg: { id?: number; result?: unknown; error?: { message: string }; params?: { result?: Record<string, string> } };
      try {
        msg = JSON.parse(data.toString());
      } catch {
        logger.warn({ url: redactUrl(url) }, "malformed websocket message ignored");
        return;
      }
      if (msg.id === 1) {
        if (msg.error) {
          logger.warn({ url: redactUrl(url), err: msg.error }, "eth_subscribe refused; polling only");
          this.stop();
          return;
        }
        this.connected = true;
        this.attempts = 0;
        logger.info({ url: redactUrl(url) }, "subscribed to newHeads");
        return;
      }
      const h = msg.params?.result;
      if (h && h.hash && h.number) {
        this.options.onHead({
          number: Number(h.number),
          hash: h.hash.toLowerCase(),
          parentHash: (h.parentHash ?? "").toLowerCase(),
          timestamp: Number(h.timestamp ?? 0),
        });
      }
    });
    socket.on("error", (err) => logger.warn({ url: redactUrl(url), err: { message: err.message } }, "websocket error"));
    socket.on("close", () => {
      this.connected = false;
      if (this.stopped) return;
      const delay = Math.min(this.options.maxReconnectMs ?? 10_000, 250 * 2 ** Math.min(this.attempts++, 6));
      logger.warn({ url: redactUrl(url), retry_in_ms: delay }, "websocket closed; polling until it reconnects");
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }
}
