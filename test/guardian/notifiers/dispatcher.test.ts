import { expect } from "chai";
import Database from "better-sqlite3";
import pino from "pino";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ServerResponse } from "node:http";
import type { ReorgEvent } from "../../../guardian/chain/types";
import type { BlockContext } from "../../../guardian/context/types";
import { AlertConfigError, alertsConfigSchema } from "../../../guardian/notifiers/alert-routes";
import { createNotifiers } from "../../../guardian/notifiers/create-notifiers";
import { AlertDispatcher } from "../../../guardian/notifiers/dispatcher";
import type { AlertMessage } from "../../../guardian/notifiers/types";
import { AlertStore } from "../../../guardian/state/alert-store";
import { OTHER, VAULT, finding, silentLogger } from "./fixtures";
import { json, startCaptureServer, startSmtpCapture, type CapturedRequest, type CaptureServer, type SmtpCapture } from "./local-servers";

const SECRET = "dispatcher-test-secret-0123456789abcdef";
const PD_KEY = "P0123456789abcdefghijklmnopqrstu";
const BLOCK: BlockContext = { chainId: 31337, number: 1, hash: "0x01", parentHash: "0x00", timestamp: 0, transactions: [] };
const REORG: ReorgEvent = {
  chainId: 31337,
  depth: 1,
  commonAncestor: { number: 100, hash: "0xa", parentHash: "0x9", timestamp: 0 },
  orphaned: [{ number: 101, hash: "0xb", parentHash: "0xa", timestamp: 0 }],
  added: [{ number: 101, hash: "0xc", parentHash: "0xa", timestamp: 0 }],
};

function alertOf(req: CapturedRequest): AlertMessage {
  return (JSON.parse(req.body) as { alert: AlertMessage }).alert;
}

describe("AlertDispatcher", () => {
  let dir: string;
  let dbFile: string;
  let db: Database.Database;
  let store: AlertStore;
  let hooks: CaptureServer;
  /** Per path: how to answer. Default 204. */
  const behaviour = new Map<string, (res: ServerResponse, n: number) => void>();
  const seenPerPath = new Map<string, number>();
  let smtp: SmtpCapture;
  let dispatcher: AlertDispatcher | undefined;

  before(async () => {
    process.env.FAILSAFE_TEST_DISPATCH_SECRET = SECRET;
    process.env.FAILSAFE_TEST_DISPATCH_PD = PD_KEY;
    hooks = await startCaptureServer((req, res) => {
      const n = seenPerPath.get(req.path) ?? 0;
      seenPerPath.set(req.path, n + 1);
      const answer = behaviour.get(req.path);
      if (answer) return answer(res, n);
      if (req.path === "/v2/enqueue") return json(res, 202, { status: "success" });
      res.writeHead(204).end();
    });
    smtp = await startSmtpCapture();
  });
  after(async () => {
    await hooks.close();
    await smtp.close();
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-alerts-"));
    dbFile = path.join(dir, "guardian.sqlite");
    db = new Database(dbFile);
    db.pragma("journal_mode = WAL");
    store = new AlertStore(db);
    hooks.requests.length = 0;
    behaviour.clear();
    seenPerPath.clear();
  });
  afterEach(async () => {
    await dispatcher?.close();
    dispatcher = undefined;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const hook = (p: string, extra: Record<string, unknown> = {}) => ({
    type: "webhook",
    url: `${hooks.url}${p}`,
    secret: { env: "FAILSAFE_TEST_DISPATCH_SECRET" },
    ...extra,
  });

  function make(alerts: unknown, notifiers: Record<string, { type: string } & Record<string, unknown>>, closeTimeoutMs = 2_000): AlertDispatcher {
    dispatcher = new AlertDispatcher(alertsConfigSchema.parse(alerts), {
      store,
      logger: silentLogger,
      notifiers: createNotifiers(notifiers, { logger: silentLogger }),
      contracts: [
        { name: "Vault", address: VAULT },
        { name: "Other", address: OTHER },
      ],
      closeTimeoutMs,
    });
    return dispatcher;
  }

  const on = (path: string) => hooks.requests.filter((r) => r.path === path);

  it("routes by severity, detector and contract, each target once", async () => {
    const d = make(
      {
        routes: [
          { match: { minSeverity: "critical" }, notify: ["pager"] },
          { match: { detectors: ["flash-loan"] }, notify: ["loans", { notifier: "mail", to: ["loans@dao.test"] }] },
          { match: { contracts: ["Other"], minSeverity: "medium" }, notify: ["other", "mail"] },
          { match: { kinds: ["trip"] }, notify: ["trips"] },
        ],
      },
      {
        pager: hook("/pager"),
        loans: hook("/loans"),
        other: hook("/other"),
        trips: hook("/trips"),
        mail: { type: "email", host: "127.0.0.1", port: smtp.port, ignoreTLS: true, from: "guardian@failsafe.test", to: ["sec@dao.test"] },
      },
    );
    await d.onFindings(
      [
        finding({ severity: "critical", detectorId: "invariant", contract: VAULT }),
        finding({ severity: "low", detectorId: "flash-loan", contract: OTHER, chainId: 1, title: "Flash loan" }),
        finding({ severity: "medium", detectorId: "outflow", contract: OTHER, chainId: 10, title: "Outflow spike" }),
      ],
      BLOCK,
    );
    await d.idle();
    expect(on("/pager").map((r) => alertOf(r).detectorIds)).to.deep.equal([["invariant"]]);
    expect(on("/loans").map((r) => alertOf(r).detectorIds)).to.deep.equal([["flash-loan"]]);
    expect(
      on("/other")
        .map((r) => alertOf(r).detectorIds[0])
        .sort(),
    ).to.deep.equal(["outflow"]);
    expect(on("/trips")).to.have.length(0);
    const mails = smtp.mails.slice(-2).map((m) => ({ to: m.to, subject: m.headers.get("subject") }));
    expect(mails).to.have.deep.members([
      { to: ["loans@dao.test"], subject: "[Failsafe LOW] Flash loan on Other (0x00000000000000000000000000000000000000bb)" },
      { to: ["sec@dao.test"], subject: "[Failsafe MEDIUM] Outflow spike on Other (0x00000000000000000000000000000000000000bb)" },
    ]);
  });

  it("groups one incident's findings and holds further ones for the cooldown, except a severity rise", async () => {
    const d = make({ cooldownSeconds: 1, routes: [{ notify: ["all"] }] }, { all: hook("/all") });
    const [f1, f2, f3, f4, f5] = [
      finding({ severity: "high" }),
      finding({ severity: "high" }),
      finding({ severity: "medium" }),
      finding({ severity: "critical" }),
      finding({ severity: "high" }),
    ];
    const elsewhere = finding({ severity: "low", contract: OTHER });
    await d.onFindings([f1, f2, elsewhere], BLOCK);
    await d.onFindings([f3], BLOCK);
    await d.onFindings([f4], BLOCK);
    await d.onFindings([f5], BLOCK);
    const digest = alertOf(await hooks.request(3));
    await d.idle();
    const alerts = hooks.requests.map(alertOf);
    const vault = alerts.filter((a) => a.contract === VAULT);
    expect(vault.map((a) => a.findings.map((f) => f.id))).to.deep.equal([[f1.id, f2.id], [f3.id, f4.id], [f5.id]]);
    expect(vault.map((a) => a.severity)).to.deep.equal(["high", "critical", "high"]);
    expect(new Set(vault.map((a) => a.incidentKey)).size).to.equal(1);
    expect(vault[0].incidentKey).to.equal(vault[0].id);
    expect(vault[1].details[0]).to.match(/severity rose to critical/);
    expect(digest.id).to.equal(vault[2].id);
    expect(digest.details[0]).to.match(/Held during the 1 s cooldown/);
    const other = alerts.filter((a) => a.contract === OTHER);
    expect(other).to.have.length(1);
    expect(other[0].incidentKey).to.not.equal(vault[0].incidentKey);
  });

  it("retries 500s with backoff, records every attempt in the SQLite file, and sends the retraction only after", async () => {
    behaviour.set("/flaky", (res, n) => res.writeHead(n < 2 ? 500 : 204).end(n < 2 ? "upstream down" : undefined));
    const d = make({ retry: { initialDelayMs: 20, maxDelayMs: 50 }, routes: [{ notify: ["flaky"] }] }, { flaky: hook("/flaky") });
    const f = finding({ severity: "high", blockNumber: 101 });
    await d.onFindings([f], BLOCK);
    await d.onRetractions([f], REORG);
    await d.idle();

    const received = on("/flaky").map(alertOf);
    expect(received.map((a) => a.kind)).to.deep.equal(["finding", "finding", "finding", "retraction"]);
    const [original, , , retraction] = received;
    expect(retraction.retracts).to.deep.equal([original.id]);
    expect(retraction.incidentKey).to.equal(original.incidentKey);
    expect(retraction.resolves).to.equal(true);
    expect(retraction.findings.map((x) => x.id)).to.deep.equal([f.id]);

    // Read back through a separate connection: the log is on disk, not in this process's memory.
    const reader = new Database(dbFile, { readonly: true });
    try {
      const rows = reader
        .prepare(
          `SELECT d.status, d.attempts, a.attempt, a.ok, a.retryable, a.error FROM alert_deliveries d
             JOIN alert_attempts a ON a.delivery_id = d.id WHERE d.alert_id = ? ORDER BY a.attempt`,
        )
        .all(original.id);
      expect(rows).to.deep.equal([
        { status: "delivered", attempts: 3, attempt: 1, ok: 0, retryable: 1, error: "webhook: HTTP 500: upstream down" },
        { status: "delivered", attempts: 3, attempt: 2, ok: 0, retryable: 1, error: "webhook: HTTP 500: upstream down" },
        { status: "delivered", attempts: 3, attempt: 3, ok: 1, retryable: null, error: null },
      ]);
      const retracted = reader.prepare("SELECT retracted_by FROM alert_findings WHERE finding_id = ?").get(f.id);
      expect(retracted).to.deep.equal({ retracted_by: retraction.id });
    } finally {
      reader.close();
    }
  });

  it("gives up after maxAttempts, and at once on a permanent rejection", async () => {
    behaviour.set("/down", (res) => res.writeHead(503).end());
    behaviour.set("/gone", (res) => res.writeHead(410).end());
    const d = make(
      { retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 10 }, routes: [{ notify: ["down", "gone"] }] },
      { down: hook("/down"), gone: hook("/gone") },
    );
    await d.onFindings([finding()], BLOCK);
    await d.idle();
    const [alert] = (await store.alerts());
    const byNotifier = Object.fromEntries((await store.deliveries(alert.id)).map((x) => [x.notifier, x]));
    expect(byNotifier.down).to.include({ status: "failed", attempts: 3, lastError: "webhook: HTTP 503" });
    expect(byNotifier.gone).to.include({ status: "failed", attempts: 1, lastError: "webhook: HTTP 410" });
  });

  it("lists at most 50 findings in one alert yet can retract any of them", async () => {
    const d = make({ routes: [{ notify: ["all"] }] }, { all: hook("/all") });
    const flood = Array.from({ length: 120 }, () => finding({ severity: "low" }));
    await d.onFindings(flood, BLOCK);
    await d.onRetractions([flood[99]], REORG);
    await d.idle();
    const [alert, retraction] = hooks.requests.map(alertOf);
    expect(alert.title).to.match(/^120 findings on Vault/);
    expect(alert.findings).to.have.length(50);
    expect(alert.details).to.deep.equal(["…and 70 more findings, all in the alert log."]);
    expect(retraction).to.include({ kind: "retraction", resolves: false });
    expect(retraction.retracts).to.deep.equal([alert.id]);
    expect(retraction.findings.map((f) => f.id)).to.deep.equal([flood[99].id]);
  });

  it("drops a held finding silently when it is retracted before anyone saw it", async () => {
    const d = make({ cooldownSeconds: 1, routes: [{ notify: ["all"] }] }, { all: hook("/all") });
    const seen = finding({ severity: "high" });
    const held = finding({ severity: "high" });
    await d.onFindings([seen], BLOCK);
    await d.onFindings([held], BLOCK);
    await d.onRetractions([held], REORG);
    await d.idle();
    await d.close();
    expect(hooks.requests.map(alertOf).map((a) => a.findings.map((f) => f.id))).to.deep.equal([[seen.id]]);
  });

  it("sends held findings as a digest on shutdown instead of losing them", async () => {
    const d = make({ cooldownSeconds: 3600, routes: [{ notify: ["all"] }] }, { all: hook("/all") });
    const [first, held] = [finding({ severity: "medium" }), finding({ severity: "medium" })];
    await d.onFindings([first], BLOCK);
    await d.onFindings([held], BLOCK);
    await d.idle();
    expect(hooks.requests).to.have.length(1);
    await d.close();
    const alerts = hooks.requests.map(alertOf);
    expect(alerts.map((a) => a.findings.map((f) => f.id))).to.deep.equal([[first.id], [held.id]]);
    expect((await store.deliveries(alerts[1].id)).map((x) => x.status)).to.deep.equal(["delivered"]);
  });

  it("alerts on a trip and on its lift with one PagerDuty dedup_key, and resolves it", async () => {
    const d = make(
      { explorers: { "31337": "https://explorer.test" }, routes: [{ match: { minSeverity: "high" }, notify: ["pd", "audit"] }] },
      { pd: { type: "pagerduty", baseUrl: hooks.url, routingKey: { env: "FAILSAFE_TEST_DISPATCH_PD" } }, audit: hook("/audit") },
    );
    const f = finding({ severity: "critical" });
    await d.onFindings([f], BLOCK);
    d.alertTrip({ incidentId: `0x${"ab".repeat(32)}`, chainId: 31337, breaker: VAULT, findings: [f], txHash: "0xtrip", blockNumber: 102, expiresAt: 1_800_000_000 });
    d.alertLift({ incidentId: `0x${"ab".repeat(32)}`, chainId: 31337, breaker: VAULT, txHash: "0xlift", note: "Lifted by governance through the timelock." });
    await d.idle();
    const events = on("/v2/enqueue").map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string; payload?: { class: string } });
    expect(events.map((e) => e.event_action)).to.deep.equal(["trigger", "trigger", "resolve"]);
    expect(new Set(events.map((e) => e.dedup_key)).size).to.equal(1);
    const audit = on("/audit").map(alertOf);
    expect(audit.map((a) => a.kind)).to.deep.equal(["finding", "trip", "lift"]);
    expect(audit[1].incidentId).to.equal(`0x${"ab".repeat(32)}`);
    expect(audit[1].details[0]).to.equal("The trip lapses at 2027-01-15T08:00:00.000Z unless governance ratifies it.");
    expect(audit[1].links.map((l) => l.url)).to.deep.equal(["https://explorer.test/tx/0xtrip", `https://explorer.test/tx/${f.txHash}`]);
    expect(audit[2]).to.include({ resolves: true, severity: "critical" });
    expect(audit[2].details).to.deep.equal(["Lifted by governance through the timelock."]);

    // After the lift the contract's next finding opens a new incident.
    await d.onFindings([finding({ severity: "high" })], BLOCK);
    await d.idle();
    const next = on("/audit").map(alertOf)[3];
    expect(next.incidentKey).to.not.equal(audit[0].incidentKey);
  });

  it("turns failsafe-watch's Tripped and Lifted findings into one trip and one lift alert per incident", async () => {
    const d = make({ routes: [{ notify: ["audit"] }] }, { audit: hook("/audit") });
    const incidentId = `0x${"cd".repeat(32)}`;
    const cause = finding({ severity: "critical" });
    const watch = (event: string, args: Record<string, unknown>) =>
      finding({ detectorId: "failsafe-watch", severity: "high", title: `${event} on Vault`, evidence: { event, contract: VAULT, args } });
    const tripped = watch("Tripped", { incidentId, guardian: "0x00000000000000000000000000000000000000ee", expiresAt: "1800000000" });
    await d.onFindings([cause], BLOCK);
    // The responder announces the trip when it lands; the Tripped event follows from the chain.
    d.alertTrip({ incidentId, chainId: 31337, breaker: VAULT, findings: [cause] });
    await d.onFindings([tripped], BLOCK);
    await d.onFindings([watch("Lifted", { incidentId, liftedBy: "0x00000000000000000000000000000000000000ff" })], BLOCK);
    await d.idle();
    const alerts = on("/audit").map(alertOf);
    expect(alerts.map((a) => a.kind)).to.deep.equal(["finding", "trip", "lift"]);
    expect(alerts[1].incidentId).to.equal(incidentId);
    expect(alerts[2]).to.include({ incidentId, resolves: true, incidentKey: alerts[0].incidentKey });
    expect(alerts[2].details).to.deep.equal(["Lifted by 0x00000000000000000000000000000000000000ff."]);
    // The on-chain Tripped finding was attached to the responder's trip alert, so a reorg of it is retracted.
    expect((await store.liveAlertsForFinding(tripped.id)).map((x) => x.alertId)).to.deep.equal([alerts[1].id]);
  });

  it("returns from onFindings while a notifier hangs, keeps other channels flowing, and resumes after a restart", async () => {
    let release: (() => void) | undefined;
    behaviour.set("/hang", (res) => {
      release = () => res.writeHead(204).end();
    });
    const d = make({ routes: [{ notify: ["hang", "ok"] }] }, { hang: hook("/hang"), ok: hook("/ok") }, 50);
    const f = finding({ severity: "critical" });
    await d.onFindings([f], BLOCK);
    // onFindings has returned; the hanging endpoint has not answered, yet the other channel delivered.
    await hooks.request(0);
    await new Promise<void>((resolve) => {
      const check = () => (on("/ok").length > 0 && release ? resolve() : setTimeout(check, 5));
      check();
    });
    const [alert] = (await store.alerts());
    const hanging = (await store.deliveries(alert.id)).find((x) => x.notifier === "hang");
    expect(hanging).to.include({ status: "pending", attempts: 1 });
    expect((await store.attempts(hanging!.id))[0].finishedAt).to.equal(null);

    // Shutdown does not wait for it beyond closeTimeoutMs; the delivery stays pending for the next run.
    await d.close();
    dispatcher = undefined;
    expect((await store.deliveries(alert.id)).find((x) => x.notifier === "hang")?.status).to.equal("pending");
    release?.();

    behaviour.delete("/hang");
    const restarted = make({ routes: [{ notify: ["hang", "ok"] }] }, { hang: hook("/hang"), ok: hook("/ok") });
    await restarted.idle();
    expect((await store.deliveries(alert.id)).find((x) => x.notifier === "hang")).to.include({ status: "delivered" });
    expect(on("/hang").map(alertOf).every((a) => a.id === alert.id)).to.equal(true);
  });

  it("never writes a credential to the log, even when the URL that failed is the credential", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "trace" }, { write: (line: string) => lines.push(line) });
    process.env.FAILSAFE_TEST_DISPATCH_SLACK = `${hooks.url}/services/T0/B0/sekrit-token-123`;
    behaviour.set("/services/T0/B0/sekrit-token-123", (res) => res.writeHead(403).end("invalid_token"));
    const notifiers = createNotifiers({ slack: { type: "slack", webhookUrl: { env: "FAILSAFE_TEST_DISPATCH_SLACK" } } }, { logger });
    dispatcher = new AlertDispatcher(alertsConfigSchema.parse({ routes: [{ notify: ["slack"] }] }), { store, logger, notifiers });
    await dispatcher.onFindings([finding()], BLOCK);
    await dispatcher.idle();
    logger.info({ notifiers: [...notifiers.values()] }, "configured");
    const log = lines.join("");
    expect(log).to.include("alert delivery failed");
    expect(log).to.include("slack: HTTP 403: invalid_token");
    expect(log).to.not.include("sekrit-token-123");
  });

  it("rejects routes that name unknown notifiers, contracts or malformed recipients, with their paths", () => {
    expect(() =>
      make(
        {
          routes: [
            { notify: ["pagr"] },
            { match: { contracts: ["Treasury"] }, notify: [{ notifier: "hook", to: ["x@y.z"] }] },
            { notify: [{ notifier: "mail", to: ["not-an-address"] }] },
          ],
        },
        { hook: hook("/x"), mail: { type: "email", host: "127.0.0.1", from: "a@b.c" } },
      ),
    )
      .to.throw(AlertConfigError)
      .with.property("problems")
      .that.deep.equals([
        'alerts.routes[0].notify[0]: no notifier named "pagr" (known: hook, mail)',
        'alerts.routes[1].notify[0].to: notifier "hook" (webhook) has no recipients',
        'alerts.routes[1].match.contracts[0]: "Treasury" is neither an address nor a protected contract\'s name',
        'alerts.routes[2].notify[0].to[0]: expected an email address, got "not-an-address"',
      ]);
    expect(() => createNotifiers({ sms: { type: "twilio-sms", accountSid: "AC1" } }, { logger: silentLogger }))
      .to.throw(AlertConfigError)
      .with.property("message")
      .that.matches(/notifiers\.sms\.accountSid: expected a Twilio Account SID/);
  });
});
