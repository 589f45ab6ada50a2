import { BaseError } from "../chain/errors";

/**
 * A notifier could not deliver. `retryable` separates outages and rate limits (try again, with backoff)
 * from rejections such as a revoked token or a malformed recipient (trying again cannot help).
 * Messages never contain the request URL: for Slack, Discord and Telegram the URL is the credential.
 */
export class DeliveryError extends BaseError {
  readonly retryable: boolean;
  readonly status?: number;
  /** How long the service asked us to wait (Retry-After, Telegram's retry_after, Discord's retry_after). */
  readonly retryAfterMs?: number;
  /**
   * The endpoint's raw answer, for a notifier to parse (Telegram's retry_after). Never part of the message, never
   * logged or stored: a gateway that echoes the request puts the webhook token or Basic auth in it.
   */
  declare readonly responseBody?: string;

  constructor(
    shortMessage: string,
    init: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown; details?: string; responseBody?: string },
  ) {
    super(shortMessage, init);
    this.retryable = init.retryable;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
    // Not enumerable: serializers (pino's err, JSON) do not see it.
    Object.defineProperty(this, "responseBody", { value: init.responseBody, enumerable: false });
  }
}

/** Words only: no digits, slashes or long runs that could be a token, a URL or a Basic auth value. */
const PLAIN_WORDS = /^[A-Za-z][A-Za-z ,:.'_-]{0,119}$/;

/**
 * What may be said about an endpoint's error body in logs and the alert store: a plain-words error (Slack's
 * `invalid_token`, Telegram's `description`, a gateway's `upstream down`), never the rest of it: a gateway that echoes
 * the request back puts the webhook URL's token, the bot token or the Basic auth header in its body.
 */
export function describeResponseBody(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (PLAIN_WORDS.test(trimmed)) return trimmed;
  let said: string | undefined;
  try {
    const parsed = JSON.parse(trimmed) as Record<string, unknown>;
    for (const key of ["description", "message", "error"]) {
      const value = parsed?.[key];
      if (typeof value === "string" && PLAIN_WORDS.test(value)) {
        said = value;
        break;
      }
    }
  } catch {
    // not JSON
  }
  const withheld = `response body withheld (${Buffer.byteLength(trimmed)} bytes)`;
  return said ? `${said} (${withheld})` : withheld;
}

/** HTTP statuses worth retrying: timeouts, rate limits and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
