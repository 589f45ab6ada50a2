import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, ZeroAddress, id as keccakUtf8, parseUnits, toBeHex } from "ethers";
import {
  FailsafeTestGovernor__factory,
  GovernanceToken__factory,
  MockERC20__factory,
  PausableVault__factory,
  TimelockedRecovery__factory,
} from "../../typechain-types";
import type { FailsafeTestGovernor, PausableVault, TimelockedRecovery } from "../../typechain-types";
import { makeFinding } from "../../guardian/detectors/finding";
import { anvilKey, startAnvil, type AnvilInstance } from "../../guardian/ops/anvil";
import { safeBatchChecksum, type GovernanceDecision, type GovernancePayload, type SafeBatchFile } from "../../guardian/reports/governance-payloads";
import { buildGovernorReport, incidentContentHash, type GovernorReportDeps } from "../../guardian/reports/governor-report";
import { IncidentRecorder, type IncidentRecord } from "../../guardian/reports/incident-record";
import { openDatabase, type Db } from "../../guardian/state/database";
import { IncidentStore } from "../../guardian/state/incident-store";
import { silentLogger } from "../guardian/notifiers/fixtures";
import { deploySafe, execWithOwners, importBatch, type SafeDeployment } from "../guardian/governors/safe-wallet";

const DELAY = 3_600;
const TRIP_SECONDS = 2 * 86_400;
const VOTING_DELAY = 1;
const VOTING_PERIOD = 10;
const units = (n: string) => parseUnits(n, 18);

/** The message a promise was rejected with; fails the test if it resolved. */
async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return String((err as Error).message);
  }
  throw new Error("expected a rejection, but it succeeded");
}

/**
 * The guardian's governance payloads executed, not only decoded, by the two kinds of governor DAOs run: an
 * OpenZeppelin Governor with GovernorTimelockControl over the TimelockedRecovery (ERC20Votes voting: propose,
 * vote, queue, execute) and a 2-of-3 Safe 1.4.1 (import the Transaction Builder batch from the governor
 * report, sign with two owners, execute through MultiSendCallOnly). Each ratifies a real trip and then lifts it.
 */
describe("governor payloads executed on anvil by a real Governor and a real Safe", function () {
  this.timeout(180_000);
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let dir: string;
  let db: Db;
  let recorder: IncidentRecorder;
  let vault: PausableVault;
  let vaultAddress: string;
  let timelock: TimelockedRecovery;
  let timelockAddress: string;
  let governor: FailsafeTestGovernor;
  let safe: SafeDeployment;
  let deps: GovernorReportDeps;
  const chainId = 31337;
  const deployer = () => new Wallet(anvilKey(0), provider);
  const guardian = () => new Wallet(anvilKey(1), provider);
  const voters = () => [2, 3, 4].map((i) => new Wallet(anvilKey(i), provider));
  const owners = () => [5, 6, 7].map((i) => new Wallet(anvilKey(i), provider));

  async function mine(blocks: number): Promise<void> {
    await provider.send("anvil_mine", [toBeHex(blocks)]);
  }
  async function warp(seconds: number): Promise<void> {
    await provider.send("evm_increaseTime", [seconds]);
    await mine(1);
  }

  /**
   * A real trip by the guardian key, recorded as the guardian records it (SQLite store, incident files). After an
   * earlier case lifted a trip, the breaker's trip cooldown makes guardian trips no-ops until `nextTripAt()`: wait
   * it out as a guardian would have to, then check the trip really happened (a no-op trip returns false and
   * leaves the earlier incident current, which no ratify/lift payload for this one could act on).
   */
  async function trip(label: string): Promise<IncidentRecord> {
    const incidentId = keccakUtf8(label);
    const nextTripAt = await vault.nextTripAt();
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    if (nextTripAt > now) await warp(Number(nextTripAt - now));
    const receipt = (await (await vault.connect(guardian()).trip(incidentId)).wait())!;
    expect(await vault.isTripped(), `${label}: the breaker tripped`).to.equal(true);
    expect((await vault.incident()).incidentId, `${label}: the trip's incident is current`).to.equal(incidentId);
    const finding = makeFinding({
      detectorId: "outflow-spike",
      severity: "critical",
      title: `${label}: 25% of the vault left in one block`,
      block: { chainId, number: receipt.blockNumber - 1, hash: (await provider.getBlock(receipt.blockNumber - 1))!.hash! },
      contract: vaultAddress,
      subject: "outflow",
      evidence: { outflow: units("250") },
    });
    await recorder.open({ id: incidentId, chainId, breaker: vaultAddress, findings: [finding], dryRun: false });
    const at = new Date().toISOString();
    return recorder.recordOutcome(incidentId, {
      status: "included",
      incidentId,
      breaker: vaultAddress,
      via: "public",
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      bundleHashes: [],
      timeline: [{ step: "included", at, ms: 300, blockNumber: receipt.blockNumber, txHash: receipt.hash }],
    });
  }

  /** The decision's payload exactly as the governor report ships it (its JSON, written and read back). */
  async function payloadFromReport(record: IncidentRecord, decision: GovernanceDecision): Promise<GovernancePayload> {
    const report = await buildGovernorReport(record, deps);
    const file = path.join(dir, `governor-${record.id.slice(2, 10)}.json`);
    writeFileSync(file, JSON.stringify(report));
    const shipped = JSON.parse(readFileSync(file, "utf8")) as typeof report;
    const d = shipped.decisions.find((x) => x.decision === decision)!;
    expect(d.available, `${decision}: ${d.reason}`).to.equal(true);
    return d.payload!;
  }

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, chainId, { staticNetwork: true, cacheTimeout: -1 });
    const admin = deployer();
    const token = await (await new MockERC20__factory(admin).deploy("Asset", "AST", 18)).waitForDeployment();
    // Anyone may execute a ready operation (executor address(0)); only the DAO's Governor and Safe may schedule.
    timelock = await (await new TimelockedRecovery__factory(admin).deploy(DELAY, [], [ZeroAddress], admin.address)).waitForDeployment();
    timelockAddress = await timelock.getAddress();
    vault = await (
      await new PausableVault__factory(admin).deploy(await token.getAddress(), "Vault", "fsAST", {
        governance: timelockAddress,
        recovery: Wallet.createRandom().address,
        guardians: [guardian().address],
        tripDuration: TRIP_SECONDS,
        outflowBps: 0,
        outflowWindow: 0,
        outflowAction: 0,
        claimDelay: 7_200, // above the timelock delay + the vault's 30-minute claim-order margin
      })
    ).waitForDeployment();
    vaultAddress = (await vault.getAddress()).toLowerCase();

    const votes = await (await new GovernanceToken__factory(admin).deploy(voters().map((v) => v.address), units("100"))).waitForDeployment();
    for (const v of voters()) await (await votes.connect(v).delegate(v.address)).wait();
    governor = await (await new FailsafeTestGovernor__factory(admin).deploy(await votes.getAddress(), timelockAddress, VOTING_DELAY, VOTING_PERIOD, 4)).waitForDeployment();
    safe = await deploySafe(admin, owners().map((o) => o.address), 2);
    for (const member of [await governor.getAddress(), safe.address]) {
      await (await timelock.grantRole(await timelock.PROPOSER_ROLE(), member)).wait();
      await (await timelock.grantRole(await timelock.CANCELLER_ROLE(), member)).wait();
    }
    await (await timelock.renounceRole(await timelock.DEFAULT_ADMIN_ROLE(), admin.address)).wait();

    dir = mkdtempSync(path.join(tmpdir(), "failsafe-governor-execution-"));
    db = openDatabase(path.join(dir, "guardian.sqlite"));
    recorder = new IncidentRecorder({
      store: new IncidentStore(db),
      dir: path.join(dir, "incidents"),
      logger: silentLogger,
      provider: () => provider,
      breakerInfo: () => ({ name: "Vault", timelock: timelockAddress }),
    });
    deps = { provider, timelock: timelockAddress, governance: { safe: safe.address } };
  });

  after(async () => {
    db?.close();
    provider?.destroy();
    await anvil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** propose → vote → queue → (delay) → execute, as a DAO's voters and any executor would. */
  async function passProposal(p: GovernancePayload): Promise<void> {
    const proposal = p.governor.timelockControlled;
    const [proposer, ...others] = voters();
    const g = governor.connect(proposer);
    await (await g.propose(proposal.targets, proposal.values, proposal.calldatas, proposal.description)).wait();
    const id = BigInt(proposal.proposalId);
    expect(await governor.hashProposal(proposal.targets, proposal.values, proposal.calldatas, keccakUtf8(proposal.description))).to.equal(id);
    await mine(VOTING_DELAY + 1);
    for (const v of [proposer, ...others]) await (await governor.connect(v).castVote(id, 1)).wait();
    await mine(VOTING_PERIOD);
    expect(await governor.state(id)).to.equal(4n); // Succeeded
    const descriptionHash = keccakUtf8(proposal.description);
    await (await g.queue(proposal.targets, proposal.values, proposal.calldatas, descriptionHash)).wait();
    // The timelock's delay binds the Governor too: executing early reverts.
    expect(await rejection(g.execute.staticCall(proposal.targets, proposal.values, proposal.calldatas, descriptionHash))).to.match(/TimelockUnexpectedOperationState|revert/i);
    await warp(DELAY);
    await (await g.execute(proposal.targets, proposal.values, proposal.calldatas, descriptionHash)).wait();
    expect(await governor.state(id)).to.equal(7n); // Executed
  }

  it("a GovernorTimelockControl Governor ratifies a trip, then lifts it, with the report's proposals", async () => {
    const record = await trip("governor path");
    const ratify = await payloadFromReport(record, "ratify");
    const expiresAt = BigInt(ratify.action.args.expiresAt);
    await passProposal(ratify);
    const ratified = await vault.incident();
    expect(ratified.incidentId).to.equal(record.id);
    expect(ratified.expiresAt).to.equal(expiresAt);
    expect(expiresAt - ratified.trippedAt).to.be.greaterThan(BigInt(TRIP_SECONDS));
    expect(await vault.isTripped()).to.equal(true);

    const lift = await payloadFromReport(record, "lift");
    await passProposal(lift);
    expect(await vault.isTripped()).to.equal(false);

    // What went on-chain (ProposalCreated's description) names the incident and the report's content hash, and
    // no local path: not the store's folder, not the incident files' folder.
    for (const p of [ratify, lift]) {
      const text = p.governor.timelockControlled.description;
      expect(text).to.include(`Incident: ${record.id}`);
      expect(text).to.include(incidentContentHash(record));
      expect(text).to.match(/Summary: Failsafe guardian trip of Vault 0x[0-9a-f]{40} on chain 31337 after 1 finding \(first: critical outflow-spike/);
      expect(text).to.not.include(dir);
      expect(text).to.not.include("incident-");
    }
  });

  it("a 2-of-3 Safe imports the report's Transaction Builder batches, ratifies the trip, then lifts it", async () => {
    const record = await trip("safe path");
    const [a, b, c] = owners();
    const batchFile = (p: GovernancePayload, which: "schedule" | "execute"): SafeBatchFile => {
      const file = path.join(dir, `${p.decision}.safe-${which}.json`);
      writeFileSync(file, JSON.stringify(p.safe[which], null, 2));
      return JSON.parse(readFileSync(file, "utf8")) as SafeBatchFile;
    };

    const ratify = await payloadFromReport(record, "ratify");
    // One owner's signature is not enough for a 2-of-3 Safe.
    expect(await rejection(execWithOwners(safe, importBatch(batchFile(ratify, "schedule"), safe, chainId), [a], c, chainId))).to.match(/GS020|revert/);
    await execWithOwners(safe, importBatch(batchFile(ratify, "schedule"), safe, chainId), [a, b], c, chainId);
    expect(await timelock.getOperationState(ratify.timelock.operationId)).to.equal(1n); // Waiting
    await warp(DELAY);
    await execWithOwners(safe, importBatch(batchFile(ratify, "execute"), safe, chainId), [b, c], a, chainId);
    expect(await timelock.getOperationState(ratify.timelock.operationId)).to.equal(3n); // Done
    expect((await vault.incident()).expiresAt).to.equal(BigInt(ratify.action.args.expiresAt));

    const lift = await payloadFromReport(record, "lift");
    await execWithOwners(safe, importBatch(batchFile(lift, "schedule"), safe, chainId), [a, c], b, chainId);
    await warp(DELAY);
    await execWithOwners(safe, importBatch(batchFile(lift, "execute"), safe, chainId), [a, b], c, chainId);
    expect(await vault.isTripped()).to.equal(false);
    expect((await vault.incident()).incidentId).to.equal(record.id);
  });

  it("a batch whose calldata was swapped for another call is refused before any owner signs", async () => {
    const record = await trip("tampered batch");
    const lift = await payloadFromReport(record, "lift");
    const tampered = JSON.parse(JSON.stringify(lift.safe.schedule)) as SafeBatchFile;
    // The attacker keeps the readable method and inputs but swaps the bytes for a schedule of rotateGuardian.
    tampered.transactions[0].data = TimelockedRecovery__factory.createInterface().encodeFunctionData("schedule", [
      vaultAddress,
      0n,
      PausableVault__factory.createInterface().encodeFunctionData("rotateGuardian", [guardian().address, Wallet.createRandom().address]),
      `0x${"00".repeat(32)}`,
      record.id,
      BigInt(DELAY),
    ]);
    expect(() => importBatch(tampered, safe, chainId)).to.throw(/checksum/);
    // Even with the checksum recomputed, the bytes no longer match the method and inputs the owners read.
    const { checksum: _old, ...meta } = tampered.meta;
    const resealed = { ...tampered, meta: { ...meta, checksum: safeBatchChecksum({ ...tampered, meta }) } };
    expect(() => importBatch(resealed, safe, chainId)).to.throw(/does not match schedule with the listed inputs/);
    expect(() => importBatch({ ...lift.safe.schedule, chainId: "1" }, safe, chainId)).to.throw(/chain 1/);
  });
});
