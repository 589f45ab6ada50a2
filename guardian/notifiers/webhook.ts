import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { DEFAULT_TIMEOUT_MS, httpPost } from "./http";
import { envSecretMatching, type Secret } from "./secret";
import type { AlertMessage, Notifier, NotifierDefinition } from "./types";

export const SIGNATURE_HEADER = "X-Failsafe-Signature";
export const TIMESTAMP_HEADER = "X-Failsafe-Timestamp";
export const ALERT_ID_HEADER = "X-Failsafe-Alert-Id";
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
    await httpPost({
      service: "webhook",
      url: this.params.url,
      headers: {
        "content-type": "application/json",
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(this.#secret.reveal(), timestamp, body),
        [ALERT_ID_HEADER]: message.id,
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
