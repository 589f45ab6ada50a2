import nodemailer from "nodemailer";
import { z } from "zod";
import { DeliveryError } from "./delivery-error";
import { stripControl } from "./neutralise";
import { alertSubject, alertText } from "./format";
import { envSecret } from "./secret";
import type { AlertMessage, Notifier, NotifierDefinition } from "./types";

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

const params = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** Implicit TLS (port 465). Otherwise STARTTLS is used when the server offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send if the server does not offer STARTTLS. */
    requireTLS: z.boolean().default(false),
    /** Never upgrade with STARTTLS: only for a relay on the same host. */
    ignoreTLS: z.boolean().default(false),
    auth: z.object({ user: z.string().min(1), pass: envSecret }).strict().optional(),
    from: z.string().min(1),
    to: z.array(z.string().regex(EMAIL, "expected an email address")).default([]),
    timeoutMs: z.number().int().positive().default(15_000),
  })
  .strict();

type EmailParams = z.infer<typeof params>;

/** SMTP reply codes 4xx and connection-level failures are transient; 5xx and authentication are not. */
function classify(err: unknown): DeliveryError {
  const e = err as { responseCode?: number; code?: string; message?: string };
  const transient =
    (e.responseCode !== undefined && e.responseCode >= 400 && e.responseCode < 500) ||
    (e.responseCode === undefined && ["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ECONNRESET"].includes(e.code ?? ""));
  const what = e.responseCode !== undefined ? `SMTP ${e.responseCode}` : (e.code ?? "error");
  // The server's reply text is not kept: it may quote the credentials or the message back.
  return new DeliveryError(`email: ${what}`, { retryable: transient, details: e.code ?? "" });
}

function messageId(alertId: string): string {
  return `<${alertId}@failsafe.alerts>`;
}

class EmailNotifier implements Notifier {
  readonly type = "email";
  readonly defaultRecipients: readonly string[];
  readonly #transport: nodemailer.Transporter;

  constructor(
    readonly name: string,
    private readonly params: EmailParams,
  ) {
    this.defaultRecipients = params.to;
    this.#transport = nodemailer.createTransport({
      host: params.host,
      port: params.port,
      secure: params.secure,
      requireTLS: params.requireTLS,
      ignoreTLS: params.ignoreTLS,
      auth: params.auth ? { user: params.auth.user, pass: params.auth.pass.reveal() } : undefined,
      connectionTimeout: params.timeoutMs,
      greetingTimeout: params.timeoutMs,
      socketTimeout: params.timeoutMs,
    });
  }

  checkRecipient(recipient: string): string | undefined {
    return EMAIL.test(recipient) ? undefined : "expected an email address";
  }

  async send(message: AlertMessage, recipient?: string): Promise<void> {
    if (!recipient) throw new DeliveryError("email: no recipient", { retryable: false });
    // Every alert of one incident refers to the incident's first alert, so mail clients thread them;
    // a retraction also replies to what it retracts.
    const thread = messageId(message.incidentKey);
    const inReplyTo = message.retracts?.length ? messageId(message.retracts[message.retracts.length - 1]) : thread;
    const references = [thread, ...(message.retracts ?? []).map(messageId)].filter((id, i, all) => all.indexOf(id) === i);
    try {
      await this.#transport.sendMail({
        from: this.params.from,
        to: recipient,
        subject: stripControl(alertSubject(message)),
        text: stripControl(alertText(message)),
        messageId: messageId(message.id),
        ...(message.id === message.incidentKey ? {} : { inReplyTo, references }),
        headers: {
          "X-Failsafe-Alert-Id": message.id,
          "X-Failsafe-Alert-Kind": message.kind,
          "X-Failsafe-Severity": message.severity,
          "X-Failsafe-Incident": message.incidentKey,
        },
      });
    } catch (err) {
      throw classify(err);
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}

export const emailNotifier: NotifierDefinition<EmailParams, Notifier> = {
  type: "email",
  description: "Email over SMTP (nodemailer); one message per recipient, threaded per incident.",
  params,
  create: (name, p) => new EmailNotifier(name, p),
};
