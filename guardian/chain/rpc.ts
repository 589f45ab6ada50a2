import type { Logger } from "pino";
import type { RpcClient } from "./types";
import type { GuardianMetrics } from "../ops/metrics";
import {
  RpcError,
  RpcHttpError,
  RpcMalformedResponseError,
  RpcNetworkError,
  RpcResponseError,
  RpcTimeoutError,
  RpcWrongChainError,
  RpcNoTrustedEndpointError,
  isRetryable,
} from "./errors";

export interface RpcCall {
  method: string;
  params: unknown[];
}

export interface HttpRpcClientOptions {
  chainId: number;
  /** Tried in order; a retryable failure moves to the next one (failover), wrapping around. */
  urls: readonly string[];
  timeoutMs?: number;
  /** Total attempts per request across all URLs, including the first. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  logger?: Logger;
  metrics?: GuardianMetrics;
  /**
   * Check each URL's chain id (and genesis block hash) before it serves its first request: a failover URL that
   * serves another chain is refused for good instead of being followed. The genesis is the first verified URL's
   * unless given.
   */
  verifyChain?: boolean | { genesisHash?: string };
  /** Told once per URL that is refused (the guardian logs it as critical and shows it on /healthz). */
  onEndpointRejected?: (url: string, reason: string) => void;
}

/** Strips credentials that providers embed in URL paths and queries (`/v3/<key>`), so logs never carry them. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" || u.pathname === "" ? "" : "/…"}`;
  } catch {
    return "<invalid url>";
  }
}

interface JsonRpcResponse {
  id: number;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/**
 * JSON-RPC over HTTP with failover across URLs, per-request timeouts, and bounded exponential backoff on
 * errors classified retryable (network, timeout, 429, 5xx, malformed JSON, rate-limit codes). Anything
 * else (a revert, a bad parameter, a 401) is thrown at once: retrying it only hides the real problem.
 */
export class HttpRpcClient implements RpcClient {
  readonly chainId: number;
  private readonly urls: readonly string[];
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly logger?: Logger;
  private readonly metrics?: GuardianMetrics;
  private current = 0;
  private nextId = 1;
  /** Unknown until the first batch; nodes that reject arrays get individual requests instead. */
  private batchSupported: boolean | undefined;
  private readonly queue: { call: RpcCall; resolve: (value: unknown) => void; reject: (err: unknown) => void }[] = [];
  private readonly verifyChain: boolean;
  private genesisHash?: string;
  private readonly verified = new Set<string>();
  /** URL -> why it was refused (serves another chain). */
  readonly rejected = new Map<string, string>();

  constructor(options: HttpRpcClientOptions) {
    if (options.urls.length === 0) throw new Error("HttpRpcClient needs at least one URL");
    this.chainId = options.chainId;
    this.urls = options.urls;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.verifyChain = options.verifyChain !== undefined && options.verifyChain !== false;
    if (typeof options.verifyChain === "object" && options.verifyChain.genesisHash) this.genesisHash = options.verifyChain.genesisHash.toLowerCase();
    this.onEndpointRejected = options.onEndpointRejected;
  }

  private readonly onEndpointRejected?: (url: string, reason: string) => void;

  /** Moves to the next URL now (the current one served data that did not hold together); returns it, redacted. */
  failover(): string | undefined {
    if (this.urls.length < 2) return undefined;
    do this.current = (this.current + 1) % this.urls.length;
    while (this.rejected.has(this.urls[this.current]) && this.rejected.size < this.urls.length);
    return redactUrl(this.urls[this.current]);
  }

  /** The URL requests go to now, redacted. */
  get currentUrl(): string {
    return redactUrl(this.urls[this.current]);
  }

  /** The genesis hash every URL is checked against (after the first verification). */
  get genesis(): string | undefined {
    return this.genesisHash;
  }

  /**
   * Before a URL serves anything: its chain id and genesis block must be the chain's. Network failures here are
   * retryable like any other; a wrong chain refuses the URL for good.
   */
  private async verify(url: string): Promise<void> {
    if (!this.verifyChain || this.verified.has(url)) return;
    const safeUrl = redactUrl(url);
    const [chainIdHex, genesis] = await this.send(url, [
      { method: "eth_chainId", params: [] },
      { method: "eth_getBlockByNumber", params: ["0x0", false] },
    ], true).catch((err: unknown) => {
      // A node without batch support answers the two calls one by one.
      if (err instanceof BatchUnsupportedError) {
        return Promise.all([this.send(url, [{ method: "eth_chainId", params: [] }], false), this.send(url, [{ method: "eth_getBlockByNumber", params: ["0x0", false] }], false)]).then((r) => r.flat());
      }
      throw err;
    });
    if (chainIdHex instanceof RpcResponseError) throw chainIdHex;
    const chainId = Number(chainIdHex);
    const hash = (genesis as { hash?: string } | null)?.hash?.toLowerCase();
    let reason: string | undefined;
    if (chainId !== this.chainId) reason = `chain ${chainId}`;
    else if (hash && this.genesisHash && hash !== this.genesisHash) reason = `chain ${chainId} with genesis ${hash}`;
    if (reason) {
      const expected = `chain ${this.chainId}${this.genesisHash ? ` with genesis ${this.genesisHash}` : ""}`;
      this.rejected.set(url, reason);
      this.onEndpointRejected?.(safeUrl, `${safeUrl} serves ${reason}, not ${expected}`);
      throw new RpcWrongChainError({ url: safeUrl, method: "eth_chainId", expected, actual: reason });
    }
    if (hash && !this.genesisHash) this.genesisHash = hash;
    this.verified.add(url);
  }

  /**
   * One call. Calls made within the same turn of the event loop (say, several detectors reading state at
   * one block) are sent together as one batch, the way viem's `batch` transport does.
   */
  request<T = unknown>(method: string, params: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ call: { method, params }, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const queued = this.queue.splice(0);
    if (queued.length === 1) {
      const [{ call, resolve, reject }] = queued;
      this.requestNow(call.method, call.params).then(resolve, reject);
      return;
    }
    this.batchSettled(queued.map((q) => q.call)).then(
      (results) => results.forEach((r, i) => (r instanceof RpcResponseError ? queued[i].reject(r) : queued[i].resolve(r))),
      (err: unknown) => queued.forEach((q) => q.reject(err)),
    );
  }

  private async requestNow(method: string, params: unknown[]): Promise<unknown> {
    const [result] = await this.withRetry(method, async (url) => {
      const [settled] = await this.send(url, [{ method, params }], false);
      if (settled instanceof RpcResponseError) throw settled;
      return [settled];
    });
    return result;
  }

  /**
   * Several calls in one HTTP round trip. Results come back in call order; if any call fails the whole
   * batch is retried or thrown as that call's error, so callers never see a half-filled answer.
   */
  async batch<T extends unknown[] = unknown[]>(calls: readonly RpcCall[]): Promise<T> {
    const settled = await this.batchSettled(calls);
    for (const r of settled) if (r instanceof RpcResponseError) throw r;
    return settled as T;
  }

  /**
   * Like `batch`, but a call the node refuses (say, an unsupported tracer) comes back as its
   * RpcResponseError in place of a result, so the caller can fall back for that call alone. Retryable
   * errors still retry the whole batch.
   */
  async batchSettled(calls: readonly RpcCall[]): Promise<unknown[]> {
    if (calls.length === 0) return [];
    if (calls.length === 1 || this.batchSupported === false) {
      return Promise.all(calls.map((c) => this.requestNow(c.method, c.params).catch((err: unknown) => settleError(err))));
    }
    const label = `batch(${calls.map((c) => c.method).join(",")})`;
    try {
      const settled = await this.withRetry(label, async (url) => {
        const results = await this.send(url, calls, true);
        const retryable = results.find((r) => r instanceof RpcResponseError && r.retryable);
        if (retryable) throw retryable;
        return results;
      });
      this.batchSupported = true;
      return settled;
    } catch (err) {
      if (err instanceof BatchUnsupportedError) {
        this.batchSupported = false;
        this.logger?.warn({ url: redactUrl(err.url) }, "node rejects JSON-RPC batches; sending requests one by one");
        return this.batchSettled(calls);
      }
      throw err;
    }
  }

  private async withRetry(method: string, attempt: (url: string) => Promise<unknown[]>): Promise<unknown[]> {
    let lastError: unknown;
    for (let n = 1; n <= this.maxAttempts; n++) {
      if (this.rejected.size > 0) {
        // Refused URLs never serve again; with none left, nothing can be trusted.
        if (this.rejected.size >= this.urls.length) throw new RpcNoTrustedEndpointError({ url: redactUrl(this.urls[this.current]), method, rejected: [...this.rejected.entries()].map(([u, r]) => `${redactUrl(u)} serves ${r}`) });
        while (this.rejected.has(this.urls[this.current])) this.current = (this.current + 1) % this.urls.length;
      }
      const url = this.urls[this.current];
      try {
        await this.verify(url);
        return await attempt(url);
      } catch (err) {
        lastError = err;
        if (err instanceof BatchUnsupportedError) throw err;
        const kind = err instanceof RpcError ? err.constructor.name : "Unknown";
        this.metrics?.rpcErrors.inc({ chain: String(this.chainId), kind });
        if (!isRetryable(err) || n === this.maxAttempts) throw err;
        // Fail over before backing off: another provider may answer right away.
        if (this.urls.length > 1) this.current = (this.current + 1) % this.urls.length;
        const delayMs = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (n - 1)) * (0.5 + Math.random() / 2);
        this.metrics?.rpcRetries.inc({ chain: String(this.chainId), method: method.startsWith("batch(") ? "batch" : method });
        this.logger?.warn(
          {
            method,
            attempt: n,
            max_attempts: this.maxAttempts,
            url: redactUrl(url),
            next_url: redactUrl(this.urls[this.current]),
            delay_ms: Math.round(delayMs),
            error: { type: kind, message: err instanceof Error ? err.message : String(err) },
          },
          "rpc request failed; retrying",
        );
        await sleep(delayMs);
      }
    }
    throw lastError;
  }

  private async send(url: string, calls: readonly RpcCall[], asBatch: boolean): Promise<unknown[]> {
    const safeUrl = redactUrl(url);
    const method = asBatch ? "batch" : calls[0].method;
    const firstId = this.nextId;
    this.nextId += calls.length;
    const payload = calls.map((c, i) => ({ jsonrpc: "2.0", id: firstId + i, method: c.method, params: c.params }));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let body: string;
    let status: number;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(asBatch ? payload : payload[0]),
        signal: controller.signal,
      });
      status = res.status;
      body = await res.text();
    } catch (err) {
      if (controller.signal.aborted) throw new RpcTimeoutError({ url: safeUrl, method, timeoutMs: this.timeoutMs });
      throw new RpcNetworkError({ url: safeUrl, method, cause: err });
    } finally {
      clearTimeout(timer);
    }
    if (status < 200 || status >= 300) throw new RpcHttpError({ url: safeUrl, method, status, body });

    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      throw new RpcMalformedResponseError({ url: safeUrl, method, body, cause: err });
    }
    if (asBatch && !Array.isArray(parsed)) {
      // A single error object in answer to an array is how most nodes say "no batches here".
      const error = (parsed as JsonRpcResponse | null)?.error;
      if (error) throw new BatchUnsupportedError(url);
      throw new RpcMalformedResponseError({ url: safeUrl, method, body });
    }
    const responses = (asBatch ? parsed : [parsed]) as JsonRpcResponse[];
    const byId = new Map<number, JsonRpcResponse>();
    for (const r of responses) if (r && typeof r === "object" && typeof r.id === "number") byId.set(r.id, r);
    return calls.map((call, i) => {
      const r = byId.get(firstId + i);
      if (!r || (!("result" in r) && !r.error)) {
        throw new RpcMalformedResponseError({ url: safeUrl, method: call.method, body });
      }
      if (r.error) {
        return new RpcResponseError({
          url: safeUrl,
          method: call.method,
          code: Number(r.error.code),
          message: String(r.error.message ?? "unknown error"),
          data: r.error.data,
        });
      }
      return r.result;
    });
  }
}

function settleError(err: unknown): RpcResponseError {
  if (err instanceof RpcResponseError) return err;
  throw err;
}

class BatchUnsupportedError extends Error {
  constructor(readonly url: string) {
    super("batch requests not supported");
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Any RpcClient can batch: the HTTP client in one round trip, others one call at a time. JSON-RPC
 * errors come back in place of results (see HttpRpcClient.batchSettled).
 */
export function batchSettled(rpc: RpcClient, calls: readonly RpcCall[]): Promise<unknown[]> {
  if (rpc instanceof HttpRpcClient) return rpc.batchSettled(calls);
  return Promise.all(calls.map((c) => rpc.request(c.method, c.params).catch((err: unknown) => settleError(err))));
}
