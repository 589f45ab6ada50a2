import { DeliveryError, describeResponseBody, isRetryableStatus } from "./delivery-error";

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface HttpPost {
  /** Shown in errors in place of the URL, which may embed a token. */
  service: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** Seconds or an HTTP date, as RFC 9110 allows for Retry-After. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * POSTs once and returns the response if it is 2xx; otherwise throws a classified DeliveryError. Retries
 * are the dispatcher's job, so every attempt is recorded.
 */
export async function httpPost(request: HttpPost): Promise<HttpResponse> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(request.timeoutMs),
      redirect: "error",
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
    throw new DeliveryError(
      timedOut ? `${request.service}: no answer within ${request.timeoutMs} ms` : `${request.service}: request failed`,
      { retryable: true, details: timedOut ? undefined : cause },
    );
  }
  const text = await response.text().catch(() => "");
  if (response.status >= 200 && response.status < 300) {
    return { status: response.status, headers: response.headers, text };
  }
  throw new DeliveryError(`${request.service}: HTTP ${response.status}`, {
    status: response.status,
    retryable: isRetryableStatus(response.status),
    retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
    details: describeResponseBody(text),
    responseBody: text,
  });
}

/** Shared by the HTTP notifiers' params: how long one attempt may take. */
export const DEFAULT_TIMEOUT_MS = 10_000;
