import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import type { ExampleBank, MockERC20 } from "../../typechain-types";

// The guide's consumer of CircuitBreaker (docs/contracts.md): it must compile and behave as the guide says.
enum Action {
  Revert,
  Delay,
}

async function bankFixture() {
  const [timelock, guardian, alice, nobody] = await ethers.getSigners();
  const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Asset", "AST", 18)) as MockERC20;
  const bank = (await (await ethers.getContractFactory("ExampleBank")).deploy(await token.getAddress(), timelock.address, [
    guardian.address,
  ])) as ExampleBank;
  await token.mint(alice.address, 1_000n);
  await token.connect(alice).approve(await bank.getAddress(), ethers.MaxUint256);
  await bank.connect(alice).deposit(1_000n);
  await mine(); // views after the deposit's timestamp
  return { bank, token, timelock, guardian, alice, nobody };
}

describe("ExampleBank", function () {
  it("books deposits and pays withdrawals within the limit", async function () {
    const { bank, token, timelock, alice } = await loadFixture(bankFixture);
    await bank.connect(timelock).setOutflowLimit(await token.getAddress(), 1_000, 3600, Action.Delay);
    // A 10 % limit lets half of it, 5 % of the holdings, out at once.
    await bank.connect(alice).withdraw(50n);
    expect(await token.balanceOf(alice.address)).to.equal(50n);
    expect(await bank.balanceOf(alice.address)).to.equal(950n);
  });

  it("defers an over-limit withdrawal without reverting, pausing or touching the balance", async function () {
    const { bank, token, timelock, alice } = await loadFixture(bankFixture);
    await bank.connect(timelock).setOutflowLimit(await token.getAddress(), 1_000, 3600, Action.Delay);
    await expect(bank.connect(alice).withdraw(500n))
      .to.emit(bank, "WithdrawalDeferred")
      .withArgs(alice.address, 500n);
    expect(await bank.isTripped()).to.equal(false);
    expect(await bank.balanceOf(alice.address)).to.equal(1_000n);
  });

  it("lets a caller with no balance neither withdraw, nor defer, nor use up anyone's limit", async function () {
    const { bank, token, timelock, nobody } = await loadFixture(bankFixture);
    const asset = await token.getAddress();
    await bank.connect(timelock).setOutflowLimit(asset, 1_000, 3600, Action.Delay);
    const before = await bank.outflowState(asset);
    for (const amount of [1n, 500n]) {
      await expect(bank.connect(nobody).withdraw(amount))
        .to.be.revertedWithCustomError(bank, "ExampleBankInsufficientBalance")
        .withArgs(nobody.address, 0n, amount);
      await expect(bank.connect(nobody).emergencyExit(amount))
        .to.be.revertedWithCustomError(bank, "ExampleBankInsufficientBalance")
        .withArgs(nobody.address, 0n, amount);
    }
    expect(await bank.outflowState(asset)).to.deep.equal(before);
    expect(await bank.isTripped()).to.equal(false);
  });

  it("pauses deposits and withdrawals while tripped, and keeps the emergency exit open within the limit", async function () {
    const { bank, token, timelock, guardian, alice } = await loadFixture(bankFixture);
    const asset = await token.getAddress();
    await bank.connect(timelock).setOutflowLimit(asset, 1_000, 3600, Action.Delay);
    expect(await bank.isOperationExempt(bank.interface.getFunction("emergencyExit")!.selector)).to.equal(true);
    await bank.connect(guardian).trip(ethers.id("bank-incident"));
    await expect(bank.connect(alice).withdraw(1n)).to.be.revertedWithCustomError(bank, "CircuitBreakerOperationPaused");
    await expect(bank.connect(alice).deposit(1n)).to.be.revertedWithCustomError(bank, "CircuitBreakerOperationPaused");
    await bank.connect(alice).emergencyExit(50n);
    expect(await token.balanceOf(alice.address)).to.equal(50n);
    const [, , available] = await bank.outflowState(asset);
    await expect(bank.connect(alice).emergencyExit.staticCall(available + 1n))
      .to.be.revertedWithCustomError(bank, "ExampleBankExitOverLimit")
      .withArgs(available + 1n, available);
  });
});
