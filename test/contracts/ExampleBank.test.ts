import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { ExampleBank, MockERC20 } from "../../typechain-types";

// The README's ~20-line consumer of CircuitBreaker: it must compile and behave as the guide says.
async function bankFixture() {
  const [timelock, guardian, alice] = await ethers.getSigners();
  const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Asset", "AST", 18)) as MockERC20;
  const bank = (await (await ethers.getContractFactory("ExampleBank")).deploy(await token.getAddress(), timelock.address, [
    guardian.address,
  ])) as ExampleBank;
  await token.mint(alice.address, 1_000n);
  await token.connect(alice).approve(await bank.getAddress(), ethers.MaxUint256);
  await bank.connect(alice).deposit(1_000n);
  return { bank, token, timelock, guardian, alice };
}

describe("ExampleBank", function () {
  it("books deposits and pays withdrawals within the limit", async function () {
    const { bank, token, timelock, alice } = await loadFixture(bankFixture);
    await bank.connect(timelock).setOutflowLimit(await token.getAddress(), 1_000, 3600, 2);
    // A 10 % limit lets half of it, 5 % of the holdings, out at once.
    await bank.connect(alice).withdraw(50n);
    expect(await token.balanceOf(alice.address)).to.equal(50n);
    expect(await bank.balanceOf(alice.address)).to.equal(950n);
  });

  it("defers an over-limit withdrawal without reverting or touching the balance", async function () {
    const { bank, token, timelock, alice } = await loadFixture(bankFixture);
    await bank.connect(timelock).setOutflowLimit(await token.getAddress(), 1_000, 3600, 1); // Trip
    await expect(bank.connect(alice).withdraw(500n))
      .to.emit(bank, "WithdrawalDeferred")
      .withArgs(alice.address, 500n);
    expect(await bank.isTripped()).to.equal(true);
    expect(await bank.balanceOf(alice.address)).to.equal(1_000n);
  });

  it("pauses deposits and withdrawals while tripped", async function () {
    const { bank, guardian, alice } = await loadFixture(bankFixture);
    await bank.connect(guardian).trip(ethers.id("bank-incident"));
    await expect(bank.connect(alice).withdraw(1n)).to.be.revertedWithCustomError(bank, "CircuitBreakerOperationPaused");
    await expect(bank.connect(alice).deposit(1n)).to.be.revertedWithCustomError(bank, "CircuitBreakerOperationPaused");
  });
});
