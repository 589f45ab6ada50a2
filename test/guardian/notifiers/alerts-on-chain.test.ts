import { expect } from "chai";
import { JsonRpcProvider, Wallet, ZeroAddress, id as keccakUtf8 } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MockERC20__factory, PausableVault__factory, TimelockedRecovery__factory } from "../../../typechain-types";
import type { PausableVault } from "../../../typechain-types";
import { parseConfig } from "../../../guardian/config/load-config";
import type { FindingSink } from "../../../guardian/decisions/types";
import { startGuardian, type RunningGuardian } from "../../../guardian/guardian";
import { createAlertSinks } from "../../../guardian/notifiers/create-alert-sinks";
import type { AlertMessage } from "../../../guardian/notifiers/types";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { GuardianMetrics } from "../../../guardian/ops/metrics";
import { buildGovernancePayload } from "../../../guardian/reports/governance-payloads";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { silentLogger } from "./fixtures";
import { startCaptureServer, type CaptureServer } from "./local-servers";

/** The loop a security team lives through: a trip alerts them, and the lift governance executes closes it. */
describe("alerts from the running guardian", () => {
  const DELAY = 60n;
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let hook: CaptureServer;
  let dir: string;
  let db: Db;
  let guardian: RunningGuardian | undefined;
  let sinks: FindingSink[] = [];
  let vault: PausableVault;
  let timelockAddress: string;
  let proposer: Wallet;
  let guardianKey: Wallet;

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, undefined, { cacheTimeout: -1 });
    const deployer = new Wallet(anvilKey(0), provider);
    proposer = new Wallet(anvilKey(1), provider);
    guardianKey = new Wallet(anvilKey(2), provider);
    const token = await (await new MockERC20__factory(deployer).deploy("Asset", "AST", 18)).waitForDeployment();
    const timelock = await (await new TimelockedRecovery__factory(deployer).deploy(DELAY, [proposer.address], [ZeroAddress], ZeroAddress)).waitForDeployment();
    timelockAddress = await timelock.getAddress();
    vault = await (
      await new PausableVault__factory(deployer).deploy(await token.getAddress(), "Vault", "fsAST", {
        governance: timelockAddress,
        recovery: Wallet.createRandom().address,
        guardians: [guardianKey.address],
        tripDuration: 3_600,
        outflowBps: 0,
        outflowWindow: 0,
        outflowAction: 0,
        claimDelay: 3_600,
      })
    ).waitForDeployment();

    hook = await startCaptureServer((_req, res) => res.writeHead(204).end());
    process.env.FAILSAFE_TEST_ONCHAIN_SECRET = "on-chain-alerts-secret-0123456789abcdef";
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-alerts-chain-"));
    const file = path.join(dir, "failsafe.yaml");
    const loaded = parseConfig(
      `
chains:
  - id: 31337
    rpc: [${anvil.url}]
    confirmations: 0
    pollIntervalMs: 100
    detectors:
      failsafe-watch: { timelock: governance }
contracts:
  - { name: vault, chain: 31337, address: "${await vault.getAddress()}", abi: PausableVault }
  - { name: governance, chain: 31337, address: "${timelockAddress}", abi: TimelockedRecovery }
notifiers:
  security:
    type: webhook
    url: ${hook.url}/failsafe
    secret: { env: FAILSAFE_TEST_ONCHAIN_SECRET }
alerts:
  routes:
    - match: { kinds: [trip, lift] }
      notify: [security]
`,
      file,
    );
    db = openDatabase(path.join(dir, "guardian.sqlite"));
    const metrics = new GuardianMetrics();
    sinks = createAlertSinks({ loaded, db, logger: silentLogger, metrics });
    guardian = await startGuardian({ loaded, db, logger: silentLogger, metrics, sinks });
  });

  after(async () => {
    await guardian?.stop();
    for (const s of sinks) await s.close?.();
    db?.close();
    provider?.destroy();
    await hook?.close();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function alertsReceived(count: number): Promise<AlertMessage[]> {
    const deadline = Date.now() + 30_000;
    while (hook.requests.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} alerts, got ${hook.requests.length}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return hook.requests.map((r) => (JSON.parse(r.body) as { alert: AlertMessage }).alert);
  }

  it("alerts on the guardian's trip, and resolves the incident when the timelocked lift executes", async () => {
    const incidentId = keccakUtf8("reentrancy on vault");
    const trip = await (await vault.connect(guardianKey).trip(incidentId)).wait();
    const [tripAlert] = await alertsReceived(1);
    expect(tripAlert).to.include({ kind: "trip", incidentId, severity: "critical", resolves: false });
    expect(tripAlert.summary).to.include(`in block ${trip!.blockNumber}`);
    expect(tripAlert.details[0]).to.match(/^The trip lapses at .* unless governance ratifies it\.$/);

    const payload = buildGovernancePayload(
      { chainId: 31337, breaker: await vault.getAddress(), timelock: timelockAddress, incidentId, delay: DELAY },
      { decision: "lift" },
    );
    await (await proposer.sendTransaction(payload.timelock.schedule)).wait();
    await provider.send("evm_increaseTime", [Number(DELAY) + 1]);
    await (await proposer.sendTransaction(payload.timelock.execute)).wait();
    expect(await vault.isTripped()).to.equal(false);

    const [, liftAlert] = await alertsReceived(2);
    expect(liftAlert).to.include({ kind: "lift", incidentId, resolves: true, incidentKey: tripAlert.incidentKey });
    expect(hook.requests).to.have.length(2);
  });
});
