import { expect } from "chai";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, ZeroAddress, parseUnits } from "ethers";
import { MockERC20__factory, PausableVault__factory, TimelockedRecovery__factory } from "../../typechain-types";
import type { MockERC20, PausableVault, TimelockedRecovery } from "../../typechain-types";
import type { AlertMessage } from "../../guardian/notifiers/types";
import { anvilKey, startAnvil, type AnvilInstance } from "../../guardian/ops/anvil";
import { startLocalRelay, type LocalRelay } from "../../guardian/relay/local-relay";
import type { GovernancePayload, SafeBatchFile } from "../../guardian/reports/governance-payloads";
import type { GovernorReport } from "../../guardian/reports/governor-report";
import type { IncidentRecord } from "../../guardian/reports/incident-record";
import { openDatabase } from "../../guardian/state/database";
import { IncidentStore } from "../../guardian/state/incident-store";
import { startCaptureServer, type CaptureServer } from "../guardian/notifiers/local-servers";
import { waitFor } from "../guardian/support/guardian-harness";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin/failsafe.cjs");
const DELAY = 60;
const EXPLORER = "https://explorer.example";
const timelockInterface = TimelockedRecovery__factory.createInterface();
const vaultInterface = PausableVault__factory.createInterface();

/** The keys exactly as an operator would export them; anvil's well-known dev accounts, local chain only. */
const ENV = {
  FAILSAFE_E2E_GUARDIAN_KEY: anvilKey(1),
  FAILSAFE_E2E_GOVERNANCE_KEY: anvilKey(2),
  FAILSAFE_E2E_WEBHOOK_SECRET: "governance-loop-secret-0123456789abcdef",
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function failsafe(args: string[], env: Record<string, string> = ENV): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env, FAILSAFE_DEBUG: "" }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The governors' loop on a real chain, every step through the real CLI as its own process, the way an
 * operator and a DAO's governors would run it: the guardian (`failsafe guard`) runs throughout; an operator
 * trips the vault through the local relay (`failsafe trip`); governors read the report, schedule the lift,
 * wait out the timelock, and execute it. The breaker reopens, the incident closes, and the security team's
 * webhook hears of the trip and of the lift exactly once each.
 */
describe("governance loop on anvil", function () {
  this.timeout(120_000);
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let relay: LocalRelay;
  let hook: CaptureServer;
  let guard: ChildProcess | undefined;
  let dir: string;
  let configFile: string;
  let vault: PausableVault;
  let token: MockERC20;
  let timelock: TimelockedRecovery;
  let recovery: string;
  const standby = Wallet.createRandom().address;
  const guardian = new Wallet(anvilKey(1)).address;
  const governor = new Wallet(anvilKey(2)).address;

  before(async () => {
    anvil = await startAnvil({ extraArgs: ["--order", "fifo"] });
    provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 });
    const deployer = new Wallet(anvilKey(0), provider);
    const depositor = new Wallet(anvilKey(3), provider);
    recovery = Wallet.createRandom().address;
    token = await (await new MockERC20__factory(deployer).deploy("Asset", "AST", 18)).waitForDeployment();
    timelock = await (await new TimelockedRecovery__factory(deployer).deploy(DELAY, [governor], [governor], ZeroAddress)).waitForDeployment();
    vault = await (
      await new PausableVault__factory(deployer).deploy(await token.getAddress(), "Vault", "fsAST", {
        governance: await timelock.getAddress(),
        recovery,
        guardians: [guardian],
        tripDuration: 3_600,
        outflowBps: 0,
        outflowWindow: 0,
        outflowAction: 0,
        claimDelay: 3_600,
      })
    ).waitForDeployment();
    await (await token.mint(depositor.address, parseUnits("1000", 18))).wait();
    await (await token.connect(depositor).approve(await vault.getAddress(), parseUnits("1000", 18))).wait();
    await (await vault.connect(depositor).deposit(parseUnits("1000", 18), depositor.address)).wait();

    relay = await startLocalRelay({ anvilUrl: anvil.url, chainId: 31337, mining: { mode: "interval", intervalMs: 200 } });
    hook = await startCaptureServer((_req, res) => res.writeHead(204).end());
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-governance-loop-"));
    configFile = path.join(dir, "failsafe.yaml");
    writeFileSync(
      configFile,
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
  - { name: governance, chain: 31337, address: "${await timelock.getAddress()}", abi: TimelockedRecovery }
store: { path: ${path.join(dir, "guardian.sqlite")} }
metrics: { enabled: false }
logging: { level: info, destination: ${path.join(dir, "guard.log")} }
responders:
  trip:
    type: flashbots-trip
    relays: [{ url: "${relay.url}" }]
    signer: { keyEnv: FAILSAFE_E2E_GUARDIAN_KEY }
policy:
  breakers: [{ contract: vault, timelock: "${await timelock.getAddress()}" }]
  incidentReports: ${path.join(dir, "incidents")}
notifiers:
  security: { type: webhook, url: "${hook.url}/failsafe", secret: { env: FAILSAFE_E2E_WEBHOOK_SECRET } }
alerts:
  explorers: { "31337": "${EXPLORER}" }
  routes: [{ match: { kinds: [trip, lift] }, notify: [security] }]
governance:
  signer: { keyEnv: FAILSAFE_E2E_GOVERNANCE_KEY }
  standbyGuardian: "${standby}"
`,
    );

    const log = openSync(path.join(dir, "guard.out"), "a");
    guard = spawn(process.execPath, [BIN, "guard", "--config", configFile], { cwd: ROOT, env: { ...process.env, ...ENV }, stdio: ["ignore", log, log] });
    closeSync(log);
    await waitFor("the guardian to start following", () => existsSync(path.join(dir, "guard.log")) && readFileSync(path.join(dir, "guard.log"), "utf8").includes("starting with an empty store"));
  });

  after(async () => {
    if (guard && guard.exitCode === null) {
      const exited = new Promise((r) => guard!.once("exit", r));
      guard.kill("SIGTERM");
      await exited;
    }
    provider?.destroy();
    await relay?.stop();
    await hook?.close();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const alerts = () => hook.requests.map((r) => (JSON.parse(r.body) as { alert: AlertMessage }).alert);
  const guardianCursor = async (): Promise<number> => {
    const db = openDatabase(path.join(dir, "guardian.sqlite"));
    try {
      return (db.prepare("SELECT number FROM guardian_cursor WHERE chain_id = 31337").get() as { number: number } | undefined)?.number ?? -1;
    } finally {
      db.close();
    }
  };
  const incidentInStore = async (id: string): Promise<IncidentRecord | undefined> => {
    const db = openDatabase(path.join(dir, "guardian.sqlite"));
    try {
      return await new IncidentStore(db).get(id);
    } finally {
      db.close();
    }
  };

  it("trips, reports, schedules the lift, waits out the delay, executes it, and the guardian closes and alerts the incident", async () => {
    // 0. A rehearsal sends nothing and opens no incident: governors get nothing to act on.
    const rehearsal = await failsafe(["trip", "-c", configFile, "--breaker", "vault", "--reason", "rehearsal", "--dry-run"]);
    expect(rehearsal.code, rehearsal.stderr).to.equal(0);
    expect(rehearsal.stdout).to.match(/^decision 0x[0-9a-f]{64}$/m);
    expect(rehearsal.stdout).to.match(/: dry-run\n/);
    expect(rehearsal.stdout).to.include("recorded as a trip decision, not an incident: failsafe incident list --decisions");
    expect(await vault.isTripped()).to.equal(false);

    // 1. The trip, through the responder and the local relay as a private bundle.
    const trip = await failsafe(["trip", "-c", configFile, "--breaker", "vault", "--reason", "governance loop"]);
    expect(trip.code, trip.stderr).to.equal(0);
    expect(trip.stdout).to.match(/: included\n/);
    const incidentId = /^incident (0x[0-9a-f]{64})$/m.exec(trip.stdout)![1];
    expect(await vault.isTripped()).to.equal(true);
    // A second trip finds the breaker tripped: a decision that names the incident holding it, not an incident.
    const again = await failsafe(["trip", "-c", configFile, "--breaker", "vault", "--reason", "again"]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/: already-tripped\n/);
    expect(again.stdout).to.include(`tripped for incident ${incidentId}`);
    const decisions = await failsafe(["incident", "list", "-c", configFile, "--format", "json", "--decisions"]);
    expect((JSON.parse(decisions.stdout) as { status: string }[]).map((d) => d.status)).to.deep.equal(["dry-run", "already-tripped"]);
    const tripAlert = await waitFor("the trip alert", () => alerts().find((a) => a.kind === "trip"));
    expect(tripAlert.incidentId).to.equal(incidentId);

    // 2. The report for governors.
    const list = await failsafe(["incident", "list", "-c", configFile, "--format", "json"]);
    expect(list.code, list.stderr).to.equal(0);
    expect(JSON.parse(list.stdout)).to.have.length(1);
    expect(JSON.parse(list.stdout)[0]).to.include({ id: incidentId, status: "tripped", breakerName: "vault" });
    const shown = await failsafe(["incident", "show", incidentId.slice(0, 10), "-c", configFile, "--format", "json", "--out", path.join(dir, "report")]);
    expect(shown.code, shown.stderr).to.equal(0);
    const report = JSON.parse(shown.stdout) as GovernorReport;
    expect(report.switch).to.include({ isTripped: true, isThisIncident: true, guardian });
    expect(report.trip?.url).to.equal(`${EXPLORER}/tx/${report.trip?.txHash}`);
    expect(report.decisions.map((d) => [d.decision, d.available])).to.deep.equal([
      ["lift", true],
      ["ratify", true],
      ["recover", true],
      ["rotate-guardian", true],
    ]);
    const recover = report.decisions.find((d) => d.decision === "recover")!.payload!;
    expect(vaultInterface.decodeFunctionData("recover", recover.action.data).map(String)).to.deep.equal([await token.getAddress(), parseUnits("1000", 18).toString()]);
    expect(recover.title).to.include(recovery);
    const markdown = readFileSync(path.join(dir, "report", `governor-${incidentId.slice(2, 14)}.md`), "utf8");
    expect(markdown).to.include(`[${report.trip!.txHash}](${EXPLORER}/tx/${report.trip!.txHash})`);
    expect(markdown).to.include("1,000 AST");

    // 3. Schedule the lift with the governance key; the payload files are written for a Governor and a Safe too.
    const payloads = path.join(dir, "payloads");
    const propose = await failsafe(["governance", "propose", "lift", "--incident", incidentId, "-c", configFile, "--out", payloads]);
    expect(propose.code, propose.stderr).to.equal(0);
    expect(propose.stdout).to.match(/^scheduled {2}tx 0x[0-9a-f]{64} in block \d+$/m);
    const files = path.join(payloads, `incident-${incidentId.slice(2, 14)}`);
    const payload = JSON.parse(readFileSync(path.join(files, "lift.payload.json"), "utf8")) as GovernancePayload;
    const safeBatch = JSON.parse(readFileSync(path.join(files, "lift.safe-schedule.json"), "utf8")) as SafeBatchFile;
    expect(safeBatch.transactions[0].data).to.equal(payload.timelock.schedule.data);
    expect(timelockInterface.decodeFunctionData("execute", payload.timelock.execute.data).payload).to.equal(payload.action.data);
    expect(await timelock.isOperationPending(payload.timelock.operationId)).to.equal(true);

    // Too early: a clear refusal naming the time left.
    const early = await failsafe(["governance", "execute", "--incident", incidentId, "--action", "lift", "-c", configFile]);
    expect(early.code).to.equal(1);
    expect(early.stderr).to.match(/^error: the lift of incident 0x[0-9a-f]{64} is not ready: operation 0x[0-9a-f]{64} can execute from .+, \d+ s from now \(chain time\)\n$/);
    expect(await vault.isTripped()).to.equal(true);

    // 4. Wait out the delay.
    await provider.send("evm_increaseTime", [DELAY + 1]);
    await provider.send("evm_mine", []);

    // 5. Execute.
    const execute = await failsafe(["governance", "execute", "--incident", incidentId, "--action", "lift", "-c", configFile]);
    expect(execute.code, execute.stderr).to.equal(0);
    expect(execute.stdout).to.include("the breaker is open; incident closed");

    // 6. Open again; the incident is closed in the store; the lift alert arrives, once.
    expect(await vault.isTripped()).to.equal(false);
    const closed = (await incidentInStore(incidentId))!;
    expect(closed.status).to.equal("lifted");
    expect(closed.governanceLog?.map((e) => e.step)).to.deep.equal(["scheduled", "executed"]);
    const liftAlert = await waitFor("the lift alert", () => alerts().find((a) => a.kind === "lift"));
    expect(liftAlert).to.include({ incidentId, resolves: true, incidentKey: tripAlert.incidentKey });
    // The guardian sees the Lifted event too; the alert log still sends one lift alert per incident.
    await waitFor("the guardian to process the lift's block", async () => (await guardianCursor()) >= closed.lift!.blockNumber);
    await new Promise((r) => setTimeout(r, 300));
    expect(alerts().map((a) => a.kind)).to.deep.equal(["trip", "lift"]);

    const after = await failsafe(["incident", "show", incidentId, "-c", configFile, "--format", "markdown"]);
    expect(after.code, after.stderr).to.equal(0);
    expect(after.stdout).to.include("## In one minute");
    expect(after.stdout).to.match(/- \*\*The switch:\*\* Open: governance lifted the trip in block \d+\./);
  });

  it("closes and alerts an incident whose lift a multisig executed from the Safe batches, without the CLI", async () => {
    // The first incident was lifted: guardians cannot trip again until the breaker's cooldown has passed.
    await provider.send("evm_increaseTime", [Number(await vault.tripCooldown())]);
    await provider.send("evm_mine", []);
    const trip = await failsafe(["trip", "-c", configFile, "--breaker", "vault", "--reason", "second incident"]);
    expect(trip.code, trip.stderr).to.equal(0);
    const incidentId = /^incident (0x[0-9a-f]{64})$/m.exec(trip.stdout)![1];
    await waitFor("the second trip alert", () => alerts().find((a) => a.kind === "trip" && a.incidentId === incidentId));

    const payloads = path.join(dir, "safe");
    const propose = await failsafe(["governance", "propose", "lift", "--incident", incidentId, "-c", configFile, "--out", payloads, "--no-schedule"]);
    expect(propose.code, propose.stderr).to.equal(0);
    expect(propose.stdout).to.include("not scheduled (--no-schedule)");
    const files = path.join(payloads, `incident-${incidentId.slice(2, 14)}`);
    const batch = (name: string) => (JSON.parse(readFileSync(path.join(files, name), "utf8")) as SafeBatchFile).transactions[0];
    // The multisig (here the governor account) sends exactly what the Transaction Builder would.
    const multisig = new Wallet(anvilKey(2), provider);
    const schedule = batch("lift.safe-schedule.json");
    await (await multisig.sendTransaction({ to: schedule.to, data: schedule.data, value: schedule.value })).wait();
    await provider.send("evm_increaseTime", [DELAY + 1]);
    const execute = batch("lift.safe-execute.json");
    const receipt = await (await multisig.sendTransaction({ to: execute.to, data: execute.data, value: execute.value })).wait();
    expect(await vault.isTripped()).to.equal(false);

    const closed = await waitFor("the guardian to close the incident", async () => {
      const r = (await incidentInStore(incidentId));
      return r?.status === "lifted" ? r : undefined;
    });
    expect(closed.lift).to.include({ txHash: receipt!.hash, blockNumber: receipt!.blockNumber, liftedBy: (await timelock.getAddress()).toLowerCase() });
    expect(closed.governanceLog ?? []).to.deep.equal([]);
    const lift = await waitFor("the second lift alert", () => alerts().find((a) => a.kind === "lift" && a.incidentId === incidentId));
    expect(lift.resolves).to.equal(true);
  });

  it("refuses bad input with one clear line and a non-zero exit", async () => {
    const unknown = await failsafe(["governance", "propose", "pause", "--incident", "0x1234", "-c", configFile]);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.equal('error: <decision>: "pause" is not one of lift, ratify, recover, rotate-guardian\n');
    const missing = await failsafe(["incident", "show", "0xdeadbeef", "-c", configFile]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/^error: <id>: no incident 0xdeadbeef in .*guardian\.sqlite \(2 incidents; see failsafe incident list\)\n$/);
    const badId = await failsafe(["governance", "execute", "--incident", "0x", "--action", "lift", "-c", configFile]);
    expect(badId.code).to.equal(2);
    expect(badId.stderr).to.match(/^error: --incident: expected an incident id/);

    // A ratification's expiry follows the clock: proposing again must not queue a second one beside the first.
    const latest = (JSON.parse((await failsafe(["incident", "list", "-c", configFile, "--format", "json"])).stdout) as { id: string }[]).at(-1)!.id;
    const first = await failsafe(["governance", "propose", "ratify", "--incident", latest, "-c", configFile, "--out", path.join(dir, "ratify")]);
    expect(first.code, first.stderr).to.equal(0);
    await provider.send("evm_increaseTime", [30]);
    await provider.send("evm_mine", []);
    const second = await failsafe(["governance", "propose", "ratify", "--incident", latest, "-c", configFile, "--out", path.join(dir, "ratify")]);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.match(/^error: a ratify of incident 0x[0-9a-f]{64} is already scheduled as operation 0x[0-9a-f]{64} \(ready at .+\); execute it, or have a canceller cancel it, before proposing another\n$/);

    // A payload edited after review (its call no longer hashes to its operation id) fails verification: exit 3, nothing sent.
    const written = path.join(dir, "ratify", `incident-${latest.slice(2, 14)}`, "ratify.payload.json");
    const edited = JSON.parse(readFileSync(written, "utf8")) as GovernancePayload;
    edited.action.data = `${edited.action.data.slice(0, -2)}ff`;
    const tampered = path.join(dir, "ratify", "edited.payload.json");
    writeFileSync(tampered, JSON.stringify(edited));
    const verify = await failsafe(["governance", "execute", "--incident", latest, "--action", "ratify", "--payload", tampered, "-c", configFile]);
    expect(verify.code).to.equal(3);
    expect(verify.stderr).to.match(/^error: --payload: the operation id 0x[0-9a-f]{64} does not match its call \(which hashes to 0x[0-9a-f]{64}\); nothing was sent\n$/);
  });
});
