import type { NotifierDefinition } from "./types";
import { discordNotifier } from "./discord";
import { emailNotifier } from "./email";
import { pagerDutyNotifier } from "./pagerduty";
import { slackNotifier } from "./slack";
import { telegramNotifier } from "./telegram";
import { twilioSmsNotifier } from "./twilio-sms";
import { webhookNotifier } from "./webhook";

/** Every notifier type, by `type`. Adding a channel is one file plus one line here. */
export const notifierRegistry: readonly NotifierDefinition<any, any>[] = [
  emailNotifier,
  twilioSmsNotifier,
  slackNotifier,
  discordNotifier,
  telegramNotifier,
  pagerDutyNotifier,
  webhookNotifier,
];

export function findNotifier(type: string): NotifierDefinition<any, any> | undefined {
  return notifierRegistry.find((n) => n.type === type);
}
