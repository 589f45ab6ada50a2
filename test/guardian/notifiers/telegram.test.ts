import { expect } from "chai";
import { DeliveryError } from "../../../guardian/notifiers/delivery-error";
import { telegramNotifier } from "../../../guardian/notifiers/telegram";
import { alertMessage, build } from "./fixtures";
import { json, startCaptureServer, type CaptureServer } from "./local-servers";

const TOKEN = "123456:ABC-def_ghi";

describe("telegramNotifier", () => {
  let telegram: CaptureServer;
  before(async () => {
    process.env.FAILSAFE_TEST_TELEGRAM_TOKEN = TOKEN;
    // The Bot API: POST /bot<token>/sendMessage, answers {ok:true,result} or {ok:false,error_code,description}.
    telegram = await startCaptureServer((req, res) => {
      if (req.path !== `/bot${TOKEN}/sendMessage`) return json(res, 404, { ok: false, error_code: 404, description: "Not Found" });
      const body = JSON.parse(req.body) as { chat_id: string; text: string };
      if (body.chat_id === "-100999")
        return json(res, 429, { ok: false, error_code: 429, description: "Too Many Requests: retry after 7", parameters: { retry_after: 7 } });
      if (body.chat_id === "-100404") return json(res, 400, { ok: false, error_code: 400, description: "Bad Request: chat not found" });
      json(res, 200, { ok: true, result: { message_id: 1, chat: { id: Number(body.chat_id) }, text: body.text } });
    });
  });
  after(() => telegram.close());

  const params = () => ({ apiBaseUrl: telegram.url, botToken: { env: "FAILSAFE_TEST_TELEGRAM_TOKEN" }, chatIds: ["-1001234"] });

  it("calls sendMessage under /bot<token>/ with the chat id and plain text", async () => {
    const notifier = build(telegramNotifier, params());
    expect(notifier.defaultRecipients).to.deep.equal(["-1001234"]);
    await notifier.send(alertMessage(), "-1001234");
    const req = await telegram.request(0);
    expect(req.path).to.equal(`/bot${TOKEN}/sendMessage`);
    const body = JSON.parse(req.body) as Record<string, unknown>;
    expect(body.chat_id).to.equal("-1001234");
    expect(body.parse_mode).to.equal(undefined);
    expect(body.disable_web_page_preview).to.equal(true);
    expect(body.text).to.match(/^\[Failsafe CRITICAL\] Breaker tripped on Vault \(0x…aa\)\n\nThe circuit breaker was tripped/);
  });

  it("reads retry_after from a 429 body and treats an unknown chat as permanent", async () => {
    const notifier = build(telegramNotifier, params());
    const limited = (await notifier.send(alertMessage(), "-100999").catch((e: unknown) => e)) as DeliveryError;
    expect(limited.retryable).to.equal(true);
    expect(limited.retryAfterMs).to.equal(7000);
    const missing = (await notifier.send(alertMessage(), "-100404").catch((e: unknown) => e)) as DeliveryError;
    expect(missing.retryable).to.equal(false);
    expect(missing.message).to.include("chat not found");
    expect(missing.message).to.not.include(TOKEN);
  });

  it("rejects a malformed bot token at config load", () => {
    process.env.FAILSAFE_TEST_TELEGRAM_BAD = "not a token";
    const result = telegramNotifier.params.safeParse({ ...params(), botToken: { env: "FAILSAFE_TEST_TELEGRAM_BAD" } });
    expect(result.success).to.equal(false);
    if (!result.success) expect(result.error.issues[0].path).to.deep.equal(["botToken"]);
  });
});
