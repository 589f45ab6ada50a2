import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import type { IPausableVault } from "../../typechain-types/contracts/PausableVault";
import type {
  FeeOnTransferToken,
  MockERC20,
  NoReturnToken,
  PausableVault,
  RevertingToken,
} from "../../typechain-types";

const DAY = 24 * 60 * 60;
const WINDOW = 6 * 60 * 60;
const UNIT = 10n ** 18n;
enum Action {
  Revert,
  Delay,
  /** Removed from the breaker (no unprivileged pause); kept only so the vault's own tests still compile. */
  Trip = 2,
}

type Token = MockERC20 | FeeOnTransferToken | NoReturnToken | RevertingToken;

async function deployVault(
  token: Token,
  governance: string,
  guardians: string[],
  recovery: string,
  overrides: Partial<IPausableVault.SettingsStruct> = {},
): Promise<PausableVault> {
  const settings: IPausableVault.SettingsStruct = {
    governance,
    recovery,
    guardians,
    tripDuration: DAY,
    outflowBps: 2_000,
    outflowWindow: WINDOW,
    outflowAction: Action.Delay,
    claimDelay: DAY,
    ...overrides,
  };
  const factory = await ethers.getContractFactory("PausableVault");
  return (await factory.deploy(await token.getAddress(), "Failsafe Vault", "fVLT", settings)) as PausableVault;
}

async function fundAndApprove(token: Token, vault: PausableVault, signers: Signer[], amount: bigint) {
  for (const s of signers) {
    await token.mint(await s.getAddress(), amount);
    await token.connect(s).approve(await vault.getAddress(), ethers.MaxUint256);
  }
}

/** A vault (20 % / 6 h, action Delay) holding 1,000 of alice's and 1,000 of bob's assets. */
async function vaultFixture() {
  const [governance, guardian, recovery, alice, bob, stranger] = await ethers.getSigners();
  const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Asset", "AST", 18)) as MockERC20;
  const vault = await deployVault(token, governance.address, [guardian.address], recovery.address);
  await fundAndApprove(token, vault, [alice, bob], 10_000n * UNIT);
  await vault.connect(alice).deposit(1_000n * UNIT, alice.address);
  await vault.connect(bob).deposit(1_000n * UNIT, bob.address);
  return { vault, token, governance, guardian, recovery, alice, bob, stranger };
}

async function revertActionFixture() {
  const f = await vaultFixture();
  await f.vault.connect(f.governance).setOutflowLimit(await f.token.getAddress(), 2_000, WINDOW, Action.Revert);
  return f;
}

type VaultFunction = Parameters<PausableVault["interface"]["getFunction"]>[0];
const sel = (vault: PausableVault, name: VaultFunction) => vault.interface.getFunction(name).selector;

describe("PausableVault", function () {
  describe("constructor", function () {
    it("stores the recovery address, the limit and the claim delay", async function () {
      const { vault, token, recovery } = await loadFixture(vaultFixture);
      expect(await vault.recoveryAddress()).to.equal(recovery.address);
      expect(await vault.claimDelay()).to.equal(DAY);
      expect(await vault.outflowLimit(await token.getAddress())).to.deep.equal([2_000n, BigInt(WINDOW), 2n]);
      expect(await vault.asset()).to.equal(await token.getAddress());
      expect(await vault.decimals()).to.equal(18n);
      expect(await vault.nextClaimId()).to.equal(1n);
    });

    it("rejects a zero recovery address, the vault itself as recovery, and an out-of-range claim delay", async function () {
      const { vault, token, governance, guardian, recovery } = await loadFixture(vaultFixture);
      await expect(deployVault(token, governance.address, [guardian.address], ethers.ZeroAddress))
        .to.be.revertedWithCustomError(vault, "PausableVaultInvalidRecovery")
        .withArgs(ethers.ZeroAddress);
      const predicted = ethers.getCreateAddress({
        from: governance.address,
        nonce: await ethers.provider.getTransactionCount(governance.address),
      });
      await expect(deployVault(token, governance.address, [], predicted))
        .to.be.revertedWithCustomError(vault, "PausableVaultInvalidRecovery")
        .withArgs(predicted);
      const [min, max] = [await vault.MIN_CLAIM_DELAY(), await vault.MAX_CLAIM_DELAY()];
      await expect(deployVault(token, governance.address, [], recovery.address, { claimDelay: min - 1n }))
        .to.be.revertedWithCustomError(vault, "PausableVaultInvalidClaimDelay")
        .withArgs(min - 1n, min, max);
    });

    it("supports ERC-165 for IPausableVault, IERC4626 and ICircuitBreaker", async function () {
      const { vault } = await loadFixture(vaultFixture);
      const ierc4626 = await ethers.getContractAt("IERC4626", ethers.ZeroAddress);
      const id = (names: string[], iface: { getFunction(n: string): { selector: string } | null }) =>
        ethers.toBeHex(
          names.reduce((acc, n) => acc ^ BigInt(iface.getFunction(n)!.selector), 0n),
          4,
        );
      const erc4626Names = [
        "asset", "totalAssets", "convertToShares", "convertToAssets", "maxDeposit", "previewDeposit", "deposit",
        "maxMint", "previewMint", "mint", "maxWithdraw", "previewWithdraw", "withdraw", "maxRedeem", "previewRedeem",
        "redeem",
      ];
      expect(await vault.supportsInterface(id(erc4626Names, ierc4626.interface))).to.equal(true);
      const vaultNames = [
        "settleClaim", "cancelClaim", "redirectClaim", "setClaimDelay", "recover", "recoveryAddress", "claimDelay",
        "claim", "nextClaimId",
      ];
      expect(await vault.supportsInterface(id(vaultNames, vault.interface))).to.equal(true);
      expect(await vault.supportsInterface("0x7965db0b")).to.equal(true);
      expect(await vault.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("deposit, mint, withdraw, redeem", function () {
    it("book what flows through them: totalAssets is the tracked holdings, not the balance", async function () {
      const { vault, token, alice, bob, stranger } = await loadFixture(vaultFixture);
      expect(await vault.totalAssets()).to.equal(2_000n * UNIT);
      // A donation changes neither the books nor the share price (no inflation attack).
      await token.mint(stranger.address, 500n * UNIT);
      await token.connect(stranger).transfer(await vault.getAddress(), 500n * UNIT);
      expect(await vault.totalAssets()).to.equal(2_000n * UNIT);
      expect(await vault.convertToAssets(UNIT)).to.equal(UNIT);

      await expect(vault.connect(alice).mint(100n * UNIT, alice.address))
        .to.emit(vault, "Deposit")
        .withArgs(alice.address, alice.address, 100n * UNIT, 100n * UNIT);
      await expect(vault.connect(alice).withdraw(100n * UNIT, alice.address, alice.address))
        .to.emit(vault, "Withdraw")
        .withArgs(alice.address, alice.address, alice.address, 100n * UNIT, 100n * UNIT);
      await expect(vault.connect(bob).redeem(100n * UNIT, bob.address, bob.address))
        .to.emit(vault, "Withdraw")
        .withArgs(bob.address, bob.address, bob.address, 100n * UNIT, 100n * UNIT);
      expect(await vault.totalAssets()).to.equal(1_900n * UNIT);
      expect(await token.balanceOf(await vault.getAddress())).to.equal(2_400n * UNIT);
    });

    it("have no deposit or mint cap while open", async function () {
      const { vault, alice } = await loadFixture(vaultFixture);
      expect(await vault.maxDeposit(alice.address)).to.equal(ethers.MaxUint256);
      expect(await vault.maxMint(alice.address)).to.equal(ethers.MaxUint256);
    });

    it("reject withdrawing or redeeming more than the owner has, with OpenZeppelin's errors", async function () {
      const { vault, alice } = await loadFixture(vaultFixture);
      const max = await vault.maxWithdraw(alice.address);
      await expect(vault.connect(alice).withdraw(max + 1n, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC4626ExceededMaxWithdraw")
        .withArgs(alice.address, max + 1n, max);
      await expect(vault.connect(alice).redeem(1_000n * UNIT + 1n, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC4626ExceededMaxRedeem")
        .withArgs(alice.address, 1_000n * UNIT + 1n, 1_000n * UNIT);
    });

    it("let an approved spender withdraw for the owner, spending the share allowance", async function () {
      const { vault, token, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).approve(bob.address, 50n * UNIT);
      await vault.connect(bob).withdraw(50n * UNIT, bob.address, alice.address);
      expect(await vault.allowance(alice.address, bob.address)).to.equal(0n);
      expect(await token.balanceOf(bob.address)).to.equal(9_050n * UNIT);
    });
  });

  describe("selective pause", function () {
    it("pauses all four entry points and settlement with the operation, incident and expiry", async function () {
      const { vault, guardian, alice } = await loadFixture(vaultFixture);
      const id = ethers.id("vault-incident");
      await vault.connect(guardian).trip(id);
      const expiresAt = (await vault.incident())[3];
      const calls: Array<[VaultFunction, () => Promise<unknown>]> = [
        ["deposit", () => vault.connect(alice).deposit(UNIT, alice.address)],
        ["mint", () => vault.connect(alice).mint(UNIT, alice.address)],
        ["withdraw", () => vault.connect(alice).withdraw(UNIT, alice.address, alice.address)],
        ["redeem", () => vault.connect(alice).redeem(UNIT, alice.address, alice.address)],
        ["settleClaim", () => vault.connect(alice).settleClaim(1)],
      ];
      for (const [name, call] of calls) {
        await expect(call())
          .to.be.revertedWithCustomError(vault, "CircuitBreakerOperationPaused")
          .withArgs(sel(vault, name), id, expiresAt);
      }
      expect(await vault.maxDeposit(alice.address)).to.equal(0n);
      expect(await vault.maxMint(alice.address)).to.equal(0n);
      expect(await vault.maxWithdraw(alice.address)).to.equal(0n);
      expect(await vault.maxRedeem(alice.address)).to.equal(0n);
    });

    it("keeps an emergency exit open when governance exempts withdraw and redeem", async function () {
      const { vault, token, governance, guardian, alice } = await loadFixture(vaultFixture);
      await vault.connect(governance).setOperationExempt(sel(vault, "withdraw"), true);
      await vault.connect(governance).setOperationExempt(sel(vault, "redeem"), true);
      await vault.connect(guardian).trip(ethers.id("exit-open"));
      await expect(vault.connect(alice).deposit(UNIT, alice.address)).to.be.revertedWithCustomError(
        vault,
        "CircuitBreakerOperationPaused",
      );
      expect(await vault.maxWithdraw(alice.address)).to.equal(1_000n * UNIT);
      // Both within the limit's burst (10 % of 2,000 at once), so both pay out now rather than queue.
      await vault.connect(alice).withdraw(100n * UNIT, alice.address, alice.address);
      await vault.connect(alice).redeem(90n * UNIT, alice.address, alice.address);
      expect(await token.balanceOf(alice.address)).to.equal(9_190n * UNIT);
    });
  });

  describe("outflow limit, action Revert", function () {
    it("caps maxWithdraw and maxRedeem by what the window still allows, and reverts above it", async function () {
      const { vault, token, alice, bob } = await loadFixture(revertActionFixture);
      const asset = await token.getAddress();
      // At once: the burst, half the 20 % limit, of 2,000.
      expect(await vault.maxWithdraw(alice.address)).to.equal(200n * UNIT);
      expect(await vault.maxRedeem(alice.address)).to.equal(200n * UNIT);
      await vault.connect(alice).withdraw(150n * UNIT, alice.address, alice.address);
      // 7.5 % of 2,000 used; 2.5 % of the remaining 1,850 is left.
      const [, , available] = await vault.outflowState(asset);
      expect(available).to.equal(4_625n * UNIT / 100n);
      expect(await vault.maxWithdraw(bob.address)).to.equal(available);
      // The next block is one second later: one second of refill (10 % per window) on top.
      const burst = 1_000n * 10n ** 14n;
      const used = (3n * burst) / 4n - burst / BigInt(WINDOW);
      const availableNext = ((burst - used) * 1_850n * UNIT) / 10n ** 18n;
      await time.setNextBlockTimestamp((await time.latest()) + 1);
      await expect(vault.connect(bob).withdraw(47n * UNIT, bob.address, bob.address))
        .to.be.revertedWithCustomError(vault, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 47n * UNIT, availableNext);
    });
  });

  describe("claims (action Delay)", function () {
    async function queuedFixture() {
      const f = await vaultFixture();
      // 500 is 25 % of 2,000: over the 10 % a 20 % limit lets out at once, so it is deferred.
      await f.vault.connect(f.alice).withdraw(500n * UNIT, f.alice.address, f.alice.address);
      return f;
    }

    it("queues an over-limit withdrawal as a claim: shares escrowed, nothing paid, books unchanged", async function () {
      const { vault, token, alice } = await loadFixture(vaultFixture);
      const at = (await time.latest()) + 5;
      await time.setNextBlockTimestamp(at);
      const tx = vault.connect(alice).withdraw(500n * UNIT, alice.address, alice.address);
      await expect(tx)
        .to.emit(vault, "ClaimQueued")
        .withArgs(1n, alice.address, alice.address, 500n * UNIT, 500n * UNIT, at + DAY);
      await expect(tx)
        .to.emit(vault, "OutflowLimitReached")
        .withArgs(await token.getAddress(), 500n * UNIT, 200n * UNIT, Action.Delay);
      await expect(tx).not.to.emit(vault, "Withdraw");
      expect(await vault.balanceOf(alice.address)).to.equal(500n * UNIT);
      expect(await vault.balanceOf(await vault.getAddress())).to.equal(500n * UNIT);
      expect(await vault.totalAssets()).to.equal(2_000n * UNIT);
      expect(await token.balanceOf(alice.address)).to.equal(9_000n * UNIT);
      const claim = await vault.claim(1);
      expect([claim.owner, claim.receiver, claim.shares, claim.assets, claim.readyAt]).to.deep.equal([
        alice.address,
        alice.address,
        500n * UNIT,
        500n * UNIT,
        BigInt(at + DAY),
      ]);
      expect(await vault.nextClaimId()).to.equal(2n);
    });

    it("queues an over-limit redeem by a spender, spending the owner's share allowance", async function () {
      const { vault, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).approve(bob.address, 600n * UNIT);
      await expect(vault.connect(bob).redeem(600n * UNIT, bob.address, alice.address))
        .to.emit(vault, "ClaimQueued")
        .withArgs(1n, alice.address, bob.address, 600n * UNIT, 600n * UNIT, anyUint());
      expect(await vault.allowance(alice.address, bob.address)).to.equal(0n);
    });

    it("settles a ready claim for anyone who calls: burns the escrow and pays the receiver", async function () {
      const { vault, token, alice, stranger } = await loadFixture(queuedFixture);
      const { readyAt } = await vault.claim(1);
      await time.setNextBlockTimestamp(readyAt - 1n);
      await expect(vault.connect(stranger).settleClaim(1))
        .to.be.revertedWithCustomError(vault, "PausableVaultClaimNotReady")
        .withArgs(1n, readyAt);
      await expect(vault.connect(stranger).settleClaim(1))
        .to.emit(vault, "ClaimSettled")
        .withArgs(1n, alice.address, 500n * UNIT, 500n * UNIT);
      expect(await token.balanceOf(alice.address)).to.equal(9_500n * UNIT);
      expect(await vault.balanceOf(await vault.getAddress())).to.equal(0n);
      expect(await vault.totalAssets()).to.equal(1_500n * UNIT);
      expect((await vault.claim(1)).owner).to.equal(ethers.ZeroAddress);
      await expect(vault.settleClaim(1)).to.be.revertedWithCustomError(vault, "PausableVaultUnknownClaim").withArgs(1n);
    });

    it("pays no more than the escrowed shares are worth at settlement", async function () {
      const { vault, token, governance, alice, recovery } = await loadFixture(queuedFixture);
      // Governance swept 10 % of the books to the recovery address during the delay: shares lost 10 %.
      await vault.connect(governance).recover(await token.getAddress(), 200n * UNIT);
      await time.increase(DAY);
      await expect(vault.settleClaim(1)).to.emit(vault, "ClaimSettled").withArgs(1n, alice.address, 450n * UNIT, 500n * UNIT);
      expect(await token.balanceOf(recovery.address)).to.equal(200n * UNIT);
    });

    it("lets governance cancel a claim, returning the escrowed shares to the owner", async function () {
      const { vault, governance, alice } = await loadFixture(queuedFixture);
      await expect(vault.connect(governance).cancelClaim(1))
        .to.emit(vault, "ClaimCancelled")
        .withArgs(1n, alice.address, 500n * UNIT);
      expect(await vault.balanceOf(alice.address)).to.equal(1_000n * UNIT);
      await time.increase(DAY);
      await expect(vault.settleClaim(1)).to.be.revertedWithCustomError(vault, "PausableVaultUnknownClaim").withArgs(1n);
      await expect(vault.connect(governance).cancelClaim(1))
        .to.be.revertedWithCustomError(vault, "PausableVaultUnknownClaim")
        .withArgs(1n);
    });

    it("lets governance redirect one claim to the recovery address while an honest claim still settles", async function () {
      const { vault, token, governance, alice, bob, recovery } = await loadFixture(queuedFixture);
      await vault.connect(bob).withdraw(500n * UNIT, bob.address, bob.address); // claim 2, honest
      await expect(vault.connect(governance).redirectClaim(1))
        .to.emit(vault, "ClaimRedirected")
        .withArgs(1n, alice.address, recovery.address);
      expect((await vault.claim(1)).receiver).to.equal(recovery.address);
      await time.increase(DAY);
      await vault.settleClaim(1);
      await vault.settleClaim(2);
      expect(await token.balanceOf(recovery.address)).to.equal(500n * UNIT);
      expect(await token.balanceOf(alice.address)).to.equal(9_000n * UNIT);
      expect(await token.balanceOf(bob.address)).to.equal(9_500n * UNIT);
      await expect(vault.connect(governance).redirectClaim(1))
        .to.be.revertedWithCustomError(vault, "PausableVaultUnknownClaim")
        .withArgs(1n);
    });

    it("counts a settlement against the limit, without ever refusing it", async function () {
      const { vault, token, alice } = await loadFixture(queuedFixture);
      await time.increase(DAY);
      await vault.settleClaim(1);
      // 500 of 2,000 left in the same block as settlement: 25 % used, over the 10 % bucket of the 20 % limit.
      const [, usedBps, available] = await vault.outflowState(await token.getAddress());
      expect(usedBps).to.equal(2_500n);
      expect(available).to.equal(0n);
      await expect(vault.connect(alice).withdraw(UNIT, alice.address, alice.address)).to.emit(vault, "ClaimQueued");
    });

    it("sets the claim delay within [MIN_CLAIM_DELAY, MAX_CLAIM_DELAY]", async function () {
      const { vault, governance } = await loadFixture(vaultFixture);
      const [min, max] = [await vault.MIN_CLAIM_DELAY(), await vault.MAX_CLAIM_DELAY()];
      await expect(vault.connect(governance).setClaimDelay(max + 1n))
        .to.be.revertedWithCustomError(vault, "PausableVaultInvalidClaimDelay")
        .withArgs(max + 1n, min, max);
      await expect(vault.connect(governance).setClaimDelay(max)).to.emit(vault, "ClaimDelaySet").withArgs(DAY, max);
      expect(await vault.claimDelay()).to.equal(max);
    });
  });

  describe("outflow limit, action Trip", function () {
    it("trips the breaker and queues the over-limit withdrawal as a claim", async function () {
      const { vault, token, governance, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(governance).setOutflowLimit(await token.getAddress(), 2_000, WINDOW, Action.Trip);
      const tx = vault.connect(alice).withdraw(500n * UNIT, alice.address, alice.address);
      await expect(tx).to.emit(vault, "Tripped");
      await expect(tx).to.emit(vault, "ClaimQueued");
      expect(await vault.isTripped()).to.equal(true);
      await expect(vault.connect(bob).withdraw(UNIT, bob.address, bob.address)).to.be.revertedWithCustomError(
        vault,
        "CircuitBreakerOperationPaused",
      );
    });
  });

  describe("recover", function () {
    it("sweeps only to the recovery address, taking unaccounted donations before the books", async function () {
      const { vault, token, governance, recovery, stranger } = await loadFixture(vaultFixture);
      const asset = await token.getAddress();
      await token.mint(stranger.address, 100n * UNIT);
      await token.connect(stranger).transfer(await vault.getAddress(), 100n * UNIT);
      await expect(vault.connect(governance).recover(asset, 60n * UNIT))
        .to.emit(vault, "Recovered")
        .withArgs(asset, recovery.address, 60n * UNIT);
      expect(await vault.totalAssets()).to.equal(2_000n * UNIT);
      await vault.connect(governance).recover(asset, 540n * UNIT);
      expect(await vault.totalAssets()).to.equal(1_500n * UNIT);
      expect(await token.balanceOf(recovery.address)).to.equal(600n * UNIT);
      expect(await token.balanceOf(governance.address)).to.equal(0n);
    });

    it("sweeps any other token the vault holds, also while tripped", async function () {
      const { vault, governance, guardian, recovery } = await loadFixture(vaultFixture);
      const other = (await (await ethers.getContractFactory("MockERC20")).deploy("Other", "OTH", 6)) as MockERC20;
      await other.mint(await vault.getAddress(), 1234n);
      await vault.connect(guardian).trip(ethers.id("stuck"));
      await vault.connect(governance).recover(await other.getAddress(), 1234n);
      expect(await other.balanceOf(recovery.address)).to.equal(1234n);
    });

    it("still rescues what is left of a vault that lost funds, which blocks every user operation", async function () {
      const { vault, token, governance, alice, recovery } = await loadFixture(vaultFixture);
      const asset = await token.getAddress();
      const self = await vault.getAddress();
      await token.burn(self, 300n * UNIT); // an exploit drained 300 behind the vault's back
      await expect(vault.connect(alice).withdraw(UNIT, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultInsolvent")
        .withArgs(1_699n * UNIT, 1_999n * UNIT);
      await expect(vault.connect(alice).deposit(UNIT, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultInsolvent")
        .withArgs(1_701n * UNIT, 2_001n * UNIT);
      await vault.connect(governance).recover(asset, 1_700n * UNIT);
      expect(await token.balanceOf(recovery.address)).to.equal(1_700n * UNIT);
      expect(await vault.totalAssets()).to.equal(300n * UNIT);
      expect(await token.balanceOf(self)).to.equal(0n);
    });

    it("refuses the vault's own (escrowed) shares and amounts above the balance", async function () {
      const { vault, token, governance } = await loadFixture(vaultFixture);
      const self = await vault.getAddress();
      await expect(vault.connect(governance).recover(self, 1n))
        .to.be.revertedWithCustomError(vault, "PausableVaultUnrecoverableToken")
        .withArgs(self);
      const asset = await token.getAddress();
      await expect(vault.connect(governance).recover(asset, 2_000n * UNIT + 1n))
        .to.be.revertedWithCustomError(vault, "PausableVaultRecoveryExceedsBalance")
        .withArgs(asset, 2_000n * UNIT + 1n, 2_000n * UNIT);
    });
  });

  describe("access control matrix", function () {
    it("lets the guardian only trip, governance everything but trip, and a stranger nothing", async function () {
      const { vault, token, governance, guardian, stranger, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).withdraw(500n * UNIT, alice.address, alice.address); // claim 1 exists
      const asset = await token.getAddress();
      const [GUARDIAN, GOVERNOR, ADMIN] = [
        await vault.GUARDIAN_ROLE(),
        await vault.GOVERNOR_ROLE(),
        await vault.DEFAULT_ADMIN_ROLE(),
      ];
      const id = ethers.id("matrix");
      type Case = { name: string; role: string; call: (s: Signer) => Promise<unknown> };
      const privileged: Case[] = [
        { name: "trip", role: GUARDIAN, call: (s) => vault.connect(s).trip(id) },
        { name: "ratify", role: GOVERNOR, call: (s) => vault.connect(s).ratify(id, 1n) },
        { name: "lift", role: GOVERNOR, call: (s) => vault.connect(s).lift(id) },
        { name: "setTripDuration", role: GOVERNOR, call: (s) => vault.connect(s).setTripDuration(2 * DAY) },
        { name: "setOperationExempt", role: GOVERNOR, call: (s) => vault.connect(s).setOperationExempt("0x12345678", true) },
        { name: "setOutflowLimit", role: GOVERNOR, call: (s) => vault.connect(s).setOutflowLimit(asset, 100, WINDOW, 0) },
        { name: "rotateGuardian", role: GOVERNOR, call: (s) => vault.connect(s).rotateGuardian(stranger.address, alice.address) },
        { name: "grantRole(guardian)", role: GOVERNOR, call: (s) => vault.connect(s).grantRole(GUARDIAN, alice.address) },
        { name: "revokeRole(guardian)", role: GOVERNOR, call: (s) => vault.connect(s).revokeRole(GUARDIAN, alice.address) },
        { name: "grantRole(governor)", role: ADMIN, call: (s) => vault.connect(s).grantRole(GOVERNOR, alice.address) },
        { name: "setClaimDelay", role: GOVERNOR, call: (s) => vault.connect(s).setClaimDelay(2 * DAY) },
        { name: "redirectClaim", role: GOVERNOR, call: (s) => vault.connect(s).redirectClaim(1) },
        { name: "cancelClaim", role: GOVERNOR, call: (s) => vault.connect(s).cancelClaim(1) },
        { name: "recover", role: GOVERNOR, call: (s) => vault.connect(s).recover(asset, 1n) },
      ];
      const holders: Record<string, Signer> = { [GUARDIAN]: guardian, [GOVERNOR]: governance, [ADMIN]: governance };
      for (const c of privileged) {
        for (const [label, signer] of [
          ["guardian", guardian],
          ["governance", governance],
          ["stranger", stranger],
        ] as const) {
          const allowed = holders[c.role] === signer;
          const attempt = expect(c.call(signer), `${c.name} by ${label}`);
          if (allowed) {
            await attempt.not.to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount");
          } else {
            await attempt.to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount").withArgs(
              await signer.getAddress(),
              c.role,
            );
          }
        }
      }
    });
  });

  describe("with adversarial assets", function () {
    it("refuses a fee-on-transfer deposit: the vault would owe more than it holds", async function () {
      const [governance, guardian, recovery, alice] = await ethers.getSigners();
      const token = (await (await ethers.getContractFactory("FeeOnTransferToken")).deploy(100)) as FeeOnTransferToken;
      const vault = await deployVault(token, governance.address, [guardian.address], recovery.address);
      await fundAndApprove(token, vault, [alice], 1_000n * UNIT);
      await expect(vault.connect(alice).deposit(100n * UNIT, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultInsolvent")
        .withArgs(99n * UNIT, 100n * UNIT);
      expect(await vault.totalAssets()).to.equal(0n);
    });

    it("keeps paying out when a token switches a fee on later (the receiver bears it)", async function () {
      const [governance, guardian, recovery, alice] = await ethers.getSigners();
      const token = (await (await ethers.getContractFactory("FeeOnTransferToken")).deploy(0)) as FeeOnTransferToken;
      const vault = await deployVault(token, governance.address, [guardian.address], recovery.address);
      await fundAndApprove(token, vault, [alice], 1_000n * UNIT);
      await vault.connect(alice).deposit(1_000n * UNIT, alice.address);
      await token.setFeeBps(100);
      await vault.connect(alice).withdraw(100n * UNIT, alice.address, alice.address);
      expect(await token.balanceOf(alice.address)).to.equal(99n * UNIT);
      expect(await vault.totalAssets()).to.equal(900n * UNIT);
      expect(await token.balanceOf(await vault.getAddress())).to.equal(900n * UNIT);
    });

    it("refuses payouts, and recoveries, of a token that charges the sender on top", async function () {
      const [governance, guardian, recovery, alice] = await ethers.getSigners();
      const token = (await (await ethers.getContractFactory("FeeOnTransferToken")).deploy(0)) as FeeOnTransferToken;
      const vault = await deployVault(token, governance.address, [guardian.address], recovery.address);
      await fundAndApprove(token, vault, [alice], 1_000n * UNIT);
      await vault.connect(alice).deposit(1_000n * UNIT, alice.address);
      await token.setFeeBps(100);
      await token.setSenderPays(true);
      // Paying 100 costs the vault 101: the books would say 900 while 899 are held.
      await expect(vault.connect(alice).withdraw(100n * UNIT, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultInsolvent")
        .withArgs(899n * UNIT, 900n * UNIT);
      await expect(vault.connect(governance).recover(await token.getAddress(), 100n * UNIT))
        .to.be.revertedWithCustomError(vault, "PausableVaultInsolvent")
        .withArgs(899n * UNIT, 900n * UNIT);
    });

    it("works with a token whose transfers return nothing (SafeERC20)", async function () {
      const [governance, guardian, recovery, alice] = await ethers.getSigners();
      const token = (await (await ethers.getContractFactory("NoReturnToken")).deploy()) as NoReturnToken;
      const vault = await deployVault(token, governance.address, [guardian.address], recovery.address);
      await fundAndApprove(token, vault, [alice], 1_000_000n);
      await vault.connect(alice).deposit(1_000_000n, alice.address);
      await vault.connect(alice).withdraw(100_000n, alice.address, alice.address);
      await vault.connect(alice).withdraw(500_000n, alice.address, alice.address); // over the limit: a claim
      await time.increase(DAY);
      await vault.settleClaim(1);
      await vault.connect(governance).recover(await token.getAddress(), 1n);
      expect(await token.balanceOf(alice.address)).to.equal(600_000n);
      expect(await token.balanceOf(recovery.address)).to.equal(1n);
      expect(await vault.totalAssets()).to.equal(399_999n);
      expect(await vault.decimals()).to.equal(6n);
    });

    it("leaves the books untouched when the token reverts, and resumes when it recovers", async function () {
      const [governance, guardian, recovery, alice] = await ethers.getSigners();
      const token = (await (await ethers.getContractFactory("RevertingToken")).deploy()) as RevertingToken;
      const vault = await deployVault(token, governance.address, [guardian.address], recovery.address);
      await fundAndApprove(token, vault, [alice], 1_000n * UNIT);
      await vault.connect(alice).deposit(500n * UNIT, alice.address);
      await token.setTransfersReverting(true);
      await expect(vault.connect(alice).deposit(UNIT, alice.address)).to.be.revertedWithCustomError(
        token,
        "RevertingTokenTransfersDisabled",
      );
      await expect(vault.connect(alice).withdraw(UNIT, alice.address, alice.address)).to.be.revertedWithCustomError(
        token,
        "RevertingTokenTransfersDisabled",
      );
      expect(await vault.totalAssets()).to.equal(500n * UNIT);
      expect(await vault.balanceOf(alice.address)).to.equal(500n * UNIT);
      expect((await vault.outflowState(await token.getAddress()))[1]).to.equal(0n);
      await token.setTransfersReverting(false);
      await vault.connect(alice).withdraw(UNIT, alice.address, alice.address);
      expect(await vault.totalAssets()).to.equal(499n * UNIT);
    });
  });
});

function anyUint() {
  // Matches any uint in withArgs (chai matchers accept predicates).
  return (value: bigint) => typeof value === "bigint";
}
