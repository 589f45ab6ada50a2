/**
 * Typed errors for the chain stage, in viem's style: a short message for people, the underlying cause
 * kept for logs, and a `retryable` flag that the RPC client consults instead of guessing from strings.
 */
export class BaseError extends Error {
  readonly shortMessage: string;
  readonly details?: string;
  override readonly cause?: unknown;

  constructor(shortMessage: string, options: { cause?: unknown; details?: string } = {}) {
    const details = options.details ?? (options.cause instanceof Error ? options.cause.message : undefined);
    super(details && details !== shortMessage ? `${shortMessage}: ${details}` : shortMessage);
    this.name = new.target.name;
    this.shortMessage = shortMessage;
    this.details = details;
    this.cause = options.cause;
  }
}

/** Any failure talking to a node. `retryable` says whether trying again (maybe elsewhere) can help. */
export class RpcError extends BaseError {
  readonly retryable: boolean;
  readonly url: string;
  readonly method: string;

  constructor(
    shortMessage: string,
    init: { url: string; method: string; retryable: boolean; cause?: unknown; details?: string },
  ) {
    super(shortMessage, init);
    this.url = init.url;
    this.method = init.method;
    this.retryable = init.retryable;
  }
}

/** The connection failed or was dropped before an answer arrived. */
export class RpcNetworkError extends RpcError {
  constructor(init: { url: string; method: string; cause?: unknown }) {
    super(`${init.method}: network error talking to ${init.url}`, { ...init, retryable: true });
  }
}

export class RpcTimeoutError extends RpcError {
  constructor(init: { url: string; method: string; timeoutMs: number }) {
    super(`${init.method}: no answer from ${init.url} within ${init.timeoutMs} ms`, { ...init, retryable: true });
  }
}

/** A non-2xx HTTP status. 429 and 5xx are transient; other statuses (401, 404, ...) are configuration errors. */
export class RpcHttpError extends RpcError {
  readonly status: number;
  constructor(init: { url: string; method: string; status: number; body: string }) {
    super(`${init.method}: HTTP ${init.status} from ${init.url}`, {
      url: init.url,
      method: init.method,
      details: init.body.slice(0, 200) || undefined,
      retryable: init.status === 429 || init.status === 408 || init.status >= 500,
    });
    this.status = init.status;
  }
}

/** The node answered, but not with JSON-RPC (truncated body, HTML error page, garbage). */
export class RpcMalformedResponseError extends RpcError {
  constructor(init: { url: string; method: string; body: string; cause?: unknown }) {
    super(`${init.method}: malformed JSON-RPC response from ${init.url}`, {
      url: init.url,
      method: init.method,
      cause: init.cause,
      details: init.body.slice(0, 200),
      retryable: true,
    });
  }
}

/**
 * JSON-RPC error codes that mean "try again later" rather than "your request is wrong": rate limits
 * (-32005, 429 relayed in the body), and the "header not found" family nodes return while they catch up.
 */
const RETRYABLE_RPC_CODES = new Set([-32005, -32090, 429]);
const RETRYABLE_RPC_MESSAGES = /rate limit|too many requests|header not found|try again|temporarily unavailable/i;

/** A JSON-RPC `error` object in an otherwise valid response. */
export class RpcResponseError extends RpcError {
  readonly code: number;
  readonly data?: unknown;
  constructor(init: { url: string; method: string; code: number; message: string; data?: unknown }) {
    super(`${init.method}: ${init.message}`, {
      url: init.url,
      method: init.method,
      retryable: RETRYABLE_RPC_CODES.has(init.code) || RETRYABLE_RPC_MESSAGES.test(init.message),
    });
    this.code = init.code;
    this.data = init.data;
  }
}

/** The node does not offer a method (or tracer) at all; callers fall back to another way. */
export function isUnsupportedMethod(err: unknown): boolean {
  if (!(err instanceof RpcResponseError)) return false;
  return (
    err.code === -32601 ||
    /not (supported|found|available)|unsupported|unknown (method|tracer)|does not exist|not implemented/i.test(err.shortMessage)
  );
}

export function isRetryable(err: unknown): boolean {
  return err instanceof RpcError && err.retryable;
}

/**
 * The endpoint answers for another chain (chain id or genesis block differ from the configured chain). Retryable:
 * the client moves to its next URL, and never sends this one another request.
 */
export class RpcWrongChainError extends RpcError {
  constructor(init: { url: string; method: string; expected: string; actual: string }) {
    super(`${init.url} serves ${init.actual}, not ${init.expected}; this URL is not used`, { url: init.url, method: init.method, retryable: true });
  }
}

/** Every configured URL serves another chain: nothing is left to ask. */
export class RpcNoTrustedEndpointError extends RpcError {
  constructor(init: { url: string; method: string; rejected: string[] }) {
    super(`every RPC URL of this chain was refused: ${init.rejected.join("; ")}`, { url: init.url, method: init.method, retryable: false });
  }
}
