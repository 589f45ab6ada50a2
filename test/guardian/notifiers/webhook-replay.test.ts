import { expect } from "chai";
import { ALERT_ID_HEADER, NONCE_HEADER, TIMESTAMP_HEADER, WebhookVerifier, verifyWebhookSignature, webhookNotifier } from "../../../guardian/notifiers/webhook";
import { alertMessage, build } from "./fixtures";
import { startCaptureServer, type CaptureServer } from "./local-servers";

const SECRET = "replay-test-secret-0123456789abcdef0123";

/**
 * An attacker who captures one signed alert (a proxy log, a leaked request) replays it within the 5-minute window,
 * or relabels it as another alert id (the header receivers deduplicate by): the v1 signature covered only the
 * timestamp and body, so both were accepted. The v2 signature covers a nonce and the alert id, and the verifier
 * remembers nonces for the window.
 */
describe("webhook signatures: nonce and alert id, replay refused", () => {
  let hooks: CaptureServer;
  before(async () => {
    hooks = await startCaptureServer((_req, res) => res.writeHead(204).end());
    process.env.FAILSAFE_TEST_REPLAY_SECRET = SECRET;
  });
  after(async () => {
    await hooks.close();
  });

  it("accepts the delivery once, refuses its replay, a relabelled alert id and a stale timestamp", async () => {
    const notifier = build(webhookNotifier, { url: `${hooks.url}/hook`, secret: { env: "FAILSAFE_TEST_REPLAY_SECRET" } });
    await notifier.send(alertMessage({ id: "alert-1" }));
    await notifier.send(alertMessage({ id: "alert-1" }));
    const [first, retry] = hooks.requests;
    const verifier = new WebhookVerifier(SECRET);
    expect(verifier.verify({ body: first.body, headers: first.headers })).to.equal(undefined);
    expect(first.headers[NONCE_HEADER.toLowerCase()]).to.not.equal(retry.headers[NONCE_HEADER.toLowerCase()]);
    expect(verifier.verify({ body: retry.body, headers: retry.headers }), "a retry is a new attempt with its own nonce").to.equal(undefined);

    // The same bytes again: the v1 check alone accepts them, the verifier does not.
    const ts = first.headers[TIMESTAMP_HEADER.toLowerCase()] as string;
    expect(verifyWebhookSignature({ secret: SECRET, body: first.body, timestamp: ts, signature: first.headers["x-failsafe-signature"] as string })).to.equal(undefined);
    expect(verifier.verify({ body: first.body, headers: first.headers })).to.equal("nonce already used (replay)");

    const relabelled = { ...retry.headers, [ALERT_ID_HEADER.toLowerCase()]: "alert-2" };
    expect(new WebhookVerifier(SECRET).verify({ body: retry.body, headers: relabelled })).to.equal("signature mismatch");
    expect(new WebhookVerifier(SECRET).verify({ body: first.body, headers: first.headers, nowSeconds: Number(ts) + 301 })).to.equal("timestamp outside the tolerance window");
    expect(new WebhookVerifier("another-secret-0123456789abcdef01234").verify({ body: first.body, headers: first.headers })).to.equal("signature mismatch");
  });

  it("forgets nonces once their timestamp left the window (bounded memory)", async () => {
    const notifier = build(webhookNotifier, { url: `${hooks.url}/hook`, secret: { env: "FAILSAFE_TEST_REPLAY_SECRET" } });
    hooks.requests.length = 0;
    for (let i = 0; i < 5; i++) await notifier.send(alertMessage({ id: `alert-${i}` }));
    const verifier = new WebhookVerifier(SECRET, { toleranceSeconds: 60 });
    const now = Number(hooks.requests[0].headers[TIMESTAMP_HEADER.toLowerCase()]);
    for (const r of hooks.requests) expect(verifier.verify({ body: r.body, headers: r.headers, nowSeconds: now })).to.equal(undefined);
    expect(verifier.remembered).to.equal(5);
    // Past the window every nonce is forgotten: a replay would be refused by its timestamp anyway.
    expect(verifier.verify({ body: "{}", headers: {}, nowSeconds: now + 61 })).to.match(/missing/);
    expect(verifier.remembered).to.equal(0);
    expect(verifier.verify({ body: hooks.requests[0].body, headers: hooks.requests[0].headers, nowSeconds: now + 61 })).to.equal("timestamp outside the tolerance window");
  });
});
