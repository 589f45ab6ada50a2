import { expect } from "chai";
import { createHmac } from "node:crypto";
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  webhookNotifier,
} from "../../../guardian/notifiers/webhook";
import { alertMessage, build } from "./fixtures";
import { startCaptureServer, type CaptureServer } from "./local-servers";

const SECRET = "whsec_0123456789abcdef0123456789abcdef";

describe("webhookNotifier", () => {
  let hook: CaptureServer;
  before(async () => {
    process.env.FAILSAFE_TEST_WEBHOOK_SECRET = SECRET;
    // A receiver that does what docs/readme/alerts.md tells receivers to do, by recomputing the HMAC.
    hook = await startCaptureServer((req, res) => {
      const timestamp = req.headers[TIMESTAMP_HEADER.toLowerCase()] as string;
      const expected = `sha256=${createHmac("sha256", SECRET).update(`${timestamp}.${req.body}`).digest("hex")}`;
      res.writeHead(req.headers[SIGNATURE_HEADER.toLowerCase()] === expected ? 204 : 401).end();
    });
  });
  after(() => hook.close());

  it("signs timestamp and body with HMAC-SHA256; the receiver's recomputation matches", async () => {
    const notifier = build(webhookNotifier, { url: `${hook.url}/failsafe`, secret: { env: "FAILSAFE_TEST_WEBHOOK_SECRET" } });
    const message = alertMessage();
    await notifier.send(message);
    const req = await hook.request(0);
    expect(req.headers["x-failsafe-alert-id"]).to.equal(message.id);
    expect(JSON.parse(req.body)).to.deep.equal({ version: 1, alert: message });
    const timestamp = req.headers["x-failsafe-timestamp"] as string;
    const signature = req.headers["x-failsafe-signature"] as string;
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).to.be.lessThan(60);
    expect(verifyWebhookSignature({ secret: SECRET, body: req.body, timestamp, signature })).to.equal(undefined);
  });

  it("verification refuses a changed body, a wrong secret and a replay outside the window", async () => {
    const req = await hook.request(0);
    const timestamp = req.headers["x-failsafe-timestamp"] as string;
    const signature = req.headers["x-failsafe-signature"] as string;
    expect(verifyWebhookSignature({ secret: SECRET, body: req.body.replace("critical", "info"), timestamp, signature })).to.equal("signature mismatch");
    expect(verifyWebhookSignature({ secret: `${SECRET}x`, body: req.body, timestamp, signature })).to.equal("signature mismatch");
    expect(
      verifyWebhookSignature({ secret: SECRET, body: req.body, timestamp, signature, nowSeconds: Number(timestamp) + 301 }),
    ).to.equal("timestamp outside the tolerance window");
    expect(verifyWebhookSignature({ secret: SECRET, body: req.body, timestamp: undefined, signature })).to.equal(
      "missing or malformed X-Failsafe-Timestamp",
    );
  });

  it("fails a wrong secret as a non-retryable 401", async () => {
    process.env.FAILSAFE_TEST_WEBHOOK_OTHER = "another-secret-of-at-least-32-chars!!";
    const notifier = build(webhookNotifier, { url: hook.url, secret: { env: "FAILSAFE_TEST_WEBHOOK_OTHER" } });
    const err = (await notifier.send(alertMessage()).catch((e: unknown) => e)) as { status: number; retryable: boolean };
    expect(err.status).to.equal(401);
    expect(err.retryable).to.equal(false);
  });
});
