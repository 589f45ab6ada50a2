import { expect } from "chai";
import { DeliveryError } from "../../../guardian/notifiers/delivery-error";
import { twilioSmsNotifier } from "../../../guardian/notifiers/twilio-sms";
import { alertMessage, build } from "./fixtures";
import { json, startCaptureServer, type CaptureServer } from "./local-servers";

const SID = `AC${"0123456789abcdef".repeat(2)}`;
const TOKEN = "twilio-auth-token-xyz";

describe("twilioSmsNotifier", () => {
  let twilio: CaptureServer;
  before(async () => {
    process.env.FAILSAFE_TEST_TWILIO_TOKEN = TOKEN;
    // Answers as Twilio does: 201 with the message resource when the Basic credentials match, 401 otherwise.
    twilio = await startCaptureServer((req, res) => {
      const expected = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString("base64")}`;
      if (req.headers.authorization !== expected) return json(res, 401, { code: 20003, message: "Authenticate", status: 401 });
      if (req.path !== `/2010-04-01/Accounts/${SID}/Messages.json`) return json(res, 404, { code: 20404, status: 404 });
      const form = new URLSearchParams(req.body);
      if (form.get("To") === "+15550000429") return json(res, 429, { code: 20429, message: "Too Many Requests", status: 429 });
      json(res, 201, { sid: `SM${"a".repeat(32)}`, status: "queued", to: form.get("To"), body: form.get("Body") });
    });
  });
  after(() => twilio.close());

  const params = { baseUrl: "", accountSid: SID, authToken: { env: "FAILSAFE_TEST_TWILIO_TOKEN" }, from: "+15550001111", to: ["+15550002222"] };

  it("posts a form-encoded Messages.json request with Basic auth", async () => {
    const notifier = build(twilioSmsNotifier, { ...params, baseUrl: twilio.url });
    await notifier.send(alertMessage(), "+15550002222");
    const req = await twilio.request(0);
    expect(req.method).to.equal("POST");
    expect(req.headers["content-type"]).to.equal("application/x-www-form-urlencoded");
    const form = new URLSearchParams(req.body);
    expect([...form.keys()].sort()).to.deep.equal(["Body", "From", "To"]);
    expect(form.get("To")).to.equal("+15550002222");
    expect(form.get("From")).to.equal("+15550001111");
    expect(form.get("Body")).to.equal("[Failsafe CRITICAL] Breaker tripped on Vault (0x…aa)\nThe circuit breaker was tripped on chain 31337.");
  });

  it("uses MessagingServiceSid instead of From when configured", async () => {
    const mg = `MG${"f".repeat(32)}`;
    const { from: _from, ...rest } = params;
    const notifier = build(twilioSmsNotifier, { ...rest, baseUrl: twilio.url, messagingServiceSid: mg });
    await notifier.send(alertMessage(), "+15550002222");
    const form = new URLSearchParams((await twilio.request(1)).body);
    expect(form.get("MessagingServiceSid")).to.equal(mg);
    expect(form.has("From")).to.equal(false);
  });

  it("treats 429 as retryable and a rejected token as not", async () => {
    const notifier = build(twilioSmsNotifier, { ...params, baseUrl: twilio.url });
    const limited = await notifier.send(alertMessage(), "+15550000429").catch((e: DeliveryError) => e);
    expect(limited).to.be.instanceOf(DeliveryError);
    expect((limited as DeliveryError).retryable).to.equal(true);
    process.env.FAILSAFE_TEST_TWILIO_BAD = "not-the-token";
    const bad = build(twilioSmsNotifier, { ...params, baseUrl: twilio.url, authToken: { env: "FAILSAFE_TEST_TWILIO_BAD" } });
    const denied = await bad.send(alertMessage(), "+15550002222").catch((e: DeliveryError) => e);
    expect((denied as DeliveryError).status).to.equal(401);
    expect((denied as DeliveryError).retryable).to.equal(false);
  });

  it("rejects a phone number that is not E.164 at config load", () => {
    const result = twilioSmsNotifier.params.safeParse({ ...params, baseUrl: twilio.url, to: ["555-1234"] });
    expect(result.success).to.equal(false);
    if (!result.success) expect(result.error.issues[0].path).to.deep.equal(["to", 0]);
  });
});
