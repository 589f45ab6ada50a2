import { z } from "zod";
import { alertSubject, alertText, truncate } from "./format";
import { DEFAULT_TIMEOUT_MS, httpPost } from "./http";
import { slackText, stripControl } from "./neutralise";
import { envSecretMatching } from "./secret";
import type { AlertMessage, Notifier, NotifierDefinition } from "./types";

const params = z
  .object({
    /** The incoming-webhook URL is itself the credential, so it comes from the environment. */
    webhookUrl: envSecretMatching({ test: (v) => /^https?:\/\//.test(v), message: "expected an http(s) URL" }),
    timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
  })
  .strict();

type SlackParams = z.infer<typeof params>;

/** Slack caps a section block's text at 3000 characters and a header at 150. */
function slackBody(message: AlertMessage): string {
  return JSON.stringify({
    // `text` is mrkdwn (notifications and previews): escaped, so `<!channel>` or `<https://…|label>` stays text.
    text: slackText(`${alertSubject(message)}\n${message.summary}`),
    blocks: [
      { type: "header", text: { type: "plain_text", text: truncate(stripControl(alertSubject(message)), 150) } },
      { type: "section", text: { type: "plain_text", text: truncate(stripControl(alertText(message)), 3000) } },
    ],
  });
}

class SlackNotifier implements Notifier {
  readonly type = "slack";
  readonly defaultRecipients = null;

  constructor(
    readonly name: string,
    private readonly params: SlackParams,
  ) {}

  async send(message: AlertMessage): Promise<void> {
    await httpPost({
      service: "slack",
      url: this.params.webhookUrl.reveal(),
      headers: { "content-type": "application/json" },
      body: slackBody(message),
      timeoutMs: this.params.timeoutMs,
    });
  }
}

export const slackNotifier: NotifierDefinition<SlackParams, Notifier> = {
  type: "slack",
  description: "Slack incoming webhook (text plus Block Kit header and section).",
  params,
  create: (name, p) => new SlackNotifier(name, p),
};
