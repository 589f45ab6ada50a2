// Gas bench for the on-chain modules: `npm run bench:gas` (= `hardhat run scripts/bench/gas.ts`), on Hardhat's
// in-process network. Measures receipts' gasUsed, each call in its own transaction and block, so every number is
// what a user pays in a fresh transaction (cold storage, cold accounts).
//
// Prints a table, then as its last line one JSON object with the overheads over the unprotected OZ ERC4626 vault.
import { ethers, network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import type { MockERC20, PausableVault } from "../../typechain-types";
import type { IPausableVault } from "../../typechain-types/contracts/PausableVault";

const DAY = 24 * 60 * 60;
const UNIT = 10n ** 18n;

interface VaultLike {
  getAddress(): Promise<string>;
  deposit(assets: bigint, receiver: string): Promise<ContractTransactionResponse>;
  withdraw(assets: bigint, receiver: string, owner: string): Promise<ContractTransactionResponse>;
  connect(signer: unknown): VaultLike;
}

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error("bench transaction failed");
  return receipt.gasUsed;
}

async function travel(seconds: number): Promise<void> {
  await network.provider.send("evm_increaseTime", [seconds]);
  await network.provider.send("evm_mine", []);
}

interface Row {
  vault: string;
  deposit: bigint;
  withdraw: bigint;
  withdrawIdle: bigint;
}

async function main(): Promise<void> {
  const [deployer, guardian, proposer, recovery, whale, user] = await ethers.getSigners();

  const asset = (await (await ethers.getContractFactory("MockERC20")).deploy("Bench Asset", "BA", 18)) as MockERC20;

  const timelock = await (await ethers.getContractFactory("TimelockedRecovery")).deploy(
    2 * DAY,
    [proposer.address],
    [proposer.address],
    ethers.ZeroAddress,
  );

  const settings = (governance: string): IPausableVault.SettingsStruct => ({
    governance,
    recovery: recovery.address,
    guardians: [guardian.address],
    tripDuration: 3 * DAY,
    outflowBps: 2_000,
    outflowWindow: 6 * 60 * 60,
    // Revert: synchronous exits revert over the limit whatever the action.
    outflowAction: 0,
    // Above the timelock's 2 days + the vault's 30-minute margin, or the vault refuses it.
    claimDelay: 3 * DAY,
  });
  const vaultFactory = await ethers.getContractFactory("PausableVault");
  const pausable = (await vaultFactory.deploy(
    await asset.getAddress(),
    "Failsafe Vault",
    "fVLT",
    settings(await timelock.getAddress()),
  )) as PausableVault;
  // Same vault governed by an EOA, only to measure the breaker's own lift call without the timelock around it.
  const directlyGoverned = (await vaultFactory.deploy(
    await asset.getAddress(),
    "Failsafe Vault (EOA governance)",
    "fVLT2",
    settings(deployer.address),
  )) as PausableVault;

  const plain = await (await ethers.getContractFactory("PlainERC4626Vault")).deploy(await asset.getAddress());
  const guarded = await (await ethers.getContractFactory("GuardedERC4626Vault")).deploy(await asset.getAddress());

  const vaults: Array<[string, VaultLike]> = [
    ["OZ ERC4626 (unprotected)", plain as unknown as VaultLike],
    ["OZ ERC4626 + Pausable + ReentrancyGuardTransient", guarded as unknown as VaultLike],
    ["PausableVault (20% / 6 h limit)", pausable as unknown as VaultLike],
  ];

  // Everyone has funds and allowances first, and the vaults hold a whale's deposit, so the measured calls are a
  // returning user's: every slot they write already holds a non-zero value.
  for (const signer of [whale, user]) {
    await (await asset.mint(signer.address, 1_000_000n * UNIT)).wait();
    for (const [, vault] of vaults) {
      await (await asset.connect(signer).approve(await vault.getAddress(), ethers.MaxUint256)).wait();
    }
  }
  for (const [, vault] of vaults) {
    await (await vault.connect(whale).deposit(100_000n * UNIT, whale.address)).wait();
    await (await vault.connect(user).deposit(1_000n * UNIT, user.address)).wait();
    await (await vault.connect(user).withdraw(10n * UNIT, user.address, user.address)).wait();
  }
  await travel(60);

  const rows: Row[] = [];
  for (const [name, vault] of vaults) {
    const deposit = await gasOf(vault.connect(user).deposit(100n * UNIT, user.address));
    // Someone else withdraws in between, so the measured withdrawal finds part of the window used (the deposit just
    // before would otherwise have credited it back to zero) and pays for the decay arithmetic.
    await (await vault.connect(whale).withdraw(1_000n * UNIT, whale.address, whale.address)).wait();
    const withdraw = await gasOf(vault.connect(user).withdraw(50n * UNIT, user.address, user.address));
    rows.push({ vault: name, deposit, withdraw, withdrawIdle: 0n });
  }
  await travel(30 * DAY);
  for (const [i, [, vault]] of vaults.entries()) {
    rows[i].withdrawIdle = await gasOf(vault.connect(user).withdraw(50n * UNIT, user.address, user.address));
  }

  // An ERC-7540 redeem request: request, fulfil once ready (anyone), claim (the controller).
  const requestRedeemGas = await gasOf(pausable.connect(user).requestRedeem(100n * UNIT, user.address, user.address));
  const requestId = (await pausable.nextRequestId()) - 1n;
  await travel(3 * DAY);
  const fulfilRedeemGas = await gasOf(pausable.connect(whale).fulfilRedeem(requestId));
  const [, claimableShares] = await pausable.claimable(user.address);
  const claimRedeemGas = await gasOf(pausable.connect(user).redeem(claimableShares, user.address, user.address));

  // Trip (the first guardian's) and a racing second trip (a no-op returning false).
  const incidentId = ethers.id("bench-incident");
  const tripGas = await gasOf(pausable.connect(guardian).trip(incidentId));
  const secondTripGas = await gasOf(pausable.connect(guardian).trip(ethers.id("bench-incident-2")));

  // Lift through the timelock: schedule, wait out the delay, execute.
  const salt = ethers.id("bench-lift");
  const scheduleLiftGas = await gasOf(timelock.connect(proposer).scheduleLift(await pausable.getAddress(), incidentId, salt));
  await travel(2 * DAY);
  const liftData = pausable.interface.encodeFunctionData("lift", [incidentId]);
  const liftExecuteGas = await gasOf(
    timelock.connect(proposer).execute(await pausable.getAddress(), 0, liftData, ethers.ZeroHash, salt),
  );
  if (await pausable.isTripped()) throw new Error("bench: the timelocked lift did not lift the trip");

  await (await directlyGoverned.connect(guardian).trip(incidentId)).wait();
  const liftGas = await gasOf(directlyGoverned.connect(deployer).lift(incidentId));

  const [base, guardedRow, ours] = rows;
  const result = {
    depositOverheadGas: Number(ours.deposit - base.deposit),
    withdrawOverheadGas: Number(ours.withdraw - base.withdraw),
    withdrawOverheadIdleGas: Number(ours.withdrawIdle - base.withdrawIdle),
    requestRedeemGas: Number(requestRedeemGas),
    fulfilRedeemGas: Number(fulfilRedeemGas),
    claimRedeemGas: Number(claimRedeemGas),
    tripGas: Number(tripGas),
    secondTripGas: Number(secondTripGas),
    liftGas: Number(liftGas),
    liftViaTimelockExecuteGas: Number(liftExecuteGas),
    scheduleLiftGas: Number(scheduleLiftGas),
    pausableGuardDepositOverheadGas: Number(guardedRow.deposit - base.deposit),
    pausableGuardOverheadGas: Number(guardedRow.withdraw - base.withdraw),
    withdrawOverheadTarget: 7_500,
    withdrawOverheadWithinTarget:
      ours.withdraw - base.withdraw <= 7_500n && ours.withdrawIdle - base.withdrawIdle <= 7_500n,
    depositOverheadTarget: 7_500,
    depositOverheadWithinTarget: ours.deposit - base.deposit <= 7_500n,
  };

  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (v: bigint | number) => v.toLocaleString("en-US").padStart(10);
  const lines = [
    `${pad("vault", 50)} ${"deposit".padStart(10)} ${"withdraw".padStart(10)} ${"w/d +30d".padStart(10)}`,
    ...rows.map((r) => `${pad(r.vault, 50)} ${num(r.deposit)} ${num(r.withdraw)} ${num(r.withdrawIdle)}`),
    "",
    `${pad("overhead over unprotected: PausableVault", 50)} ${num(result.depositOverheadGas)} ${num(result.withdrawOverheadGas)} ${num(result.withdrawOverheadIdleGas)}`,
    `${pad("overhead over unprotected: Pausable + RGT", 50)} ${num(result.pausableGuardDepositOverheadGas)} ${num(result.pausableGuardOverheadGas)} ${num(guardedRow.withdrawIdle - base.withdrawIdle)}`,
    "",
    `${pad("requestRedeem (ERC-7540)", 50)} ${num(requestRedeemGas)}`,
    `${pad("fulfilRedeem (anyone, once ready)", 50)} ${num(fulfilRedeemGas)}`,
    `${pad("claim: redeem(shares, receiver, controller)", 50)} ${num(claimRedeemGas)}`,
    "",
    `${pad("trip (guardian)", 50)} ${num(tripGas)}`,
    `${pad("second trip while tripped (no-op, returns false)", 50)} ${num(secondTripGas)}`,
    `${pad("lift (breaker's own call, governance EOA)", 50)} ${num(liftGas)}`,
    `${pad("scheduleLift (TimelockedRecovery)", 50)} ${num(scheduleLiftGas)}`,
    `${pad("lift via timelock execute", 50)} ${num(liftExecuteGas)}`,
  ];
  console.log(lines.join("\n"));
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
