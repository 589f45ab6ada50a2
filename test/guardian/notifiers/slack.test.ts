import { expect } from "chai";
import { DeliveryError } from "../../../guardian/notifiers/delivery-error";
import { slackNotifier } from "../../../guardian/notifiers/slack";
import { alertMessage, build } from "./fixtures";
import { startCaptureServer, type CaptureServer } from "./local-servers";

describe("slackNotifier", () => {
  let slack: CaptureServer;
  before(async () => {
    // Slack answers a good incoming-webhook post with 200 "ok" and a bad payload with 400 "invalid_payload".
    slack = await startCaptureServer((req, res) => {
      let payload: { text?: unknown; blocks?: unknown[] } = {};
      try {
        payload = JSON.parse(req.body) as typeof payload;
      } catch {
        return res.writeHead(400).end("invalid_payload");
      }
      if (req.path !== "/services/T000/B000/XXXX") return res.writeHead(404).end("no_service");
      if (typeof payload.text !== "string") return res.writeHead(400).end("invalid_payload");
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
    process.env.FAILSAFE_TEST_SLACK_URL = `${slack.url}/services/T000/B000/XXXX`;
    process.env.FAILSAFE_TEST_SLACK_GONE = `${slack.url}/services/T000/B000/REVOKED`;
  });
  after(() => slack.close());

  it("posts text plus header and section blocks as JSON", async () => {
    const notifier = build(slackNotifier, { webhookUrl: { env: "FAILSAFE_TEST_SLACK_URL" } });
    expect(notifier.defaultRecipients).to.equal(null);
    await notifier.send(alertMessage());
    const req = await slack.request(0);
    expect(req.headers["content-type"]).to.equal("application/json");
    const body = JSON.parse(req.body) as { text: string; blocks: { type: string; text: { type: string; text: string } }[] };
    expect(body.text).to.equal("[Failsafe CRITICAL] Breaker tripped on Vault (0x…aa)\nThe circuit breaker was tripped on chain 31337.");
    expect(body.blocks.map((b) => b.type)).to.deep.equal(["header", "section"]);
    expect(body.blocks[0].text).to.deep.equal({ type: "plain_text", text: "[Failsafe CRITICAL] Breaker tripped on Vault (0x…aa)" });
    expect(body.blocks[1].text.text).to.include("reentrancy: Reentrant withdraw");
  });

  it("reports a revoked webhook as not retryable, without the URL (it is the credential)", async () => {
    const notifier = build(slackNotifier, { webhookUrl: { env: "FAILSAFE_TEST_SLACK_GONE" } });
    const err = (await notifier.send(alertMessage()).catch((e: unknown) => e)) as DeliveryError;
    expect(err).to.be.instanceOf(DeliveryError);
    expect(err.status).to.equal(404);
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal("slack: HTTP 404: no_service");
    expect(err.message).to.not.include("REVOKED");
  });
});
