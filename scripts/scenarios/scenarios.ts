import { Wallet, formatEther, parseEther, type ContractTransactionResponse } from "ethers";
import type { Logger } from "pino";
import {
  BreakerWrappedEther__factory,
  MockERC20__factory,
  PausableVault__factory,
  type MockERC20,
  type PausableVault,
  ReentrancyAttacker__factory,
  VulnerableBreakerBank__factory,
} from "../../typechain-types";
import { anvilKey } from "../../guardian/ops/anvil";
import type { IncidentRecord } from "../../guardian/reports/incident-record";
import { guardianConfig, startLab, waitUntil, type GuardianUnderTest, type Lab, type Pacing } from "./lab";

/** What every scenario reports. Amounts are in the unit of `asset` (wei for ETH, base units for tokens). */
export interface ScenarioResult {
  id: string;
  title: string;
  asset: string;
  fundsAtRisk: bigint;
  fundsSaved: bigint;
  savedPct: number;
  firstMaliciousBlock?: number;
  tripBlock?: number;
  /** Blocks from the first malicious transaction to the block that holds the trip (0: the same block, ahead of it). */
  blocksToTrip?: number;
  detectToIncludeMs?: number;
  /** Milliseconds from detection to the first bundle at the relay: the guardian's own reaction time. */
  detectToSendMs?: number;
  /** The first guardian's incidents. */
  incidents: IncidentRecord[];
  /** Scenario-specific facts the tests assert on. */
  facts: Record<string, unknown>;
}

export interface ScenarioOptions {
  pacing: Pacing;
  /** Keep configs, stores, logs and incident reports here instead of a temp dir. */
  dir?: string;
  logger?: Logger;
}

export type Scenario = (options: ScenarioOptions) => Promise<ScenarioResult>;

/** A tx's outcome as the chain recorded it. */
export interface Attempt {
  hash: string;
  block: number;
  ok: boolean;
}

const GUARDIAN_KEY_ENV = ["FAILSAFE_SCENARIO_GUARDIAN_KEY", "FAILSAFE_SCENARIO_SECOND_GUARDIAN_KEY"];
const TRIP_DURATION = 3600;
const ATTACKER = 9;

/**
 * The guardians use anvil's well-known dev accounts 1 and 2: their keys go into the environment variables
 * the configs name, exactly as an operator would export a real key. Local chains only.
 */
export function guardianKey(i: 0 | 1): { env: string; address: string } {
  process.env[GUARDIAN_KEY_ENV[i]] = anvilKey(i + 1);
  return { env: GUARDIAN_KEY_ENV[i], address: new Wallet(anvilKey(i + 1)).address };
}

export async function landed(lab: Lab, sent: ContractTransactionResponse): Promise<Attempt> {
  const receipt = await lab.provider.waitForTransaction(sent.hash);
  if (!receipt) throw new Error(`transaction ${sent.hash} was not mined`);
  return { hash: sent.hash.toLowerCase(), block: receipt.blockNumber, ok: receipt.status === 1 };
}

function pct(saved: bigint, atRisk: bigint): number {
  return atRisk === 0n ? 100 : Number((saved * 10_000n) / atRisk) / 100;
}

export function result(input: Omit<ScenarioResult, "savedPct" | "blocksToTrip" | "tripBlock" | "detectToIncludeMs" | "detectToSendMs"> & { trip?: IncidentRecord }): ScenarioResult {
  const { trip, ...rest } = input;
  const saved = input.fundsSaved > input.fundsAtRisk ? input.fundsAtRisk : input.fundsSaved;
  const tripBlock = trip?.trip?.blockNumber;
  const sent = trip?.timeline.find((e) => e.step === "sent");
  return {
    ...rest,
    fundsSaved: saved,
    savedPct: pct(saved, input.fundsAtRisk),
    ...(tripBlock !== undefined ? { tripBlock } : {}),
    ...(tripBlock !== undefined && input.firstMaliciousBlock !== undefined ? { blocksToTrip: tripBlock - input.firstMaliciousBlock } : {}),
    ...(trip?.detectToIncludeMs !== undefined ? { detectToIncludeMs: trip.detectToIncludeMs } : {}),
    ...(sent ? { detectToSendMs: sent.ms } : {}),
  };
}

/** Waits until every trip the guardian started has settled and been recorded. */
export async function settle(guardian: GuardianUnderTest): Promise<IncidentRecord[]> {
  await guardian.decisions.settled();
  return waitUntil("incidents to settle", () => {
    const all = guardian.incidents();
    return all.every((r) => r.status !== "tripping") ? all : undefined;
  });
}

/** A breaker-inheriting bank with the reentrancy bug, 100 ETH of honest deposits and an attacker contract aimed at it. */
export async function bankSetup(lab: Lab, guardians: string[]) {
  const bank = await new VulnerableBreakerBank__factory(lab.account(0)).deploy(lab.deployment.timelock, guardians, TRIP_DURATION);
  await bank.waitForDeployment();
  for (const [i, eth] of [[5, "40"], [6, "30"], [7, "30"]] as const) await (await bank.connect(lab.account(i)).deposit({ value: parseEther(eth) })).wait();
  const attacker = await new ReentrancyAttacker__factory(lab.account(ATTACKER)).deploy(await bank.getAddress());
  await attacker.waitForDeployment();
  return { bank, attacker, address: (await bank.getAddress()).toLowerCase() };
}

export function bankContract(name: string, address: string) {
  return { name, address, abi: "VulnerableBreakerBank", detectors: { reentrancy: true } };
}

/** Stakes 1 ETH and re-enters 5 times: 5 ETH of other people's money per successful attack. */
export function attack(attacker: Awaited<ReturnType<typeof bankSetup>>["attacker"], fees: { maxPriorityFeePerGas?: bigint; maxFeePerGas?: bigint } = {}) {
  // Explicit gas: estimation refuses a transaction that would revert, and the attacker sends it anyway.
  return attacker.attack(5, 0, { value: parseEther("1"), gasLimit: 1_000_000n, ...fees });
}

export async function withLab<T>(options: ScenarioOptions, guardians: string[], deploy: Record<string, unknown> | undefined, run: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await startLab({ pacing: options.pacing, guardians, deploy, dir: options.dir, logger: options.logger });
  try {
    return await run(lab);
  } finally {
    await lab.stop();
  }
}

/** 1. Reentrancy drain over several transactions: the guardian trips after the first, the later ones fail. */
export const reentrancyDrain: Scenario = (options) => {
  const key = guardianKey(0);
  return withLab(options, [key.address], undefined, async (lab) => {
    const { bank, attacker, address } = await bankSetup(lab, [key.address]);
    await lab.startRelay();
    const config = guardianConfig(lab, { name: "guardian", keyEnv: key.env, contracts: [bankContract("bank", address)], policy: { breakers: [{ contract: "bank", timelock: lab.deployment.timelock }] }, startBlock: await lab.head() });
    const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
    await lab.mine();

    const fundsAtRisk = await lab.provider.getBalance(address);
    const attempts: Attempt[] = [];
    for (let i = 0; i < 4; i++) {
      const sent = await attack(attacker);
      await lab.mine();
      attempts.push(await landed(lab, sent));
    }
    const incidents = await settle(guardian);
    return result({
      id: "reentrancy",
      title: "Reentrancy drain over several transactions",
      asset: "ETH",
      fundsAtRisk,
      fundsSaved: await lab.provider.getBalance(address),
      firstMaliciousBlock: attempts.find((a) => a.ok)?.block ?? attempts[0].block,
      trip: incidents.find((r) => r.status === "tripped"),
      incidents,
      facts: { attempts, tripped: await bank.isTripped() },
    });
  });
};

/** The vault deployed by deploy/, holding a treasury's deposit whose share allowance an attacker has stolen. */
export interface VaultDrain {
  vault: PausableVault;
  asset: MockERC20;
  treasury: string;
  thief: string;
  /** Each withdrawal takes this much: a tenth of the vault. */
  step: bigint;
}

/** Deposits 100,000 fsUSD from the treasury (anvil account 4, which deploy/ mints to) and hands the attacker its allowance. */
export async function prepareVaultDrain(lab: Lab): Promise<VaultDrain> {
  const treasury = lab.account(4);
  const vault = PausableVault__factory.connect(lab.deployment.vault, treasury);
  const asset = MockERC20__factory.connect(lab.deployment.asset, treasury);
  const deposit = parseEther("100000");
  await (await asset.approve(lab.deployment.vault, deposit)).wait();
  await (await vault.deposit(deposit, await treasury.getAddress())).wait();
  // The treasury's automation key holds an allowance over its shares; the attacker has stolen it.
  const thief = await lab.account(ATTACKER).getAddress();
  await (await vault.approve(thief, deposit * 2n)).wait();
  return { vault, asset, treasury: await treasury.getAddress(), thief, step: deposit / 10n };
}

/** The guardian config of the drain: outflow-spike on the vault (5 % over 50 blocks), and a policy that trips on it. */
export function vaultDrainConfig(lab: Lab, keyEnv: string, startBlock: number): unknown {
  return guardianConfig(lab, {
    name: "guardian",
    keyEnv,
    contracts: [
      {
        name: "vault",
        address: lab.deployment.vault,
        abi: "PausableVault",
        detectors: { "outflow-spike": { windowBlocks: 50, assets: [{ asset: lab.deployment.asset, maxShare: 0.05 }] } },
      },
    ],
    policy: { rules: [{ detectors: ["outflow-spike"], contracts: ["vault"], action: "trip" }], breakers: [{ contract: "vault", timelock: lab.deployment.timelock }] },
    startBlock,
  });
}

/** Ten withdrawals of a tenth of the vault each, one per block; `say` hears each block's outcome. */
export async function runVaultDrain(lab: Lab, guardian: GuardianUnderTest, drain: VaultDrain, say: (line: string) => void = () => undefined): Promise<ScenarioResult> {
  const fundsAtRisk = await drain.asset.balanceOf(lab.deployment.vault);
  const attempts: Attempt[] = [];
  const thief = lab.account(ATTACKER);
  for (let i = 0; i < 10; i++) {
    const sent = await drain.vault.connect(thief).withdraw(drain.step, drain.thief, drain.treasury, { gasLimit: 400_000n });
    await lab.mine();
    const attempt = await landed(lab, sent);
    attempts.push(attempt);
    for (const t of await drain.vault.queryFilter(drain.vault.filters.Tripped(), attempt.block, attempt.block)) {
      say(`block ${t.blockNumber}: TRIP ${t.transactionHash} by guardian ${t.args.guardian} (incident ${t.args.incidentId.slice(0, 14)}...)`);
    }
    say(`block ${attempt.block}: attacker withdraws ${formatEther(drain.step)} fsUSD -> ${attempt.ok ? "paid out" : "reverted (vault tripped)"}`);
  }
  const incidents = await settle(guardian);
  return result({
    id: "multi-tx-drain",
    title: "Ten 10 % withdrawals over ten blocks",
    asset: "fsUSD",
    fundsAtRisk,
    fundsSaved: await drain.asset.balanceOf(lab.deployment.vault),
    firstMaliciousBlock: attempts[0].block,
    trip: incidents.find((r) => r.status === "tripped"),
    incidents,
    facts: { attempts, tripped: await drain.vault.isTripped() },
  });
}

/** 2. Ten withdrawals of 10 % each, every one under any per-transaction check; outflow-spike trips. */
export const multiTxDrain: Scenario = (options) => {
  const key = guardianKey(0);
  // The vault's own windowed outflow limit is off here, so the guardian alone stands between the attacker and
  // the vault; with it on, the vault would hold back everything above 20 % by itself.
  return withLab(options, [key.address], { outflowBps: 0 }, async (lab) => {
    const drain = await prepareVaultDrain(lab);
    await lab.startRelay();
    const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", vaultDrainConfig(lab, key.env, await lab.head())));
    await lab.mine();
    return runVaultDrain(lab, guardian, drain);
  });
};

/** 3. The attack waits in the mempool; the trip outbids it and lands ahead of it in the same block. */
export const pendingAttack: Scenario = (options) => {
  const key = guardianKey(0);
  return withLab(options, [key.address], undefined, async (lab) => {
    const { bank, attacker, address } = await bankSetup(lab, [key.address]);
    await lab.startRelay();
    const config = guardianConfig(lab, { name: "guardian", keyEnv: key.env, contracts: [bankContract("bank", address)], policy: { breakers: [{ contract: "bank", timelock: lab.deployment.timelock }] }, startBlock: await lab.head(), mempool: true });
    const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
    await lab.mine();

    const fundsAtRisk = await lab.provider.getBalance(address);
    const attackerTip = parseEther("0.00000003"); // 30 gwei: the attacker pays up to be first
    const sent = await attack(attacker, { maxPriorityFeePerGas: attackerTip, maxFeePerGas: attackerTip * 4n });
    if (options.pacing.mode === "guardian") {
      // The slot ends once the trip for the pending attack waits at the relay (or at the slot's end).
      const next = (await lab.head()) + 1;
      await waitUntil("the guardian to send a trip for the pending attack", () => guardian.incidents().some((r) => r.status === "tripping") && lab.relay!.pool.pendingFor(next).length > 0, options.pacing.maxSlotMs).catch(() => undefined);
    }
    await lab.mine();
    const attempt = await landed(lab, sent);
    const incidents = await settle(guardian);
    const trip = incidents.find((r) => r.status === "tripped");
    const block = await lab.provider.getBlock(attempt.block);
    const order = block ? block.transactions.map((h) => h.toLowerCase()) : [];
    const tripTx = trip?.trip?.txHash.toLowerCase();
    return result({
      id: "pending-attack",
      title: "Attack waiting in the mempool",
      asset: "ETH",
      fundsAtRisk,
      fundsSaved: await lab.provider.getBalance(address),
      firstMaliciousBlock: attempt.block,
      trip,
      incidents,
      facts: {
        attempt,
        tripped: await bank.isTripped(),
        tripAheadOfAttack: tripTx !== undefined && order.includes(tripTx) && order.indexOf(tripTx) < order.indexOf(attempt.hash),
        attackerPriorityFeePerGas: attackerTip.toString(),
        tripPriorityFeePerGas: trip?.timeline.find((e) => e.step === "included")?.priorityFeePerGas,
        pendingFindings: guardian.findings.filter((f) => f.txHash?.toLowerCase() === attempt.hash).length,
      },
    });
  });
};

/** 4. An unbacked mint breaks totalSupply <= backing; the trip lands before the minted tokens are redeemed. */
export const invariantBreak: Scenario = (options) => {
  const key = guardianKey(0);
  return withLab(options, [key.address], undefined, async (lab) => {
    const weth = await new BreakerWrappedEther__factory(lab.account(0)).deploy(lab.deployment.timelock, [key.address], TRIP_DURATION);
    await weth.waitForDeployment();
    const address = (await weth.getAddress()).toLowerCase();
    for (const [i, eth] of [[5, "50"], [6, "30"], [7, "20"]] as const) await (await weth.connect(lab.account(i)).deposit({ value: parseEther(eth) })).wait();
    await lab.startRelay();
    const config = guardianConfig(lab, {
      name: "guardian",
      keyEnv: key.env,
      contracts: [{ name: "weth", address, abi: "BreakerWrappedEther" }],
      chainDetectors: { invariant: { invariants: [{ name: "backing", expr: "weth.totalSupply() <= eth.balance(weth)" }] } },
      policy: { breakers: [{ contract: "weth", timelock: lab.deployment.timelock }] },
      startBlock: await lab.head(),
    });
    const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
    await lab.mine();

    const fundsAtRisk = await lab.provider.getBalance(address);
    const thief = lab.account(ATTACKER);
    const thiefAddress = await thief.getAddress();
    const mint = await weth.connect(thief).bridgeMint(thiefAddress, fundsAtRisk, { gasLimit: 200_000n });
    await lab.mine();
    const attempts = [await landed(lab, mint)];
    for (let i = 0; i < 2; i++) {
      const redeem = await weth.connect(thief).withdraw(fundsAtRisk, { gasLimit: 200_000n });
      await lab.mine();
      attempts.push(await landed(lab, redeem));
    }
    const incidents = await settle(guardian);
    return result({
      id: "invariant",
      title: "Unbacked mint breaks totalSupply <= backing",
      asset: "ETH",
      fundsAtRisk,
      fundsSaved: await lab.provider.getBalance(address),
      firstMaliciousBlock: attempts[0].block,
      trip: incidents.find((r) => r.status === "tripped"),
      incidents,
      facts: { attempts, tripped: await weth.isTripped(), invariantFindings: guardian.findings.filter((f) => f.detectorId === "invariant").length },
    });
  });
};

/**
 * 5. Reorgs (guardian pacing: the test drives the chain). Bank A: the attack's block is reorged away while the
 * trip waits at the relay; the finding is retracted and the trip is called off, so none lands. Bank B: the
 * trip was already included when a reorg drops the attack; the new branch re-includes the trip transaction
 * (it was already broadcast), the finding is retracted, and the incident reports the standing trip as such.
 */
export const reorgRetraction: Scenario = (options) => {
  const key = guardianKey(0);
  if (options.pacing.mode !== "guardian") throw new Error("the reorg scenario drives block production itself: use guardian pacing");
  return withLab(options, [key.address], undefined, async (lab) => {
    const a = await bankSetup(lab, [key.address]);
    const b = await bankSetup(lab, [key.address]);
    await lab.startRelay();
    const relay = lab.relay!;
    const config = guardianConfig(lab, {
      name: "guardian",
      keyEnv: key.env,
      contracts: [bankContract("bankA", a.address), bankContract("bankB", b.address)],
      policy: { breakers: [{ contract: "bankA", timelock: lab.deployment.timelock }, { contract: "bankB", timelock: lab.deployment.timelock }] },
      startBlock: await lab.head(),
    });
    const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
    await lab.mine();
    const fundsAtRisk = (await lab.provider.getBalance(a.address)) + (await lab.provider.getBalance(b.address));
    const incidentOf = (bank: string) => guardian.incidents().find((r) => r.breaker === bank);

    // A: attack mined, trip waiting at the relay, then the attack's block is replaced by an empty one.
    const sentA = await attack(a.attacker);
    await relay.buildBlock();
    const attemptA = await landed(lab, sentA);
    await waitUntil("the trip for bank A to wait at the relay", () => incidentOf(a.address)?.status === "tripping" && relay.pool.pendingFor(attemptA.block + 1).length > 0);
    await lab.provider.send("anvil_reorg", [1, []]);
    await lab.provider.send("anvil_dropTransaction", [attemptA.hash]).catch(() => undefined);
    // The dropped attack's nonce is free again.
    lab.account(ATTACKER).reset();
    await waitUntil("bank A's incident to be called off", () => ["aborted", "failed"].includes(incidentOf(a.address)?.status ?? "") && incidentOf(a.address));
    await lab.mine();
    const incidentA = incidentOf(a.address)!;

    // B: attack mined, trip included, then a 2-block reorg drops the attack; the trip is re-included.
    const sentB = await attack(b.attacker);
    await relay.buildBlock();
    const attemptB = await landed(lab, sentB);
    await lab.mine();
    await settle(guardian);
    const tripB = incidentOf(b.address)!;
    const rawTrip = await lab.provider.send("eth_getRawTransactionByHash", [tripB.trip!.txHash]);
    await lab.provider.send("anvil_reorg", [2, [[rawTrip, 0]]]);
    const head = await lab.head();
    await waitUntil("the guardian to follow bank B's reorg", async () => guardian.committed.get(head) === (await lab.provider.getBlock(head))?.hash && guardian.retracted.some((f) => f.txHash?.toLowerCase() === attemptB.hash));
    await lab.mine();
    const incidents = await settle(guardian);
    const recordB = incidentOf(b.address)!;

    return result({
      id: "reorg",
      title: "Finding reorged away",
      asset: "ETH",
      fundsAtRisk,
      fundsSaved: (await lab.provider.getBalance(a.address)) + (await lab.provider.getBalance(b.address)),
      firstMaliciousBlock: attemptB.block,
      trip: tripB,
      incidents,
      facts: {
        bankA: { incident: incidentA, tripped: await a.bank.isTripped(), attackOnChain: (await lab.provider.getTransactionReceipt(attemptA.hash)) !== null, bundleStates: [...new Set(relay.pool.all().filter((x) => incidentA.bundleHashes.includes(x.hash)).map((x) => x.state))] },
        bankB: { incident: recordB, tripped: await b.bank.isTripped(), attackOnChain: (await lab.provider.getTransactionReceipt(attemptB.hash)) !== null },
        retracted: guardian.retracted.map((f) => f.txHash),
        incidentsPerBank: { a: guardian.incidents().filter((r) => r.breaker === a.address).length, b: guardian.incidents().filter((r) => r.breaker === b.address).length },
      },
    });
  });
};

/** 6. Two guardians with different keys see the same finding and both send a trip: one takes effect, neither errors. */
export const guardianRace: Scenario = (options) => {
  const first = guardianKey(0);
  const second = guardianKey(1);
  return withLab(options, [first.address, second.address], undefined, async (lab) => {
    const { bank, attacker, address } = await bankSetup(lab, [first.address, second.address]);
    await lab.startRelay();
    const start = await lab.head();
    const guardians: GuardianUnderTest[] = [];
    for (const [name, key] of [["guardian-a", first], ["guardian-b", second]] as const) {
      const config = guardianConfig(lab, { name, keyEnv: key.env, contracts: [bankContract("bank", address)], policy: { breakers: [{ contract: "bank", timelock: lab.deployment.timelock }] }, startBlock: start });
      guardians.push(await lab.startGuardian(name, lab.writeConfig(name, config)));
    }
    await lab.mine();

    const fundsAtRisk = await lab.provider.getBalance(address);
    const attempts: Attempt[] = [];
    for (let i = 0; i < 3; i++) {
      const sent = await attack(attacker);
      await lab.mine();
      attempts.push(await landed(lab, sent));
    }
    const [incidentsA, incidentsB] = [await settle(guardians[0]), await settle(guardians[1])];
    const tripped = await bank.queryFilter(bank.filters.Tripped(), 0);
    const all = [...incidentsA, ...incidentsB];
    return result({
      id: "race",
      title: "Two guardians race on the same finding",
      asset: "ETH",
      fundsAtRisk,
      fundsSaved: await lab.provider.getBalance(address),
      firstMaliciousBlock: attempts[0].block,
      trip: all.find((r) => r.status === "tripped" && r.trip),
      incidents: incidentsA,
      facts: {
        attempts,
        trippedEvents: tripped.map((e) => ({ incidentId: e.args.incidentId, guardian: e.args.guardian.toLowerCase(), block: e.blockNumber })),
        statuses: all.map((r) => r.status),
        incidentIds: all.map((r) => r.id.toLowerCase()),
        // Trip decisions that tripped nothing (dry runs, a breaker another incident held): none expected here.
        decisions: guardians.flatMap((g) => g.tripDecisions()).map((r) => ({ status: r.status, trippedBy: r.trippedBy?.incidentId.toLowerCase() })),
        errors: all.flatMap((r) => (r.error ? [r.error] : [])),
        guardians: [first.address.toLowerCase(), second.address.toLowerCase()],
      },
    });
  });
};

export const scenarios = { reentrancyDrain, multiTxDrain, pendingAttack, invariantBreak, reorgRetraction, guardianRace };

/** One line per scenario, as the tests and the benchmark print it. */
export function describeResult(r: ScenarioResult): string {
  const amount = (v: bigint) => `${formatEther(v)} ${r.asset}`;
  return [
    `${r.id}: at risk ${amount(r.fundsAtRisk)}, saved ${amount(r.fundsSaved)} (${r.savedPct}%)`,
    `blocks to trip ${r.blocksToTrip ?? "-"}`,
    `detect→include ${r.detectToIncludeMs ?? "-"} ms (bundle sent after ${r.detectToSendMs ?? "-"} ms)`,
  ].join(", ");
}

