import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { DEFAULT_TIMEOUT_MS, httpPost } from "./http";
import { envSecretMatching, type Secret } from "./secret";
import type { AlertMessage, Notifier, NotifierDefinition } from "./types";

export const SIGNATURE_HEADER = "X-Failsafe-Signature";
export const TIMESTAMP_HEADER = "X-Failsafe-Timestamp";
export const ALERT_ID_HEADER = "X-Failsafe-Alert-Id";
/** A fresh random value per attempt; the verifier remembers it for the tolerance window (replay protection). */
export const NONCE_HEADER = "X-Failsafe-Nonce";
/** HMAC over timestamp, nonce, alert id and body (see signWebhookV2). */
export const SIGNATURE_V2_HEADER = "X-Failsafe-Signature-V2";
/** Receivers should refuse deliveries signed longer ago than this (replay window). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const params = z
  .object({
    url: z.string().url().refine((u) => /^https?:\/\//.test(u), "expected an http(s) URL"),
    /** Shared HMAC key; at least 32 characters so it cannot be guessed. */
    secret: envSecretMatching({ test: (v) => v.length >= 32, message: "the signing secret must be at least 32 characters" }),
    timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
  })
  .strict();

type WebhookParams = z.infer<typeof params>;

/**
 * The signature covers the timestamp and the exact body bytes: `sha256=` + hex(HMAC-SHA256(secret,
 * `${timestamp}.${body}`)). Binding the timestamp makes a captured request useless after the window.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * What a receiver runs on the raw body before parsing it. Returns why it refuses, or undefined if the
 * request is authentic and fresh. Comparison is constant-time.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  toleranceSeconds?: number;
  nowSeconds?: number;
}): string | undefined {
  if (!input.timestamp || !/^[0-9]+$/.test(input.timestamp)) return `missing or malformed ${TIMESTAMP_HEADER}`;
  if (!input.signature) return `missing ${SIGNATURE_HEADER}`;
  const timestamp = Number(input.timestamp);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return "timestamp outside the tolerance window";
  const expected = Buffer.from(signWebhook(input.secret, timestamp, input.body));
  const given = Buffer.from(input.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "signature mismatch";
  return undefined;
}

/**
 * `v2=` + hex(HMAC-SHA256(secret, `${timestamp}.${nonce}.${alertId}.${body}`)): binds the alert id header (what
 * receivers deduplicate by) and a one-time nonce to the body, so a captured request can be neither replayed within
 * the window (the verifier remembers the nonce) nor relabelled as another alert.
 */
export function signWebhookV2(secret: string, input: { timestamp: number; nonce: string; alertId: string; body: string }): string {
  return `v2=${createHmac("sha256", secret).update(`${input.timestamp}.${input.nonce}.${input.alertId}.${input.body}`).digest("hex")}`;
}

/**
 * A receiver's verifier for v2 signatures: checks the timestamp window, the signature over timestamp, nonce, alert
 * id and body (constant time), and refuses a nonce it has seen. Nonces are kept only until their timestamp leaves
 * the window, so memory is bounded by the request rate times the window.
 */
export class WebhookVerifier {
  readonly #seen = new Map<string, number>();
  readonly #tolerance: number;

  constructor(
    private readonly secret: string,
    options: { toleranceSeconds?: number } = {},
  ) {
    this.#tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  }

  /** Returns why the request is refused, or undefined when it is authentic, fresh and not a replay. */
  verify(input: { body: string; headers: Record<string, string | string[] | undefined>; nowSeconds?: number }): string | undefined {
    const header = (name: string) => {
      const v = input.headers[name.toLowerCase()] ?? input.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
    for (const [n, expiry] of this.#seen) if (expiry < now) this.#seen.delete(n);
    const ts = header(TIMESTAMP_HEADER);
    const nonce = header(NONCE_HEADER);
    const alertId = header(ALERT_ID_HEADER);
    const signature = header(SIGNATURE_V2_HEADER);
    if (!ts || !/^[0-9]+$/.test(ts)) return `missing or malformed ${TIMESTAMP_HEADER}`;
    if (!nonce || !/^[0-9a-f]{32}$/.test(nonce)) return `missing or malformed ${NONCE_HEADER}`;
    if (!alertId) return `missing ${ALERT_ID_HEADER}`;
    if (!signature) return `missing ${SIGNATURE_V2_HEADER}`;
    const timestamp = Number(ts);
    if (Math.abs(now - timestamp) > this.#tolerance) return "timestamp outside the tolerance window";
    const expected = Buffer.from(signWebhookV2(this.secret, { timestamp, nonce, alertId, body: input.body }));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return "signature mismatch";
    if (this.#seen.has(nonce)) return "nonce already used (replay)";
    this.#seen.set(nonce, timestamp + this.#tolerance);
    return undefined;
  }

  /** Nonces remembered now. */
  get remembered(): number {
    return this.#seen.size;
  }
}

/** The JSON body: a versioned envelope around the alert, so receivers can evolve with it. */
export function webhookBody(message: AlertMessage): string {
  return JSON.stringify({ version: 1, alert: message });
}

class WebhookNotifier implements Notifier {
  readonly type = "webhook";
  readonly defaultRecipients = null;
  readonly #secret: Secret;

  constructor(
    readonly name: string,
    private readonly params: WebhookParams,
  ) {
    this.#secret = params.secret;
  }

  async send(message: AlertMessage): Promise<void> {
    const body = webhookBody(message);
    // Signed per attempt: a retry gets a fresh timestamp, and the alert id lets the receiver dedupe.
    const timestamp = Math.floor(Date.now() / 1000);
    const nonce = randomBytes(16).toString("hex");
    await httpPost({
      service: "webhook",
      url: this.params.url,
      headers: {
        "content-type": "application/json",
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(this.#secret.reveal(), timestamp, body),
        [ALERT_ID_HEADER]: message.id,
        [NONCE_HEADER]: nonce,
        [SIGNATURE_V2_HEADER]: signWebhookV2(this.#secret.reveal(), { timestamp, nonce, alertId: message.id, body }),
      },
      body,
      timeoutMs: this.params.timeoutMs,
    });
  }
}

export const webhookNotifier: NotifierDefinition<WebhookParams, Notifier> = {
  type: "webhook",
  description: "Generic JSON webhook signed with HMAC-SHA256 over timestamp and body.",
  params,
  create: (name, p) => new WebhookNotifier(name, p),
};
