// Gas of CircuitBreaker's hooks: `npx hardhat run scripts/bench/breaker-hooks.ts`, on Hardhat's in-process network.
// BreakerConsumer's `fund` (_requireOperationOpen + _creditInflow) and `pay` (_requireOperationOpen + _checkOutflow)
// against the same calls without the breaker (PlainTreasury), each in its own transaction and block (cold storage),
// with the limit on and off. Prints a table, then one JSON line.
import { ethers, network } from "hardhat";
import type { ContractTransactionResponse } from "ethers";

const UNIT = 10n ** 18n;

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error("bench transaction failed");
  return Number(receipt.gasUsed);
}

async function main(): Promise<void> {
  const [governance, guardian, user, payee] = await ethers.getSigners();
  const rows: Record<string, { fund: number; pay: number; payIdle: number; paySameTimestamp: number }> = {};
  for (const kind of ["plain", "breaker, no limit", "breaker, 20% / 6 h limit"] as const) {
    const token = await (await ethers.getContractFactory("MockERC20")).deploy("Bench", "B", 18);
    const target =
      kind === "plain"
        ? await (await ethers.getContractFactory("PlainTreasury")).deploy()
        : await (await ethers.getContractFactory("BreakerConsumer")).deploy(governance.address, [guardian.address]);
    const asset = await token.getAddress();
    await token.mint(user.address, 10n ** 30n);
    await token.mint(payee.address, 1n); // the payee's balance slot exists for every kind alike
    await token.connect(user).approve(await target.getAddress(), ethers.MaxUint256);
    if (kind === "breaker, 20% / 6 h limit") {
      const breaker = await ethers.getContractAt("BreakerConsumer", await target.getAddress());
      await breaker.connect(governance).setOutflowLimit(asset, 2_000, 6 * 60 * 60, 1);
    }
    await target.connect(user).fund(asset, 1_000_000n * UNIT + 12_345n);
    await network.provider.send("evm_mine", []);
    const fund = await gasOf(target.connect(user).fund(asset, 1_000n * UNIT + 7n));
    const pay = await gasOf(target.connect(user).pay(asset, payee.address, 10n * UNIT + 3n));
    await network.provider.send("evm_increaseTime", [365 * 24 * 60 * 60]);
    await network.provider.send("evm_mine", []);
    const payIdle = await gasOf(target.connect(user).pay(asset, payee.address, 10n * UNIT));
    // Two calls in one block: the second runs at a timestamp the first already refreshed.
    await network.provider.send("evm_setAutomine", [false]);
    await target.connect(user).fund(asset, 5n * UNIT, { gasLimit: 300_000 });
    const second = await target.connect(user).pay(asset, payee.address, 5n * UNIT, { gasLimit: 300_000 });
    await network.provider.send("evm_mine", []);
    await network.provider.send("evm_setAutomine", [true]);
    const paySameTimestamp = Number((await second.wait())!.gasUsed);
    rows[kind] = { fund, pay, payIdle, paySameTimestamp };
  }
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (n: number) => n.toLocaleString("en-US").padStart(10);
  console.log(`${pad("", 30)} ${"fund".padStart(10)} ${"pay".padStart(10)} ${"pay +1y".padStart(10)} ${"pay 2nd".padStart(10)}`);
  for (const [kind, r] of Object.entries(rows)) {
    console.log(`${pad(kind, 30)} ${num(r.fund)} ${num(r.pay)} ${num(r.payIdle)} ${num(r.paySameTimestamp)}`);
  }
  const base = rows["plain"]!;
  const on = rows["breaker, 20% / 6 h limit"]!;
  const off = rows["breaker, no limit"]!;
  console.log(
    JSON.stringify({
      fundOverheadGas: on.fund - base.fund,
      payOverheadGas: on.pay - base.pay,
      payIdleOverheadGas: on.payIdle - base.payIdle,
      paySameTimestampOverheadGas: on.paySameTimestamp - base.paySameTimestamp,
      limitArithmeticFundGas: on.fund - off.fund,
      limitArithmeticPayGas: on.pay - off.pay,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
