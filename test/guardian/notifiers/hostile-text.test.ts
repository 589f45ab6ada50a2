import { expect } from "chai";
import { renderIncidentMarkdown, type IncidentRecord } from "../../../guardian/reports/incident-record";
import { discordNotifier } from "../../../guardian/notifiers/discord";
import { emailNotifier } from "../../../guardian/notifiers/email";
import { slackNotifier } from "../../../guardian/notifiers/slack";
import { telegramNotifier } from "../../../guardian/notifiers/telegram";
import { alertMessage, build, finding } from "./fixtures";
import { startCaptureServer, startSmtpCapture, type CaptureServer, type SmtpCapture } from "./local-servers";

/**
 * A token whose symbol is chosen by the attacker ends up in finding titles, alerts and reports. Each channel must show
 * it as text: no Slack `<!channel>` ping or `<url|label>` link, no Markdown link or heading in Discord or the
 * incident report, no terminal escape sequence (which recolours or rewrites a terminal) in email or Telegram.
 */
const SYMBOL = "<!channel> [Claim refund](https://evil.example/drain) <https://evil.example|official> \u001b[2J\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007 \u202eevil";
const TITLE = `Outflow of 1,000,000 ${SYMBOL} from Vault`;

describe("attacker-controlled text in every channel", () => {
  let hooks: CaptureServer;
  let smtp: SmtpCapture;

  before(async () => {
    hooks = await startCaptureServer((_req, res) => {
      if (_req.path.includes("/sendMessage")) res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true,"result":{}}');
      else res.writeHead(204).end();
    });
    smtp = await startSmtpCapture();
    process.env.FAILSAFE_HOSTILE_SLACK = `${hooks.url}/slack`;
    process.env.FAILSAFE_HOSTILE_DISCORD = `${hooks.url}/discord`;
    process.env.FAILSAFE_HOSTILE_TELEGRAM = "123456:hostile-test-token";
  });
  after(async () => {
    await hooks.close();
    await smtp.close();
  });

  const message = () =>
    alertMessage({
      title: TITLE,
      summary: `The token ${SYMBOL} left the vault.`,
      findings: [{ id: "f-1", detectorId: "outflow-spike", severity: "critical", title: TITLE, blockNumber: 7, blockHash: "0x07", txHash: "0xabc" }],
    });
  const noEscapes = (text: string) => {
    expect(text).to.not.match(/\u001b/);
    expect(text).to.not.include("\u202e");
    expect(text).to.not.include("\u0007");
  };

  it("Slack: the mrkdwn text has no mention or link, the blocks are plain text without escapes", async () => {
    await build(slackNotifier, { webhookUrl: { env: "FAILSAFE_HOSTILE_SLACK" } }).send(message());
    const body = JSON.parse(hooks.requests.filter((r) => r.path === "/slack").at(-1)!.body) as { text: string; blocks: { text: { type: string; text: string } }[] };
    expect(body.text).to.not.include("<!channel>");
    expect(body.text).to.not.match(/<https?:/);
    expect(body.text).to.include("&lt;!channel&gt;");
    for (const b of body.blocks) expect(b.text.type).to.equal("plain_text");
    noEscapes(hooks.requests.at(-1)!.body.replace(/\\u001b/g, "\u001b"));
  });

  it("Discord: the embed shows the link syntax as text, mentions are off", async () => {
    await build(discordNotifier, { webhookUrl: { env: "FAILSAFE_HOSTILE_DISCORD" } }).send(message());
    const body = JSON.parse(hooks.requests.filter((r) => r.path === "/discord").at(-1)!.body) as { allowed_mentions: { parse: string[] }; embeds: { title: string; description: string }[] };
    expect(body.allowed_mentions.parse).to.deep.equal([]);
    const { title, description } = body.embeds[0];
    expect(description, "no Markdown link").to.not.match(/(^|[^\\])\[Claim refund(\\?)\]\(/);
    expect(description).to.include("\\[Claim refund\\](https://evil.example/drain)");
    noEscapes(description);
    noEscapes(title);
  });

  it("Telegram (plain text) and email: no terminal escape sequence or bidi override reaches the reader", async () => {
    await build(telegramNotifier, { botToken: { env: "FAILSAFE_HOSTILE_TELEGRAM" }, apiBaseUrl: hooks.url, chatIds: ["42"] }).send(message(), "42");
    const telegram = JSON.parse(hooks.requests.filter((r) => r.path.includes("/sendMessage")).at(-1)!.body) as { text: string; parse_mode?: string };
    expect(telegram.parse_mode).to.equal(undefined);
    noEscapes(telegram.text);
    expect(telegram.text).to.include("[Claim refund](https://evil.example/drain)");

    const mailer = build(emailNotifier, { host: "127.0.0.1", port: smtp.port, ignoreTLS: true, from: "guardian@failsafe.test", to: ["sec@dao.test"] });
    await mailer.send(message(), "sec@dao.test");
    const mail = await smtp.mail(smtp.mails.length - 1);
    noEscapes(mail.raw);
    noEscapes(mail.headers.get("subject") ?? "");
    await mailer.close?.();
  });

  it("the incident report (Markdown): no link, heading or escape from the title, and the evidence cannot close its fence", () => {
    const hostile = finding({ title: TITLE, severity: "critical", evidence: { symbol: SYMBOL, note: "```\n# Injected heading\n[x](https://evil.example)" } });
    const record: IncidentRecord = {
      id: `0x${"ab".repeat(32)}`,
      chainId: 31337,
      breaker: "0x00000000000000000000000000000000000000aa",
      breakerName: `Vault ${SYMBOL}`,
      status: "tripped",
      dryRun: false,
      openedAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
      findings: [hostile],
      timeline: [{ step: "failed", at: "2026-01-01T00:00:00.000Z", ms: 1, detail: `revert: ${SYMBOL}` }],
      bundleHashes: [],
      governance: [],
      notes: [`note quoting ${SYMBOL}`],
      error: `trip would revert: ${SYMBOL}`,
      files: { json: "/tmp/x.json", markdown: "/tmp/x.md" },
    };
    const md = renderIncidentMarkdown(record);
    noEscapes(md);
    const outsideFences = md.replace(/(`{3,})json\n[\s\S]*?\n\1\n/g, "");
    expect(outsideFences, "no live Markdown link").to.not.match(/(^|[^\\])\[Claim refund\\?\]\(https/);
    expect(outsideFences).to.not.match(/^# Injected/m);
    expect(outsideFences).to.include("\\[Claim refund\\]");
    // The evidence's own ``` cannot end the block it is shown in.
    const fence = /^(`{3,})json$/m.exec(md)![1];
    expect(fence.length).to.be.greaterThan(3);
  });
});
