import { expect } from "chai";
import { pagerDutyNotifier } from "../../../guardian/notifiers/pagerduty";
import { alertMessage, build } from "./fixtures";
import { json, startCaptureServer, type CaptureServer } from "./local-servers";

const ROUTING_KEY = "R0123456789abcdefghijklmnopqrstu";

describe("pagerDutyNotifier", () => {
  let pd: CaptureServer;
  before(async () => {
    process.env.FAILSAFE_TEST_PD_KEY = ROUTING_KEY;
    // Events API v2: POST /v2/enqueue, 202 {status:"success", dedup_key}; 400 on a bad event.
    pd = await startCaptureServer((req, res) => {
      const event = JSON.parse(req.body) as { routing_key?: string; event_action?: string; dedup_key?: string; payload?: { summary?: string; source?: string; severity?: string } };
      const valid =
        req.path === "/v2/enqueue" &&
        event.routing_key === ROUTING_KEY &&
        ["trigger", "resolve", "acknowledge"].includes(event.event_action ?? "") &&
        (event.event_action !== "trigger" || (!!event.payload?.summary && !!event.payload.source && !!event.payload.severity));
      if (!valid) return json(res, 400, { status: "invalid event", message: "Event object is invalid" });
      json(res, 202, { status: "success", message: "Event processed", dedup_key: event.dedup_key });
    });
  });
  after(() => pd.close());

  it("triggers with routing_key and the incident's dedup_key, then resolves the same key", async () => {
    const notifier = build(pagerDutyNotifier, { baseUrl: pd.url, routingKey: { env: "FAILSAFE_TEST_PD_KEY" } });
    await notifier.send(alertMessage());
    await notifier.send(alertMessage({ id: "lift-1", kind: "lift", resolves: true }));
    const trigger = JSON.parse((await pd.request(0)).body) as Record<string, any>;
    const resolve = JSON.parse((await pd.request(1)).body) as Record<string, any>;
    expect(trigger.event_action).to.equal("trigger");
    expect(trigger.routing_key).to.equal(ROUTING_KEY);
    expect(trigger.dedup_key).to.equal("failsafe:finding-abc-0000");
    expect(trigger.payload).to.include({
      summary: "[Failsafe CRITICAL] Breaker tripped on Vault (0x…aa)",
      source: "failsafe-guardian",
      severity: "critical",
      timestamp: "2026-11-21T10:00:00.000Z",
      class: "trip",
    });
    expect(trigger.payload.custom_details.alert_id).to.equal("trip-abc-0001");
    expect(trigger.links).to.deep.equal([{ href: "https://explorer.example/tx/0xabc", text: "tx 0xabc" }]);
    expect(resolve).to.deep.equal({ routing_key: ROUTING_KEY, dedup_key: "failsafe:finding-abc-0000", event_action: "resolve" });
  });

  it("maps Failsafe severities onto PagerDuty's four", async () => {
    const notifier = build(pagerDutyNotifier, { baseUrl: pd.url, routingKey: { env: "FAILSAFE_TEST_PD_KEY" } });
    const seen: string[] = [];
    for (const severity of ["high", "medium", "low"] as const) {
      await notifier.send(alertMessage({ severity }));
      seen.push((JSON.parse(pd.requests[pd.requests.length - 1].body) as { payload: { severity: string } }).payload.severity);
    }
    expect(seen).to.deep.equal(["error", "warning", "info"]);
  });
});
