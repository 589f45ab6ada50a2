import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, parseConfig } from "../../../guardian/config/load-config";
import { createAlertSinks } from "../../../guardian/notifiers/create-alert-sinks";
import type { AlertMessage } from "../../../guardian/notifiers/types";
import { GuardianMetrics } from "../../../guardian/ops/metrics";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { finding, silentLogger } from "./fixtures";
import { startCaptureServer, type CaptureServer } from "./local-servers";

const config = (hookUrl: string, route: string) => `
chains:
  - id: 31337
    rpc: [http://127.0.0.1:8545]
contracts:
  - name: Vault
    chain: 31337
    address: "0x00000000000000000000000000000000000000aa"
    abi: PausableVault
notifiers:
  ops-hook:
    type: webhook
    url: ${hookUrl}/alerts
    secret: { env: FAILSAFE_TEST_SINK_SECRET }
alerts:
  cooldownSeconds: 60
  routes:
    - match: { contracts: [${route}], minSeverity: high }
      notify: [ops-hook]
`;

describe("createAlertSinks", () => {
  let dir: string;
  let db: Db;
  let hook: CaptureServer;
  before(async () => {
    process.env.FAILSAFE_TEST_SINK_SECRET = "sink-test-secret-0123456789abcdefghij";
    hook = await startCaptureServer((_req, res) => res.writeHead(204).end());
  });
  after(() => hook.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-alert-sinks-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("builds the dispatcher from the YAML's notifiers and alerts sections, routes naming contracts by name", async () => {
    const loaded = parseConfig(config(hook.url, "Vault"), path.join(dir, "failsafe.yaml"));
    const metrics = new GuardianMetrics();
    const sinks = createAlertSinks({ loaded, db, logger: silentLogger, metrics });
    expect(sinks.map((s) => s.name)).to.deep.equal(["alerts"]);
    const f = finding({ severity: "critical" });
    await sinks[0].onFindings([f], { chainId: 31337, number: 1, hash: "0x01", parentHash: "0x00", timestamp: 0, transactions: [] });
    const alert = (JSON.parse((await hook.request(0)).body) as { alert: AlertMessage }).alert;
    expect(alert.findings.map((x) => x.id)).to.deep.equal([f.id]);
    expect(alert.title).to.equal(`${f.title} on Vault (0x00000000000000000000000000000000000000aa)`);
    await sinks[0].close?.();
    const exposition = await metrics.registry.metrics();
    expect(exposition).to.include('failsafe_alerts_total{kind="finding",severity="critical"} 1');
    expect(exposition).to.include('failsafe_alert_delivery_attempts_total{notifier="ops-hook",outcome="delivered"} 1');
  });

  it("reports a route to an unknown contract as a ConfigError naming the file and path", () => {
    const file = path.join(dir, "failsafe.yaml");
    const loaded = parseConfig(config(hook.url, "Treasury"), file);
    expect(() => createAlertSinks({ loaded, db, logger: silentLogger, metrics: new GuardianMetrics() }))
      .to.throw(ConfigError)
      .with.property("message", `${file}: invalid config\n  alerts.routes[0].match.contracts[0]: "Treasury" is neither an address nor a protected contract's name`);
  });
});
