import { expect } from "chai";
import { Wallet, parseEther } from "ethers";
import { ReentrancyAttacker__factory, VulnerableBreakerBank__factory, type VulnerableBreakerBank } from "../../../typechain-types";
import { anvilKey } from "../../../guardian/ops/anvil";
import type { IncidentRecord } from "../../../guardian/reports/incident-record";
import { guardianConfig, startLab, waitUntil, type GuardianUnderTest, type Lab } from "../../../scripts/scenarios/lab";

const KEY_ENV = "FAILSAFE_TRIP_REORG_GUARDIAN_KEY";
const ATTACKER = 9;

interface Bank {
  name: string;
  bank: VulnerableBreakerBank;
  address: string;
  attack(): Promise<string>;
}

/**
 * A trip that lands and is then reorged away, on anvil with the local relay, the Failsafe modules deployed with
 * deploy/ and the real guardian (the scenarios' lab): the decision sink checks every trip in an orphaned block on
 * the new branch, and resubmits, aborts or records the new inclusion. `anvil_reorg`'s transaction list decides
 * what the new branch holds.
 */
describe("DecisionSink: a trip reorged out after inclusion (anvil + local relay + guardian)", function () {
  this.timeout(120_000);
  let lab: Lab;
  let guardian: GuardianUnderTest;
  const banks: Record<"a" | "b" | "c" | "d", Bank> = {} as never;

  before(async () => {
    process.env[KEY_ENV] = anvilKey(1);
    const guardianAddress = new Wallet(anvilKey(1)).address;
    lab = await startLab({ pacing: { mode: "guardian", maxSlotMs: 12_000 }, guardians: [guardianAddress] });
    for (const name of ["a", "b", "c", "d"] as const) {
      const bank = await new VulnerableBreakerBank__factory(lab.account(0)).deploy(lab.deployment.timelock, [guardianAddress], 3600);
      await bank.waitForDeployment();
      await (await bank.connect(lab.account(5)).deposit({ value: parseEther("50") })).wait();
      const attacker = await new ReentrancyAttacker__factory(lab.account(ATTACKER)).deploy(await bank.getAddress());
      await attacker.waitForDeployment();
      banks[name] = {
        name: `bank${name.toUpperCase()}`,
        bank,
        address: (await bank.getAddress()).toLowerCase(),
        attack: async () => (await attacker.attack(5, 0, { value: parseEther("1"), gasLimit: 1_000_000n })).hash.toLowerCase(),
      };
    }
    await lab.startRelay();
    const contracts = Object.values(banks).map((b) => ({
      name: b.name,
      address: b.address,
      abi: "VulnerableBreakerBank",
      // failsafe-watch reports each Tripped event, as a deployment that alerts on trips has it; bank D runs without it.
      detectors: b.name === "bankD" ? { reentrancy: true } : { reentrancy: true, "failsafe-watch": { timelock: lab.deployment.timelock } },
    }));
    const config = guardianConfig(lab, {
      name: "guardian",
      keyEnv: KEY_ENV,
      contracts,
      policy: { breakers: contracts.map((c) => ({ contract: c.name, timelock: lab.deployment.timelock })) },
      startBlock: await lab.head(),
    });
    guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
    await lab.mine();
  });

  after(async () => {
    await lab?.stop();
    delete process.env[KEY_ENV];
  });

  const incidentOf = (bank: Bank): IncidentRecord | undefined => guardian.incidents().find((r) => r.breaker === bank.address);

  /** The attack in one block, the guardian's trip in the next; returns the attack's hash and the tripped incident. */
  async function attackAndTrip(bank: Bank): Promise<{ attack: string; attackBlock: number; incident: IncidentRecord }> {
    const attack = await bank.attack();
    const attackBlock = await lab.mine();
    expect((await lab.provider.getTransactionReceipt(attack))?.blockNumber, "attack mined").to.equal(attackBlock);
    await lab.mine();
    await guardian.decisions.settled();
    const incident = incidentOf(bank)!;
    expect(incident.status).to.equal("tripped");
    expect(incident.trip!.blockNumber).to.equal(attackBlock + 1);
    expect(await bank.bank.isTripped()).to.equal(true);
    return { attack, attackBlock, incident };
  }

  /** Replaces the last `depth` blocks with the given transactions (at offsets from the first new block) and waits for the guardian to follow. */
  async function reorg(depth: number, txs: [string, number][]): Promise<void> {
    await lab.provider.send("anvil_reorg", [depth, txs]);
    const head = await lab.head();
    await waitUntil("the guardian to follow the reorg", async () => guardian.committed.get(head) === (await lab.provider.getBlock(head))?.hash);
  }

  async function canonical(blockNumber: number, blockHash: string): Promise<boolean> {
    return (await lab.provider.getBlock(blockNumber))?.hash === blockHash;
  }

  it("(a) the trip's block is orphaned, the attack's block stays: the trip is resubmitted and the breaker ends tripped on the new branch", async () => {
    const bank = banks.a;
    const { attack, attackBlock, incident } = await attackAndTrip(bank);
    const old = incident.trip!;
    await lab.mine();
    const attackHash = (await lab.provider.getBlock(attackBlock))!.hash;
    // Depth 2 from attack + 2: the trip's block and the one after it are replaced by empty blocks.
    await reorg(2, []);
    expect((await lab.provider.getBlock(attackBlock))!.hash, "the attack's block stays canonical").to.equal(attackHash);
    expect(await bank.bank.isTripped(), "no trip on the new branch yet").to.equal(false);

    await waitUntil("the guardian to resubmit the trip", () => incidentOf(bank)!.status === "tripping" || incidentOf(bank)!.timeline.filter((e) => e.step === "included").length > 1);
    for (let i = 0; i < 4 && incidentOf(bank)!.status === "tripping"; i++) await lab.mine();
    await guardian.decisions.settled();

    const record = incidentOf(bank)!;
    expect(record.id, "same incident id").to.equal(incident.id);
    expect(record.status).to.equal("tripped");
    expect(await bank.bank.isTripped(), "breaker tripped on the new branch").to.equal(true);
    const onChain = await bank.bank.incident();
    expect(onChain.incidentId).to.equal(incident.id);
    expect(await canonical(record.trip!.blockNumber, record.trip!.blockHash), "new trip block is canonical").to.equal(true);
    expect(record.trip!.blockHash).to.not.equal(old.blockHash);
    expect(record.findings.some((f) => f.txHash?.toLowerCase() === attack && !f.retracted), "the attack finding stands").to.equal(true);

    const steps = record.timeline.map((e) => e.step);
    const out = steps.indexOf("reorged-out");
    expect(out, "reorged-out step").to.be.greaterThan(steps.indexOf("included"));
    expect(steps.slice(out)).to.include.ordered.members(["reorged-out", "simulated", "sent", "included"]);
    expect(record.timeline[out]).to.include({ blockNumber: old.blockNumber, blockHash: old.blockHash, txHash: old.txHash });
    expect(record.notes.join("\n")).to.match(/checked on-chain at block \d+ .*the trip transaction 0x[0-9a-f]+ is in no canonical block, and the breaker is not tripped/);
    expect(record.notes.join("\n")).to.match(/resubmitted with the same incident id/);
    expect((await bank.bank.queryFilter(bank.bank.filters.Tripped(), 0)).map((e) => e.args.incidentId)).to.deep.equal([incident.id]);
  });

  it("(b) the reorg drops both the attack and the trip: the incident is aborted, the breaker is not tripped and nothing is resubmitted", async () => {
    const bank = banks.b;
    const { attack, attackBlock, incident } = await attackAndTrip(bank);
    const bundlesBefore = lab.relay!.pool.all().length;
    // Depth 2 from the trip's block: the attack's block and the trip's block go.
    await reorg(2, []);
    lab.account(ATTACKER).reset();
    const attackReceipt = await lab.provider.getTransactionReceipt(attack);
    expect(attackReceipt !== null && (await canonical(attackReceipt.blockNumber, attackReceipt.blockHash)), "attack not on the new branch").to.equal(false);
    await waitUntil("the incident to be aborted", () => incidentOf(bank)!.status === "aborted");
    for (let i = 0; i < 3; i++) await lab.mine();
    await guardian.decisions.settled();

    const record = incidentOf(bank)!;
    expect(record.id).to.equal(incident.id);
    expect(record.status).to.equal("aborted");
    expect(record.findings.filter((f) => f.blockNumber >= attackBlock).every((f) => f.retracted)).to.equal(true);
    expect(record.trip).to.equal(undefined);
    expect(await bank.bank.isTripped(), "breaker not tripped").to.equal(false);
    expect(lab.relay!.pool.all().length, "no bundle sent after the reorg").to.equal(bundlesBefore);
    expect(record.timeline.at(-1)!.step).to.equal("reorged-out");
    expect(record.notes.join("\n")).to.match(/retracted every finding behind it; checked on-chain at block \d+ .*is in no canonical block, and the breaker is not tripped\. Nothing was resubmitted\./);
  });

  it("(c) the new branch re-includes the trip: the incident records the new block and hash", async () => {
    const bank = banks.c;
    const { attackBlock, incident } = await attackAndTrip(bank);
    const old = incident.trip!;
    await lab.mine();
    const raw = await lab.provider.send("eth_getRawTransactionByHash", [old.txHash]);
    // Depth 2 from attack + 2: the new branch holds the same trip transaction one block later.
    await reorg(2, [[raw, 1]]);
    const receipt = await lab.provider.getTransactionReceipt(old.txHash);
    expect(receipt!.blockNumber, "the trip is one block later on the new branch").to.equal(attackBlock + 2);
    await waitUntil("the guardian to record the new inclusion", () => incidentOf(bank)!.trip?.blockHash === receipt!.blockHash);
    await lab.mine();
    await guardian.decisions.settled();

    const record = incidentOf(bank)!;
    expect(record.status).to.equal("tripped");
    expect(record.trip).to.deep.include({ txHash: old.txHash, blockNumber: attackBlock + 2, blockHash: receipt!.blockHash });
    expect(await canonical(record.trip!.blockNumber, record.trip!.blockHash)).to.equal(true);
    expect(await bank.bank.isTripped()).to.equal(true);
    const steps = record.timeline.map((e) => e.step);
    expect(steps.slice(-2)).to.deep.equal(["reorged-out", "included"]);
    expect(record.timeline.at(-1)).to.include({ blockNumber: attackBlock + 2, blockHash: receipt!.blockHash, detail: "re-included by the new branch" });
    expect(record.notes.join("\n")).to.match(new RegExp(`orphaned block ${old.blockNumber} .* that held the trip; checked on-chain at block \\d+ .*is in canonical block ${attackBlock + 2} \\(${receipt!.blockHash}\\), and the breaker is tripped for this incident until`));
    expect(steps.filter((s) => s === "sent"), "nothing resubmitted").to.have.length(1);
  });

  it("(d) a reorg that drops only the trip retracts no finding: the pipeline's onReorg still makes the sink resubmit", async () => {
    const bank = banks.d;
    const { incident } = await attackAndTrip(bank);
    await lab.mine();
    await reorg(2, []);
    expect(await bank.bank.isTripped(), "no trip on the new branch yet").to.equal(false);
    // No finding lived in the orphaned blocks (bank D runs without failsafe-watch), so only onReorg tells the sink.
    await waitUntil("the guardian to resubmit the trip", () => incidentOf(bank)!.status === "tripping" || incidentOf(bank)!.timeline.filter((e) => e.step === "included").length > 1);
    for (let i = 0; i < 4 && incidentOf(bank)!.status === "tripping"; i++) await lab.mine();
    await guardian.decisions.settled();
    const record = incidentOf(bank)!;
    expect(record.status).to.equal("tripped");
    expect(await bank.bank.isTripped()).to.equal(true);
    expect((await bank.bank.incident()).incidentId).to.equal(incident.id);
    expect(await canonical(record.trip!.blockNumber, record.trip!.blockHash)).to.equal(true);
    expect(record.trip!.blockHash).to.not.equal(incident.trip!.blockHash);
    expect(record.timeline.filter((e) => e.step === "reorged-out")).to.have.length(1);
  });
});
