import { expect } from "chai";
import Database from "better-sqlite3";
import pino from "pino";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BlockContext } from "../../../guardian/context/types";
import { alertsConfigSchema } from "../../../guardian/notifiers/alert-routes";
import { createNotifiers } from "../../../guardian/notifiers/create-notifiers";
import { AlertDispatcher } from "../../../guardian/notifiers/dispatcher";
import { AlertStore } from "../../../guardian/state/alert-store";
import { finding } from "./fixtures";
import { startCaptureServer, type CaptureServer } from "./local-servers";

const BLOCK: BlockContext = { chainId: 31337, number: 1, hash: "0x01", parentHash: "0x00", timestamp: 0, transactions: [] };
const SLACK_TOKEN = "slackSEKRITxoxb0123456789";
const DISCORD_TOKEN = "discordSEKRIT_abcdefghijklmnop";
const TELEGRAM_TOKEN = "123456:telegramSEKRIT-ABCdef";
const TWILIO_TOKEN = "twilioSEKRITauthtoken0123456789";
const WEBHOOK_SECRET = "webhookSEKRIT-0123456789abcdef0123456789";
const SECRETS = [SLACK_TOKEN, DISCORD_TOKEN, TELEGRAM_TOKEN, TWILIO_TOKEN, WEBHOOK_SECRET, Buffer.from(`AC${"0".repeat(32)}:${TWILIO_TOKEN}`).toString("base64")];

/**
 * A gateway in front of every alert endpoint that answers 502 and echoes the whole request back: URL, headers and
 * body. The URL is the credential for Slack, Discord and Telegram, and Twilio's Basic auth header is too; none of it
 * may reach the log or the alert store (the SQLite file).
 */
describe("alert endpoints that echo the request in their error body", () => {
  let dir: string;
  let echo: CaptureServer;

  before(async () => {
    echo = await startCaptureServer((req, res) => {
      res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ error: "bad gateway", echo: { path: req.path, headers: req.headers, body: req.body } }));
    });
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-echo-"));
    process.env.FAILSAFE_ECHO_SLACK = `${echo.url}/services/T0/B0/${SLACK_TOKEN}`;
    process.env.FAILSAFE_ECHO_DISCORD = `${echo.url}/api/webhooks/1/${DISCORD_TOKEN}`;
    process.env.FAILSAFE_ECHO_TELEGRAM = TELEGRAM_TOKEN;
    process.env.FAILSAFE_ECHO_TWILIO = TWILIO_TOKEN;
    process.env.FAILSAFE_ECHO_WEBHOOK = WEBHOOK_SECRET;
  });
  after(async () => {
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the status and a withheld-body note, never the echoed credentials, in the log and the SQLite store", async () => {
    const dbFile = path.join(dir, "guardian.sqlite");
    const logFile = path.join(dir, "guardian.log");
    const db = new Database(dbFile);
    db.pragma("journal_mode = WAL");
    const logger = pino({ level: "trace" }, pino.destination({ dest: logFile, sync: true }));
    const notifiers = createNotifiers(
      {
        slack: { type: "slack", webhookUrl: { env: "FAILSAFE_ECHO_SLACK" } },
        discord: { type: "discord", webhookUrl: { env: "FAILSAFE_ECHO_DISCORD" } },
        telegram: { type: "telegram", botToken: { env: "FAILSAFE_ECHO_TELEGRAM" }, apiBaseUrl: echo.url, chatIds: ["42"] },
        sms: { type: "twilio-sms", baseUrl: echo.url, accountSid: `AC${"0".repeat(32)}`, authToken: { env: "FAILSAFE_ECHO_TWILIO" }, from: "+15550000000", to: ["+15551111111"] },
        hook: { type: "webhook", url: `${echo.url}/hook`, secret: { env: "FAILSAFE_ECHO_WEBHOOK" } },
      },
      { logger },
    );
    const dispatcher = new AlertDispatcher(alertsConfigSchema.parse({ retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 }, routes: [{ notify: ["slack", "discord", "telegram", "sms", "hook"] }] }), {
      store: new AlertStore(db),
      logger,
      notifiers,
    });
    await dispatcher.onFindings([finding({ severity: "critical" })], BLOCK);
    await dispatcher.idle();
    await dispatcher.close();
    expect(echo.requests.length, "every notifier tried").to.be.at.least(5);
    expect(echo.requests.some((r) => r.path.includes(SLACK_TOKEN)), "the echo server did see the token").to.equal(true);

    const store = new AlertStore(db);
    const [alert] = (await store.alerts());
    const deliveries = (await store.deliveries(alert.id));
    expect(deliveries.map((d) => d.status)).to.deep.equal(deliveries.map(() => "failed"));
    for (const d of deliveries) expect(d.lastError).to.match(/HTTP 502: bad gateway \(response body withheld \(\d+ bytes\)\)$/);
    db.close();

    const files = [dbFile, `${dbFile}-wal`, logFile].filter((f) => existsSync(f));
    for (const file of files) {
      const bytes = readFileSync(file).toString("latin1");
      for (const secret of SECRETS) expect(bytes.includes(secret), `${path.basename(file)} holds ${secret.slice(0, 12)}…`).to.equal(false);
    }
    expect(readFileSync(logFile, "utf8")).to.include("alert delivery failed");
  });
});
