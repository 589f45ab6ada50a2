import { expect } from "chai";
import { DeliveryError } from "../../../guardian/notifiers/delivery-error";
import { discordNotifier } from "../../../guardian/notifiers/discord";
import { alertMessage, build } from "./fixtures";
import { json, startCaptureServer, type CaptureServer } from "./local-servers";

describe("discordNotifier", () => {
  let discord: CaptureServer;
  let limited = true;
  before(async () => {
    // Discord's webhook executes with 204 No Content; rate limits are 429 with Retry-After.
    discord = await startCaptureServer((req, res) => {
      if (req.path !== "/api/webhooks/123/tok") return json(res, 404, { message: "Unknown Webhook", code: 10015 });
      if (limited) {
        limited = false;
        res.setHeader("retry-after", "2");
        return json(res, 429, { message: "You are being rate limited.", retry_after: 2, global: false });
      }
      res.writeHead(204).end();
    });
    process.env.FAILSAFE_TEST_DISCORD_URL = `${discord.url}/api/webhooks/123/tok`;
  });
  after(() => discord.close());

  it("classifies 429 as retryable with the service's Retry-After, then posts an embed", async () => {
    const notifier = build(discordNotifier, { webhookUrl: { env: "FAILSAFE_TEST_DISCORD_URL" } });
    const err = (await notifier.send(alertMessage()).catch((e: unknown) => e)) as DeliveryError;
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.equal(2000);

    await notifier.send(alertMessage({ kind: "lift", resolves: true, severity: "critical", title: "Breaker lifted on Vault" }));
    const body = JSON.parse((await discord.request(1)).body) as {
      username: string;
      allowed_mentions: { parse: string[] };
      embeds: { title: string; description: string; color: number; timestamp: string }[];
    };
    expect(body.username).to.equal("Failsafe");
    expect(body.allowed_mentions).to.deep.equal({ parse: [] });
    expect(body.embeds).to.have.length(1);
    expect(body.embeds[0].title).to.equal("[Failsafe RESOLVED] Breaker lifted on Vault");
    expect(body.embeds[0].color).to.equal(0x2ecc71);
    expect(body.embeds[0].timestamp).to.equal("2026-11-21T10:00:00.000Z");
    expect(body.embeds[0].description).to.include("The circuit breaker was tripped on chain 31337.");
  });
});
