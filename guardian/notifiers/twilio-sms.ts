import { z } from "zod";
import { DeliveryError } from "./delivery-error";
import { alertSubject, truncate } from "./format";
import { DEFAULT_TIMEOUT_MS, httpPost } from "./http";
import { envSecret, type Secret } from "./secret";
import type { AlertMessage, Notifier, NotifierDefinition } from "./types";

const E164 = /^\+[1-9][0-9]{6,14}$/;
/** Twilio rejects bodies longer than 1600 characters. */
const MAX_BODY = 1600;

const params = z
  .object({
    /** Overridable for Twilio's regional edges and for a local stand-in in tests. */
    baseUrl: z.string().url().default("https://api.twilio.com"),
    accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, "expected a Twilio Account SID (AC + 32 hex)"),
    authToken: envSecret,
    /** A Twilio number in E.164, or use messagingServiceSid. */
    from: z.string().regex(E164, "expected an E.164 phone number").optional(),
    messagingServiceSid: z.string().regex(/^MG[0-9a-fA-F]{32}$/, "expected a Messaging Service SID (MG + 32 hex)").optional(),
    to: z.array(z.string().regex(E164, "expected an E.164 phone number")).default([]),
    timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
  })
  .strict()
  .refine((p) => (p.from === undefined) !== (p.messagingServiceSid === undefined), {
    message: "set exactly one of from and messagingServiceSid",
  });

type TwilioParams = z.infer<typeof params>;

class TwilioSmsNotifier implements Notifier {
  readonly type = "twilio-sms";
  readonly defaultRecipients: readonly string[];
  readonly #url: string;
  readonly #authToken: Secret;

  constructor(
    readonly name: string,
    private readonly params: TwilioParams,
  ) {
    this.defaultRecipients = params.to;
    this.#url = `${params.baseUrl.replace(/\/+$/, "")}/2010-04-01/Accounts/${params.accountSid}/Messages.json`;
    this.#authToken = params.authToken;
  }

  checkRecipient(recipient: string): string | undefined {
    return E164.test(recipient) ? undefined : "expected an E.164 phone number";
  }

  async send(message: AlertMessage, recipient?: string): Promise<void> {
    if (!recipient) throw new DeliveryError("twilio-sms: no recipient", { retryable: false });
    const form = new URLSearchParams({ To: recipient });
    if (this.params.messagingServiceSid) form.set("MessagingServiceSid", this.params.messagingServiceSid);
    else form.set("From", this.params.from as string);
    form.set("Body", truncate(`${alertSubject(message)}\n${message.summary}`, MAX_BODY));
    const credentials = Buffer.from(`${this.params.accountSid}:${this.#authToken.reveal()}`).toString("base64");
    await httpPost({
      service: "twilio-sms",
      url: this.#url,
      headers: {
        authorization: `Basic ${credentials}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: form.toString(),
      timeoutMs: this.params.timeoutMs,
    });
  }
}

export const twilioSmsNotifier: NotifierDefinition<TwilioParams, Notifier> = {
  type: "twilio-sms",
  description: "SMS through Twilio's Messages REST API; one message per phone number.",
  params,
  create: (name, p) => new TwilioSmsNotifier(name, p),
};
