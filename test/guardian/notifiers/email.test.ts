import { expect } from "chai";
import { emailNotifier } from "../../../guardian/notifiers/email";
import { DeliveryError } from "../../../guardian/notifiers/delivery-error";
import { alertMessage, build } from "./fixtures";
import { startSmtpCapture, type SmtpCapture } from "./local-servers";

describe("emailNotifier", () => {
  let smtp: SmtpCapture;
  before(async () => {
    process.env.FAILSAFE_TEST_SMTP_PASS = "s3cret-smtp";
    smtp = await startSmtpCapture({ user: "guardian", pass: "s3cret-smtp", rejectFirst: 0 });
  });
  after(async () => {
    await smtp.close();
  });

  const params = () => ({
    host: "127.0.0.1",
    port: smtp.port,
    ignoreTLS: true,
    auth: { user: "guardian", pass: { env: "FAILSAFE_TEST_SMTP_PASS" } },
    from: "Failsafe <guardian@failsafe.test>",
    to: ["sec@dao.test"],
  });

  it("authenticates and delivers a threaded alert the SMTP server receives and parses", async () => {
    const notifier = build(emailNotifier, params());
    expect(notifier.defaultRecipients).to.deep.equal(["sec@dao.test"]);
    const message = alertMessage();
    await notifier.send(message, "sec@dao.test");
    const mail = await smtp.mail(0);
    expect(mail.user).to.equal("guardian");
    expect(mail.from).to.equal("guardian@failsafe.test");
    expect(mail.to).to.deep.equal(["sec@dao.test"]);
    expect(mail.headers.get("subject")).to.equal("[Failsafe CRITICAL] Breaker tripped on Vault (0x…aa)");
    expect(mail.headers.get("message-id")).to.equal("<trip-abc-0001@failsafe.alerts>");
    expect(mail.headers.get("in-reply-to")).to.equal("<finding-abc-0000@failsafe.alerts>");
    expect(mail.headers.get("x-failsafe-alert-id")).to.equal("trip-abc-0001");
    expect(mail.headers.get("x-failsafe-alert-kind")).to.equal("trip");
    expect(mail.body).to.include("The circuit breaker was tripped on chain 31337.");
    expect(mail.body).to.include("- [critical] reentrancy: Reentrant withdraw (block 7 0x07 tx 0xabc)");
    expect(mail.body).to.include("tx 0xabc: https://explorer.example/tx/0xabc");
    await notifier.close?.();
  });

  it("replies to the retracted alert so it lands in the same thread", async () => {
    const notifier = build(emailNotifier, params());
    await notifier.send(alertMessage({ id: "retraction-1", kind: "retraction", retracts: ["finding-abc-0000"] }), "sec@dao.test");
    const mail = await smtp.mail(1);
    expect(mail.headers.get("subject")).to.match(/^\[Failsafe RETRACTED\]/);
    expect(mail.headers.get("in-reply-to")).to.equal("<finding-abc-0000@failsafe.alerts>");
    expect(mail.body).to.include("Retracts alert finding-abc-0000");
    await notifier.close?.();
  });

  it("classifies a wrong password as not retryable", async () => {
    process.env.FAILSAFE_TEST_SMTP_WRONG = "wrong";
    const notifier = build(emailNotifier, { ...params(), auth: { user: "guardian", pass: { env: "FAILSAFE_TEST_SMTP_WRONG" } } });
    const err = await notifier.send(alertMessage(), "sec@dao.test").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(DeliveryError);
    expect((err as DeliveryError).retryable).to.equal(false);
    expect((err as DeliveryError).message).to.not.include("wrong");
    await notifier.close?.();
  });

  it("classifies a 4xx SMTP reply (mailbox busy) as retryable", async () => {
    const busy = await startSmtpCapture({ rejectFirst: 1 });
    try {
      const notifier = build(emailNotifier, { host: "127.0.0.1", port: busy.port, ignoreTLS: true, from: "guardian@failsafe.test" });
      const err = (await notifier.send(alertMessage(), "sec@dao.test").catch((e: unknown) => e)) as DeliveryError;
      expect(err.message).to.match(/^email: SMTP 451/);
      expect(err.retryable).to.equal(true);
      await notifier.send(alertMessage(), "sec@dao.test");
      expect((await busy.mail(0)).to).to.deep.equal(["sec@dao.test"]);
      await notifier.close?.();
    } finally {
      await busy.close();
    }
  });

  it("refuses config whose password variable is unset, naming the variable", () => {
    delete process.env.FAILSAFE_TEST_SMTP_UNSET;
    const result = emailNotifier.params.safeParse({ ...params(), auth: { user: "g", pass: { env: "FAILSAFE_TEST_SMTP_UNSET" } } });
    expect(result.success).to.equal(false);
    if (!result.success) {
      expect(result.error.issues[0].path).to.deep.equal(["auth", "pass"]);
      expect(result.error.issues[0].message).to.equal("environment variable FAILSAFE_TEST_SMTP_UNSET is not set");
    }
  });
});
