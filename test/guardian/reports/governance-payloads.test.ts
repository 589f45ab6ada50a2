import { expect } from "chai";
import { JsonRpcProvider, Wallet, ZeroAddress, ZeroHash, id as keccakUtf8, parseUnits } from "ethers";
import {
  ICircuitBreaker__factory,
  IPausableVault__factory,
  MockERC20__factory,
  PausableVault__factory,
  TimelockedRecovery__factory,
} from "../../../typechain-types";
import type { MockERC20, PausableVault, TimelockedRecovery } from "../../../typechain-types";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import {
  GovernancePayloadError,
  buildGovernancePayload,
  readGovernanceState,
  safeBatchChecksum,
  type GovernanceContext,
  type SafeBatchFile,
} from "../../../guardian/reports/governance-payloads";

const breakerInterface = ICircuitBreaker__factory.createInterface();
const vaultInterface = IPausableVault__factory.createInterface();
const timelockInterface = TimelockedRecovery__factory.createInterface();

const BREAKER = "0x1111111111111111111111111111111111111111";
const TIMELOCK = "0x2222222222222222222222222222222222222222";
const INCIDENT = `0x${"ab".repeat(32)}`;
const CONTEXT: GovernanceContext = { chainId: 1, breaker: BREAKER, timelock: TIMELOCK, incidentId: INCIDENT, delay: 172_800n, createdAt: 1_763_700_000_000 };

describe("buildGovernancePayload", () => {
  it("encodes lift as the breaker call, wrapped in the timelock's schedule and execute", () => {
    const p = buildGovernancePayload(CONTEXT, { decision: "lift" });
    const action = breakerInterface.parseTransaction({ data: p.action.data });
    expect(action?.name).to.equal("lift");
    expect(action?.args.incidentId).to.equal(INCIDENT);
    expect(p.action.signature).to.equal("lift(bytes32)");

    const schedule = timelockInterface.decodeFunctionData("schedule", p.timelock.schedule.data);
    expect([schedule.target, schedule.value, schedule.data, schedule.predecessor, schedule.salt, schedule.delay]).to.deep.equal([
      BREAKER,
      0n,
      p.action.data,
      ZeroHash,
      INCIDENT,
      172_800n,
    ]);
    const execute = timelockInterface.decodeFunctionData("execute", p.timelock.execute.data);
    expect([execute.target, execute.payload, execute.predecessor, execute.salt]).to.deep.equal([BREAKER, p.action.data, ZeroHash, p.timelock.salt]);
    expect(p.timelock.schedule.to).to.equal(TIMELOCK);
    const helper = timelockInterface.decodeFunctionData("scheduleLift", p.timelock.helper!.data);
    expect([helper.breaker, helper.incidentId, helper.salt]).to.deep.equal([BREAKER, INCIDENT, p.timelock.salt]);
  });

  it("proposes the schedule call to a Governor, and the direct call for a timelock-controlled one", () => {
    const hash = keccakUtf8("the incident report");
    const p = buildGovernancePayload({ ...CONTEXT, contentHash: hash, summary: "Trip of vault after 1 finding (critical reentrancy) in block 42" }, { decision: "lift" });
    expect(p.governor.targets).to.deep.equal([TIMELOCK]);
    expect(p.governor.values).to.deep.equal(["0"]);
    expect(p.governor.calldatas).to.deep.equal([p.timelock.schedule.data]);
    expect(p.governor.description).to.match(/^# Lift the trip of incident 0xabab/);
    expect(p.governor.description).to.include(`- Incident: ${INCIDENT}`);
    expect(p.governor.description).to.include(`- Incident report content hash (keccak256): ${hash}`);
    expect(p.governor.description).to.include("- Summary: Trip of vault after 1 finding (critical reentrancy) in block 42");
    expect(p.governor.descriptionHash).to.equal(keccakUtf8(p.governor.description));
    expect(p.governor.timelockControlled.targets).to.deep.equal([BREAKER]);
    expect(p.governor.timelockControlled.calldatas).to.deep.equal([p.action.data]);
    expect(p.governor.timelockControlled.proposalId).to.not.equal(p.governor.proposalId);
    expect(p.governor.proposeCalldata.slice(0, 10)).to.equal(keccakUtf8("propose(address[],uint256[],bytes[],string)").slice(0, 10));
  });

  it("never puts a local file path, a Markdown link or a control character into the on-chain description", () => {
    const summary = "Saw [click](https://evil.example) at /home/alice/failsafe/reports/incident-0xabab.md and ~/x.md, C:\\Users\\bob\\r.md\u001b[31m red\nsecond line";
    const p = buildGovernancePayload({ ...CONTEXT, summary }, { decision: "lift" });
    for (const text of [p.governor.description, p.governor.timelockControlled.description]) {
      expect(text).to.not.match(/\/home\/alice|~\/x\.md|C:\\Users|\u001b|\[click\]/);
      expect(text).to.include("[path removed]");
      expect(text.split("\n").filter((l) => l.startsWith("- Summary:"))).to.have.length(1);
    }
    expect(() => buildGovernancePayload({ ...CONTEXT, contentHash: "reports/incident.md" }, { decision: "lift" })).to.throw(GovernancePayloadError, /contentHash/);
  });

  it("encodes ratify, recover and rotate-guardian for their targets", () => {
    const ratify = buildGovernancePayload(CONTEXT, { decision: "ratify", expiresAt: 1_764_000_000n });
    expect(breakerInterface.decodeFunctionData("ratify", ratify.action.data).map(String)).to.deep.equal([INCIDENT, "1764000000"]);

    const vault = "0x3333333333333333333333333333333333333333";
    const token = "0x4444444444444444444444444444444444444444";
    const recover = buildGovernancePayload(CONTEXT, { decision: "recover", vault, token, amount: 5n, recoveryAddress: "0x5555555555555555555555555555555555555555" });
    expect(recover.action.to).to.equal(vault);
    expect(vaultInterface.decodeFunctionData("recover", recover.action.data).map(String)).to.deep.equal([token, "5"]);
    expect(recover.title).to.include("registered recovery address 0x5555555555555555555555555555555555555555");
    expect(recover.title).to.match(/^Recover 5 base units of 0x4444/);
    // With the token's symbol and decimals the title reads in human units.
    const human = buildGovernancePayload(CONTEXT, { decision: "recover", vault, token, amount: 10_000n * 10n ** 18n, recoveryAddress: "0x5555555555555555555555555555555555555555", display: { symbol: "fsUSD", decimals: 18 } });
    expect(human.title).to.match(/^Recover 10,000 fsUSD \(0x4444444444444444444444444444444444444444\) from /);

    const rotate = buildGovernancePayload(CONTEXT, {
      decision: "rotate-guardian",
      previousGuardian: "0x6666666666666666666666666666666666666666",
      newGuardian: "0x7777777777777777777777777777777777777777",
    });
    const decoded = breakerInterface.decodeFunctionData("rotateGuardian", rotate.action.data);
    expect([decoded.previousGuardian, decoded.newGuardian]).to.deep.equal([
      "0x6666666666666666666666666666666666666666",
      "0x7777777777777777777777777777777777777777",
    ]);
    expect(new Set([ratify, recover, rotate].map((p) => p.timelock.operationId)).size).to.equal(3);
  });

  it("writes Safe Transaction Builder batches with the app's checksum", () => {
    const p = buildGovernancePayload({ ...CONTEXT, safe: "0x8888888888888888888888888888888888888888" }, { decision: "lift" });
    const batch = p.safe.schedule;
    expect(batch).to.include({ version: "1.0", chainId: "1", createdAt: 1_763_700_000_000 });
    expect(batch.meta.createdFromSafeAddress).to.equal("0x8888888888888888888888888888888888888888");
    expect(batch.transactions).to.have.length(1);
    const [tx] = batch.transactions;
    expect(tx).to.include({ to: TIMELOCK, value: "0", data: p.timelock.schedule.data });
    expect(tx.contractMethod.name).to.equal("schedule");
    expect(tx.contractMethod.inputs.map((i) => `${i.type} ${i.name}`)).to.deep.equal([
      "address target",
      "uint256 value",
      "bytes data",
      "bytes32 predecessor",
      "bytes32 salt",
      "uint256 delay",
    ]);
    // The method and its string inputs encode to exactly the raw data, whichever the importer uses.
    const v = tx.contractInputsValues;
    expect(timelockInterface.encodeFunctionData("schedule", [v.target, v.value, v.data, v.predecessor, v.salt, v.delay])).to.equal(tx.data);
    expect(batch.meta.checksum).to.equal(safeBatchChecksum(batch));
    const tampered: SafeBatchFile = { ...batch, transactions: [{ ...tx, value: "1" }] };
    expect(safeBatchChecksum(tampered)).to.not.equal(batch.meta.checksum);
    expect(p.safe.execute.transactions[0].contractMethod.name).to.equal("execute");
  });

  it("computes the checksum the Transaction Builder app wrote into an exported file", () => {
    // A batch exported by the Safe Transaction Builder 1.18.2 (published in safe-global's safe-cli-nodejs
    // notes on the format), with the checksum the app computed.
    const exported = {
      version: "1.0" as const,
      chainId: "1",
      createdAt: 1761326849944,
      meta: {
        name: "Transactions Batch",
        description: "",
        txBuilderVersion: "1.18.2",
        createdFromSafeAddress: "0xA77DE01e157f9f57C7c4A326eeE9C4874D0598b6",
        createdFromOwnerAddress: "",
      },
      transactions: [
        {
          to: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
          value: "0",
          data: null as unknown as string,
          contractMethod: {
            inputs: [
              { internalType: "address", name: "spender", type: "address" },
              { internalType: "uint256", name: "value", type: "uint256" },
            ],
            name: "approve",
            payable: false,
          },
          contractInputsValues: { spender: "0x474e5Ded6b5D078163BFB8F6dBa355C3aA5478C8", value: "100000000000" },
        },
      ],
    };
    expect(safeBatchChecksum(exported)).to.equal("0x8b5032f716845c8b08bab3d63dbd9ba92e056f3557793cd041e59b84e16aa989");
  });

  it("names the bad input", () => {
    expect(() => buildGovernancePayload({ ...CONTEXT, breaker: "0x123" }, { decision: "lift" })).to.throw(
      GovernancePayloadError,
      'breaker: expected a 0x-prefixed 20-byte address, got "0x123"',
    );
    expect(() => buildGovernancePayload({ ...CONTEXT, incidentId: "0x01" }, { decision: "lift" })).to.throw(GovernancePayloadError, /^incidentId: expected 32 bytes/);
    expect(() =>
      buildGovernancePayload(CONTEXT, { decision: "rotate-guardian", previousGuardian: BREAKER, newGuardian: BREAKER }),
    ).to.throw(GovernancePayloadError, /newGuardian: must differ/);
  });
});

describe("governance payloads on anvil", () => {
  const DELAY = 3_600n;
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let deployer: Wallet;
  let proposer: Wallet;
  let guardian: Wallet;
  let executor: Wallet;
  let recovery: string;
  let token: MockERC20;
  let timelock: TimelockedRecovery;
  let vault: PausableVault;

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, undefined, { cacheTimeout: -1 });
    [deployer, proposer, guardian, executor] = [0, 1, 2, 3].map((i) => new Wallet(anvilKey(i), provider));
    recovery = Wallet.createRandom().address;
    token = await (await new MockERC20__factory(deployer).deploy("Asset", "AST", 18)).waitForDeployment();
    // The proposer stands in for the DAO's Governor or Safe; anyone may execute once the delay has passed.
    timelock = await (await new TimelockedRecovery__factory(deployer).deploy(DELAY, [proposer.address], [ZeroAddress], ZeroAddress)).waitForDeployment();
    vault = await (
      await new PausableVault__factory(deployer).deploy(await token.getAddress(), "Vault", "fsAST", {
        governance: await timelock.getAddress(),
        recovery,
        guardians: [guardian.address],
        tripDuration: 86_400,
        outflowBps: 0,
        outflowWindow: 0,
        outflowAction: 0,
        claimDelay: 7_200, // above the timelock delay + the vault's 30-minute claim-order margin
      })
    ).waitForDeployment();
    await (await token.mint(deployer.address, parseUnits("1000", 18))).wait();
    await (await token.approve(await vault.getAddress(), parseUnits("1000", 18))).wait();
    await (await vault.deposit(parseUnits("1000", 18), deployer.address)).wait();
  });
  after(async () => {
    provider?.destroy();
    await anvil?.stop();
  });

  async function send(from: Wallet, call: { to: string; value: string; data: string }) {
    const receipt = await (await from.sendTransaction({ to: call.to, value: BigInt(call.value), data: call.data })).wait();
    expect(receipt?.status).to.equal(1);
    return receipt!;
  }

  async function waitOutDelay() {
    await provider.send("evm_increaseTime", [Number(DELAY) + 1]);
    await provider.send("evm_mine", []);
  }

  async function context(): Promise<GovernanceContext> {
    const state = await readGovernanceState(
      ICircuitBreaker__factory.connect(await vault.getAddress(), provider),
      TimelockedRecovery__factory.connect(await timelock.getAddress(), provider),
      IPausableVault__factory.connect(await vault.getAddress(), provider),
    );
    return { chainId: state.chainId, breaker: await vault.getAddress(), timelock: await timelock.getAddress(), incidentId: state.incidentId, delay: state.minDelay };
  }

  it("schedules a lift from the Safe batch, executes it after the delay, and the breaker is open again", async () => {
    const incidentId = keccakUtf8("incident-1");
    await (await vault.connect(guardian).trip(incidentId)).wait();
    expect(await vault.isTripped()).to.equal(true);

    const ctx = await context();
    expect(ctx).to.include({ chainId: 31337, incidentId, delay: DELAY });
    const payload = buildGovernancePayload(ctx, { decision: "lift" });

    await send(proposer, payload.safe.schedule.transactions[0]);
    expect(await timelock.isOperationPending(payload.timelock.operationId)).to.equal(true);
    expect(await timelock.hashOperation(payload.action.to, 0, payload.action.data, payload.timelock.predecessor, payload.timelock.salt)).to.equal(
      payload.timelock.operationId,
    );
    expect(await timelock.isOperationReady(payload.timelock.operationId)).to.equal(false);

    await waitOutDelay();
    const receipt = await send(executor, payload.safe.execute.transactions[0]);
    const lifted = receipt.logs.map((l) => vault.interface.parseLog(l)).find((e) => e?.name === "Lifted");
    expect(lifted?.args.incidentId).to.equal(incidentId);
    expect(await vault.isTripped()).to.equal(false);
    expect(await timelock.isOperationDone(payload.timelock.operationId)).to.equal(true);
  });

  it("ratifies through the TimelockedRecovery helper under the same operation id", async () => {
    const incidentId = keccakUtf8("incident-2");
    // The previous test lifted a trip: guardians cannot trip again until the breaker's cooldown has passed.
    await provider.send("evm_increaseTime", [Number(await vault.tripCooldown())]);
    await provider.send("evm_mine", []);
    await (await vault.connect(guardian).trip(incidentId)).wait();
    const ctx = await context();
    const latest = await provider.getBlock("latest");
    const expiresAt = BigInt(latest!.timestamp) + 10n * 86_400n;
    const payload = buildGovernancePayload(ctx, { decision: "ratify", expiresAt });

    const receipt = await send(proposer, payload.timelock.helper!);
    const scheduled = receipt.logs.map((l) => timelock.interface.parseLog(l)).find((e) => e?.name === "GovernanceActionScheduled");
    expect(scheduled?.args.id).to.equal(payload.timelock.operationId);
    await waitOutDelay();
    await send(executor, payload.timelock.execute);
    const [, , , newExpiry] = await vault.incident();
    expect(newExpiry).to.equal(expiresAt);
  });

  it("recovers to the registered address through the Governor's action and rotates a guardian", async () => {
    const ctx = await context();
    const state = await readGovernanceState(
      ICircuitBreaker__factory.connect(await vault.getAddress(), provider),
      TimelockedRecovery__factory.connect(await timelock.getAddress(), provider),
      IPausableVault__factory.connect(await vault.getAddress(), provider),
    );
    expect(state.recoveryAddress).to.equal(recovery);
    const amount = parseUnits("400", 18);
    const recover = buildGovernancePayload(ctx, {
      decision: "recover",
      vault: await vault.getAddress(),
      token: state.asset!,
      amount,
      recoveryAddress: state.recoveryAddress!,
    });
    const newGuardian = Wallet.createRandom().address;
    const rotate = buildGovernancePayload(ctx, { decision: "rotate-guardian", previousGuardian: guardian.address, newGuardian });

    // What a Governor executes when the proposal passes: each (target, value, calldata) of the proposal.
    for (const p of [recover, rotate]) {
      await send(proposer, { to: p.governor.targets[0], value: p.governor.values[0], data: p.governor.calldatas[0] });
    }
    await waitOutDelay();
    await send(executor, recover.timelock.execute);
    await send(executor, rotate.timelock.execute);

    expect(await token.balanceOf(recovery)).to.equal(amount);
    const role = await vault.GUARDIAN_ROLE();
    expect(await vault.hasRole(role, guardian.address)).to.equal(false);
    expect(await vault.hasRole(role, newGuardian)).to.equal(true);
  });
});
