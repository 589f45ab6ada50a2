import { z } from "zod";
import type { Severity } from "../detectors/types";
import { alertSubject, alertText, truncate } from "./format";
import { DEFAULT_TIMEOUT_MS, httpPost } from "./http";
import { markdownText, stripControl } from "./neutralise";
import { envSecretMatching } from "./secret";
import type { AlertMessage, Notifier, NotifierDefinition } from "./types";

const params = z
  .object({
    /** The webhook URL carries its token, so it comes from the environment. */
    webhookUrl: envSecretMatching({ test: (v) => /^https?:\/\//.test(v), message: "expected an http(s) URL" }),
    username: z.string().min(1).max(80).default("Failsafe"),
    timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
  })
  .strict();

type DiscordParams = z.infer<typeof params>;

const COLORS: Record<Severity, number> = {
  critical: 0xd0021b,
  high: 0xf5533d,
  medium: 0xf5a623,
  low: 0x4a90e2,
  info: 0x9b9b9b,
};
const RESOLVED_COLOR = 0x2ecc71;

class DiscordNotifier implements Notifier {
  readonly type = "discord";
  readonly defaultRecipients = null;

  constructor(
    readonly name: string,
    private readonly params: DiscordParams,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    await httpPost({
      service: "discord",
      url: this.params.webhookUrl.reveal(),
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        username: this.params.username,
        // Alerts quote attacker-controlled text (token names, reverts): never let it ping @everyone.
        allowed_mentions: { parse: [] },
        embeds: [
          {
            // The description renders Markdown, links included: attacker text is escaped to show as typed. Titles
            // render no links; they only lose control characters.
            title: truncate(stripControl(alertSubject(message)), 256),
            description: truncate(markdownText(alertText(message)), 4096),
            color: message.resolves ? RESOLVED_COLOR : COLORS[message.severity],
            timestamp: message.createdAt,
          },
        ],
      }),
      timeoutMs: this.params.timeoutMs,
    });
  }
}

export const discordNotifier: NotifierDefinition<DiscordParams, Notifier> = {
  type: "discord",
  description: "Discord webhook with one embed per alert, coloured by severity; mentions disabled.",
  params,
  create: (name, p) => new DiscordNotifier(name, p),
};
