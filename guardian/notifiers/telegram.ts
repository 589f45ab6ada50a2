import { z } from "zod";
import { stripControl } from "./neutralise";
import { DeliveryError, describeResponseBody } from "./delivery-error";
import { alertSubject, alertText, truncate } from "./format";
import { DEFAULT_TIMEOUT_MS, httpPost } from "./http";
import { envSecretMatching, type Secret } from "./secret";
import type { AlertMessage, Notifier, NotifierDefinition } from "./types";

/** A numeric chat id (negative for groups) or a public channel's @username. */
const CHAT_ID = /^(-?[0-9]+|@[A-Za-z][A-Za-z0-9_]{4,})$/;
/** sendMessage rejects texts over 4096 characters. */
const MAX_TEXT = 4096;

const params = z
  .object({
    apiBaseUrl: z.string().url().default("https://api.telegram.org"),
    botToken: envSecretMatching({ test: (v) => /^[0-9]+:[A-Za-z0-9_-]+$/.test(v), message: "expected a bot token like 123456:ABC-..." }),
    chatIds: z.array(z.string().regex(CHAT_ID, "expected a chat id or @channel")).default([]),
    timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
  })
  .strict();

type TelegramParams = z.infer<typeof params>;

/** Telegram's errors are JSON with `parameters.retry_after` on 429 rather than (only) a header. */
function withRetryAfter(err: unknown): unknown {
  if (!(err instanceof DeliveryError) || err.status !== 429 || err.retryAfterMs !== undefined) return err;
  try {
    const seconds = (JSON.parse(err.responseBody ?? "") as { parameters?: { retry_after?: number } }).parameters?.retry_after;
    if (typeof seconds !== "number") return err;
    return new DeliveryError(err.shortMessage, { retryable: true, status: 429, retryAfterMs: seconds * 1000, details: err.details, responseBody: err.responseBody });
  } catch {
    return err;
  }
}

class TelegramNotifier implements Notifier {
  readonly type = "telegram";
  readonly defaultRecipients: readonly string[];
  readonly #token: Secret;

  constructor(
    readonly name: string,
    private readonly params: TelegramParams,
  ) {
    this.defaultRecipients = params.chatIds;
    this.#token = params.botToken;
  }

  checkRecipient(recipient: string): string | undefined {
    return CHAT_ID.test(recipient) ? undefined : "expected a chat id or @channel";
  }

  async send(message: AlertMessage, recipient?: string): Promise<void> {
    if (!recipient) throw new DeliveryError("telegram: no chat id", { retryable: false });
    let text: string;
    try {
      const response = await httpPost({
        service: "telegram",
        url: `${this.params.apiBaseUrl.replace(/\/+$/, "")}/bot${this.#token.reveal()}/sendMessage`,
        headers: { "content-type": "application/json" },
        // Plain text on purpose: Markdown or HTML parse modes reject unescaped characters found in
        // titles and reverts, and a rejected alert is worse than an unformatted one.
        body: JSON.stringify({
          chat_id: recipient,
          text: truncate(stripControl(`${alertSubject(message)}\n\n${alertText(message)}`), MAX_TEXT),
          disable_web_page_preview: true,
        }),
        timeoutMs: this.params.timeoutMs,
      });
      text = response.text;
    } catch (err) {
      throw withRetryAfter(err);
    }
    let ok = false;
    try {
      ok = (JSON.parse(text) as { ok?: boolean }).ok === true;
    } catch {
      ok = false;
    }
    if (!ok) throw new DeliveryError("telegram: sendMessage did not answer ok", { retryable: true, details: describeResponseBody(text), responseBody: text });
  }
}

export const telegramNotifier: NotifierDefinition<TelegramParams, Notifier> = {
  type: "telegram",
  description: "Telegram Bot API sendMessage, plain text, one message per chat.",
  params,
  create: (name, p) => new TelegramNotifier(name, p),
};
