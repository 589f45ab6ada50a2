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

  constructor(
    shortMessage: string,
    init: { retryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown; details?: string },
  ) {
    super(shortMessage, init);
    this.retryable = init.retryable;
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** HTTP statuses worth retrying: timeouts, rate limits and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
