import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import type { MockERC20, UpgradeableBreakerConsumer } from "../../typechain-types";

// CircuitBreakerUpgradeable behind OpenZeppelin's ERC1967Proxy: the same logic as CircuitBreaker, initialised once
// through the proxy, with its state in the ERC-7201 namespace failsafe.storage.CircuitBreaker.
const DAY = 24 * 60 * 60;
const UNIT = 10n ** 18n;
const NAMESPACE = "0xd00d68b6ace9f763405c7f36e6a886854d28d22c50025d6848224e85fef67200";

async function proxyFixture() {
  const [governance, guardian, stranger, payee] = await ethers.getSigners();
  const implementation = await (await ethers.getContractFactory("UpgradeableBreakerConsumer")).deploy();
  const init = implementation.interface.encodeFunctionData("initialize", [governance.address, [guardian.address], DAY]);
  const proxy = await (await ethers.getContractFactory("BreakerProxy")).deploy(await implementation.getAddress(), init);
  const breaker = (await ethers.getContractAt(
    "UpgradeableBreakerConsumer",
    await proxy.getAddress(),
  )) as unknown as UpgradeableBreakerConsumer;
  const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Token", "TKN", 18)) as MockERC20;
  await token.mint(stranger.address, 1_000n * UNIT);
  await token.connect(stranger).approve(await breaker.getAddress(), ethers.MaxUint256);
  return { breaker, implementation, token, governance, guardian, stranger, payee };
}

describe("CircuitBreakerUpgradeable (behind an ERC1967Proxy)", function () {
  it("is initialised through the proxy: roles, trip duration and cooldown, and the exit exempted at initialisation", async function () {
    const { breaker, governance, guardian } = await loadFixture(proxyFixture);
    expect(await breaker.hasRole(await breaker.GOVERNOR_ROLE(), governance.address)).to.equal(true);
    expect(await breaker.hasRole(await breaker.GUARDIAN_ROLE(), guardian.address)).to.equal(true);
    expect(await breaker.hasRole(await breaker.DEFAULT_ADMIN_ROLE(), governance.address)).to.equal(false);
    expect(await breaker.getRoleAdmin(await breaker.GUARDIAN_ROLE())).to.equal(await breaker.GOVERNOR_ROLE());
    expect(await breaker.tripDuration()).to.equal(DAY);
    expect(await breaker.tripCooldown()).to.equal(2 * DAY);
    expect(await breaker.isOperationExempt(breaker.interface.getFunction("exit")!.selector)).to.equal(true);
  });

  it("refuses a second initialisation, on the proxy and on the implementation", async function () {
    const { breaker, implementation, stranger } = await loadFixture(proxyFixture);
    await expect(breaker.connect(stranger).initialize(stranger.address, [stranger.address], DAY)).to.be.revertedWithCustomError(
      breaker,
      "InvalidInitialization",
    );
    await expect(
      implementation.connect(stranger).initialize(stranger.address, [stranger.address], DAY),
    ).to.be.revertedWithCustomError(implementation, "InvalidInitialization");
    // __CircuitBreaker_init is onlyInitializing: reachable from no other path, so no one can re-grant the roles.
    await expect(breaker.connect(stranger).initBreakerAgain(stranger.address, [stranger.address])).to.be.revertedWithCustomError(
      breaker,
      "NotInitializing",
    );
    expect(await breaker.hasRole(await breaker.GOVERNOR_ROLE(), stranger.address)).to.equal(false);
  });

  it("rejects a zero governance at initialisation", async function () {
    const { implementation } = await loadFixture(proxyFixture);
    const init = implementation.interface.encodeFunctionData("initialize", [ethers.ZeroAddress, [], DAY]);
    await expect(
      (await ethers.getContractFactory("BreakerProxy")).deploy(await implementation.getAddress(), init),
    ).to.be.revertedWithCustomError(implementation, "CircuitBreakerInvalidAccount");
  });

  it("trips, pauses, and enforces the same split-proof limit, with its state in the ERC-7201 namespace", async function () {
    const { breaker, token, governance, guardian, stranger, payee } = await loadFixture(proxyFixture);
    const asset = await token.getAddress();
    await breaker.connect(governance).setOutflowLimit(asset, 2_000, 6 * 60 * 60, 0);
    await breaker.connect(stranger).fund(asset, 1_000n * UNIT);
    await mine();
    expect(await breaker.outflowState(asset)).to.deep.equal([1_000n * UNIT, 900n * UNIT, 100n * UNIT]);
    await expect(breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT + 1n))
      .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
      .withArgs(asset, 100n * UNIT + 1n, 100n * UNIT);
    // The flow word of `asset` sits at keccak256(asset . (namespace + 3)), the `flows` mapping of BreakerStorage.
    const flowsSlot = BigInt(NAMESPACE) + 3n;
    const wordSlot = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [asset, flowsSlot]));
    const word = BigInt(await ethers.provider.getStorage(await breaker.getAddress(), wordSlot));
    expect(word & ((1n << 112n) - 1n)).to.equal(1_000n * UNIT);

    const id = ethers.id("proxy-incident");
    await expect(breaker.connect(guardian).trip(id)).to.emit(breaker, "Tripped");
    await expect(breaker.connect(stranger).fund(asset, 1n)).to.be.revertedWithCustomError(
      breaker,
      "CircuitBreakerOperationPaused",
    );
    await breaker.connect(stranger).exit(asset, payee.address, 50n * UNIT); // exempt, within the limit
    expect(await token.balanceOf(payee.address)).to.equal(50n * UNIT);
    await expect(breaker.connect(governance).lift(id)).to.emit(breaker, "Lifted").withArgs(id, governance.address);
    expect(await breaker.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
    expect(await breaker.supportsInterface("0xffffffff")).to.equal(false);
  });

  it("rotates guardians and supports ICircuitBreaker's ERC-165 id, like the plain breaker", async function () {
    const { breaker, governance, guardian, stranger } = await loadFixture(proxyFixture);
    const role = await breaker.GUARDIAN_ROLE();
    await expect(breaker.connect(governance).rotateGuardian(guardian.address, stranger.address))
      .to.emit(breaker, "GuardianRotated")
      .withArgs(guardian.address, stranger.address);
    expect(await breaker.hasRole(role, guardian.address)).to.equal(false);
    await expect(breaker.connect(governance).rotateGuardian(guardian.address, stranger.address))
      .to.be.revertedWithCustomError(breaker, "CircuitBreakerNotGuardian")
      .withArgs(guardian.address);
    const plain = await ethers.getContractAt("ICircuitBreaker", await breaker.getAddress());
    const selectors: bigint[] = [];
    plain.interface.forEachFunction((f) => selectors.push(BigInt(f.selector)));
    const id = ethers.toBeHex(selectors.reduce((acc, s) => acc ^ s, 0n), 4);
    expect(await breaker.supportsInterface(id)).to.equal(true);
  });
});
