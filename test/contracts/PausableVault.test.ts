import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import type { IPausableVault } from "../../typechain-types/contracts/PausableVault";
import type {
  FeeOnTransferToken,
  MockERC20,
  NoReturnToken,
  PausableVault,
  RebasingToken,
  RevertingToken,
} from "../../typechain-types";

const HOUR = 60 * 60;
const DAY = 24 * HOUR;
const WINDOW = 6 * HOUR;
const UNIT = 10n ** 18n;
const MAX_BOOKS = 2n ** 112n - 1n;
const REVERT = 0;

type Token = MockERC20 | FeeOnTransferToken | NoReturnToken | RevertingToken | RebasingToken;

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
    outflowAction: REVERT,
    claimDelay: DAY,
    ...overrides,
  };
  const factory = await ethers.getContractFactory("PausableVault");
  return (await factory.deploy(await token.getAddress(), "Failsafe Vault", "fVLT", settings)) as PausableVault;
}

/** The breaker's "defer" action: 2 while the enum is {Revert, Trip, Delay}, 1 once Trip is gone. */
async function delayAction(vault: PausableVault, governance: Signer, asset: string): Promise<number> {
  return vault
    .connect(governance)
    .setOutflowLimit.staticCall(asset, 2_000, WINDOW, 2)
    .then(
      () => 2,
      () => 1,
    );
}

async function fundAndApprove(token: Token, vault: PausableVault, signers: Signer[], amount: bigint) {
  for (const s of signers) {
    await token.mint(await s.getAddress(), amount);
    await token.connect(s).approve(await vault.getAddress(), ethers.MaxUint256);
  }
}

/** A vault (20 % / 6 h limit, action Delay, EOA governance) holding 1,000 of alice's and 1,000 of bob's assets. */
async function vaultFixture() {
  const [governance, guardian, recovery, alice, bob, stranger, operator] = await ethers.getSigners();
  const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Asset", "AST", 18)) as MockERC20;
  const vault = await deployVault(token, governance.address, [guardian.address], recovery.address);
  const asset = await token.getAddress();
  const DELAY = await delayAction(vault, governance, asset);
  await vault.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, DELAY);
  await fundAndApprove(token, vault, [alice, bob], 10_000n * UNIT);
  await vault.connect(alice).deposit(1_000n * UNIT, alice.address);
  await vault.connect(bob).deposit(1_000n * UNIT, bob.address);
  return { vault, token, asset, DELAY, governance, guardian, recovery, alice, bob, stranger, operator };
}

/** Alice asked to redeem 500 shares (25 % of the vault: more than the limit lets out at once). */
async function requestedFixture() {
  const f = await vaultFixture();
  await f.vault.connect(f.alice).requestRedeem(500n * UNIT, f.alice.address, f.alice.address);
  return f;
}

type VaultFunction = Parameters<PausableVault["interface"]["getFunction"]>[0];
const sel = (vault: PausableVault, name: VaultFunction) => vault.interface.getFunction(name).selector;
const interfaceId = (vault: PausableVault, names: VaultFunction[]) =>
  ethers.toBeHex(
    names.reduce((acc, n) => acc ^ BigInt(sel(vault, n)), 0n),
    4,
  );

describe("PausableVault", function () {
  describe("constructor", function () {
    it("stores the recovery address, the escrow, the limit and the claim delay", async function () {
      const { vault, asset, recovery, DELAY } = await loadFixture(vaultFixture);
      expect(await vault.recoveryAddress()).to.equal(recovery.address);
      expect(await vault.claimDelay()).to.equal(DAY);
      expect(await vault.outflowLimit(asset)).to.deep.equal([2_000n, BigInt(WINDOW), BigInt(DELAY)]);
      expect(await vault.asset()).to.equal(asset);
      expect(await vault.share()).to.equal(await vault.getAddress());
      expect(await vault.decimals()).to.equal(18n);
      expect(await vault.nextRequestId()).to.equal(1n);
      const escrow = await ethers.getContractAt("PausableVaultEscrow", await vault.escrow());
      expect(await escrow.vault()).to.equal(await vault.getAddress());
      expect(await escrow.asset()).to.equal(asset);
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

    it("supports ERC-165 for ERC-4626, ERC-7540 (redeem, operator), ERC-7575, IPausableVault and the breaker", async function () {
      const { vault } = await loadFixture(vaultFixture);
      const erc4626: VaultFunction[] = [
        "asset", "totalAssets", "convertToShares", "convertToAssets", "maxDeposit", "previewDeposit", "deposit",
        "maxMint", "previewMint", "mint", "maxWithdraw", "previewWithdraw", "withdraw", "maxRedeem", "previewRedeem",
        "redeem",
      ];
      expect(await vault.supportsInterface(interfaceId(vault, erc4626))).to.equal(true);
      // The ids ERC-7540 and ERC-7575 publish.
      expect(interfaceId(vault, ["requestRedeem", "pendingRedeemRequest", "claimableRedeemRequest"])).to.equal("0x620ee8e4");
      expect(interfaceId(vault, ["setOperator", "isOperator"])).to.equal("0xe3bc4e65");
      // ERC-7575's id covers share() and the ERC-4626 functions other than the ERC-20 ones.
      expect(interfaceId(vault, [...erc4626, "share"])).to.equal("0x2f0a18c5");
      for (const id of ["0x620ee8e4", "0xe3bc4e65", "0x2f0a18c5", "0x7965db0b"]) {
        expect(await vault.supportsInterface(id), id).to.equal(true);
      }
      const own: VaultFunction[] = [
        "fulfilRedeem", "cancelRedeemRequest", "redirectRedeemRequest", "holdRedeemRequest", "setClaimDelay",
        "recognizeLoss", "recover", "recoveryAddress", "escrow", "claimDelay", "governanceDelay", "isClaimOrderSafe",
        "holdDuration", "redeemRequest", "nextRequestId", "claimable", "totalClaimableAssets", "totalPendingShares",
        "shortfall",
      ];
      expect(await vault.supportsInterface(interfaceId(vault, own))).to.equal(true);
      expect(await vault.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("synchronous exits (M-3: exactly what EIP-4626 says, or a revert)", function () {
    it("book what flows through them: totalAssets is the tracked holdings, not the balance", async function () {
      const { vault, token, alice, bob, stranger } = await loadFixture(vaultFixture);
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

    it("under Delay, refuse an exit over the limit instead of returning a value and sending nothing", async function () {
      const { vault, token, asset, alice } = await loadFixture(vaultFixture);
      // A block after the deposits (a split-proof breaker nets a deposit within its own timestamp).
      await time.increase(1);
      // At once: the burst, half the 20 % limit, of 2,000: maxWithdraw says so whatever the action.
      expect(await vault.maxWithdraw(alice.address)).to.equal(200n * UNIT);
      expect(await vault.maxRedeem(alice.address)).to.equal(200n * UNIT);
      // What a zap would forward: the value withdraw returns must be what the receiver gets.
      const before = await token.balanceOf(alice.address);
      const returned = await vault.connect(alice).withdraw.staticCall(200n * UNIT, alice.address, alice.address);
      await vault.connect(alice).withdraw(200n * UNIT, alice.address, alice.address);
      expect(await token.balanceOf(alice.address)).to.equal(before + 200n * UNIT);
      expect(returned).to.equal(200n * UNIT);
      await expect(vault.connect(alice).withdraw(300n * UNIT, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 300n * UNIT, anyUint());
      await expect(vault.connect(alice).redeem(300n * UNIT, alice.address, alice.address)).to.be.revertedWithCustomError(
        vault,
        "CircuitBreakerOutflowExceeded",
      );
      expect(await vault.balanceOf(alice.address)).to.equal(800n * UNIT);
      expect(await vault.balanceOf(await vault.getAddress())).to.equal(0n);
    });

    it("reject withdrawing or redeeming more than the owner has, with OpenZeppelin's errors", async function () {
      const { vault, governance, asset, alice } = await loadFixture(vaultFixture);
      await vault.connect(governance).setOutflowLimit(asset, 0, 0, REVERT);
      expect(await vault.maxWithdraw(alice.address)).to.equal(1_000n * UNIT);
      await expect(vault.connect(alice).withdraw(1_000n * UNIT + 1n, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC4626ExceededMaxWithdraw")
        .withArgs(alice.address, 1_000n * UNIT + 1n, 1_000n * UNIT);
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

    it("advertise deposits only up to the books' 112-bit range, and refuse beyond it", async function () {
      const { vault, token, alice } = await loadFixture(vaultFixture);
      const room = MAX_BOOKS - 2_000n * UNIT;
      expect(await vault.maxDeposit(alice.address)).to.equal(room);
      expect(await vault.maxMint(alice.address)).to.equal(room); // one share per asset
      await token.mint(alice.address, room + 1n);
      await expect(vault.connect(alice).deposit(room + 1n, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC4626ExceededMaxDeposit")
        .withArgs(alice.address, room + 1n, room);
      await expect(vault.connect(alice).mint(room + 1n, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC4626ExceededMaxMint")
        .withArgs(alice.address, room + 1n, room);
      await vault.connect(alice).deposit(room, alice.address);
      expect(await vault.totalAssets()).to.equal(MAX_BOOKS);
      expect(await vault.maxDeposit(alice.address)).to.equal(0n);
    });
  });

  describe("redeem requests (ERC-7540)", function () {
    it("escrow the owner's shares, valued at request time, until the claim delay has passed", async function () {
      const { vault, alice, bob } = await loadFixture(vaultFixture);
      // Bob controls the request only because he approved alice as his operator (his consent).
      await expect(vault.connect(alice).requestRedeem(500n * UNIT, bob.address, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultUnauthorizedController")
        .withArgs(alice.address, bob.address);
      await vault.connect(bob).setOperator(alice.address, true);
      const at = (await time.latest()) + 5;
      await time.setNextBlockTimestamp(at);
      await expect(vault.connect(alice).requestRedeem(500n * UNIT, bob.address, alice.address))
        .to.emit(vault, "RedeemRequest")
        .withArgs(bob.address, alice.address, 1n, alice.address, 500n * UNIT);
      expect(await vault.balanceOf(alice.address)).to.equal(500n * UNIT);
      expect(await vault.balanceOf(await vault.getAddress())).to.equal(500n * UNIT);
      expect(await vault.totalPendingShares()).to.equal(500n * UNIT);
      expect(await vault.pendingRedeemRequest(1, bob.address)).to.equal(500n * UNIT);
      expect(await vault.pendingRedeemRequest(1, alice.address)).to.equal(0n);
      expect(await vault.claimableRedeemRequest(1, bob.address)).to.equal(0n);
      const r = await vault.redeemRequest(1);
      expect([r.owner, r.controller, r.shares, r.assets, r.readyAt, r.held]).to.deep.equal([
        alice.address, bob.address, 500n * UNIT, 500n * UNIT, BigInt(at + DAY), false,
      ]);
      expect(await vault.nextRequestId()).to.equal(2n);
      await expect(vault.fulfilRedeem(1))
        .to.be.revertedWithCustomError(vault, "PausableVaultRequestNotReady")
        .withArgs(1n, at + DAY);
    });

    it("take the caller's authority from the owner: itself, an operator, or a share allowance", async function () {
      const { vault, alice, bob, operator } = await loadFixture(vaultFixture);
      await expect(vault.connect(alice).setOperator(operator.address, true))
        .to.emit(vault, "OperatorSet")
        .withArgs(alice.address, operator.address, true);
      expect(await vault.isOperator(alice.address, operator.address)).to.equal(true);
      await vault.connect(operator).requestRedeem(10n * UNIT, operator.address, alice.address);
      expect(await vault.allowance(alice.address, operator.address)).to.equal(0n);
      await expect(vault.connect(bob).requestRedeem(10n * UNIT, bob.address, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 0n, 10n * UNIT);
      await vault.connect(alice).approve(bob.address, 10n * UNIT);
      await vault.connect(bob).requestRedeem(10n * UNIT, bob.address, alice.address);
      expect(await vault.allowance(alice.address, bob.address)).to.equal(0n);
      await expect(vault.connect(alice).requestRedeem(0, alice.address, alice.address)).to.be.revertedWithCustomError(
        vault,
        "PausableVaultZeroShares",
      );
      await expect(vault.connect(alice).requestRedeem(1, ethers.ZeroAddress, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });

    it("fulfil within the outflow limit only (partly now, the rest as it refills), for anyone who calls", async function () {
      const { vault, token, asset, alice, stranger } = await loadFixture(requestedFixture);
      await time.increase(DAY);
      // 200 of the 2,000 may leave at once: 200 of the 500 become claimable.
      await expect(vault.connect(stranger).fulfilRedeem(1))
        .to.emit(vault, "RedeemFulfilled")
        .withArgs(1n, alice.address, 200n * UNIT, 200n * UNIT);
      expect(await vault.totalAssets()).to.equal(1_800n * UNIT);
      expect(await vault.claimable(alice.address)).to.deep.equal([200n * UNIT, 200n * UNIT]);
      expect(await vault.claimableRedeemRequest(1, alice.address)).to.equal(200n * UNIT);
      expect(await vault.pendingRedeemRequest(1, alice.address)).to.equal(300n * UNIT);
      expect(await token.balanceOf(await vault.escrow())).to.equal(200n * UNIT);
      expect((await vault.outflowState(asset))[2]).to.equal(0n);
      await time.increase(2 * WINDOW);
      await vault.fulfilRedeem(1);
      await time.increase(2 * WINDOW);
      await vault.fulfilRedeem(1);
      expect((await vault.redeemRequest(1)).owner).to.equal(ethers.ZeroAddress);
      expect(await vault.claimable(alice.address)).to.deep.equal([500n * UNIT, 500n * UNIT]);
      expect(await vault.totalClaimableAssets()).to.equal(500n * UNIT);
      expect(await vault.totalPendingShares()).to.equal(0n);
      expect(await vault.totalAssets()).to.equal(1_500n * UNIT);
    });

    it("are claimed by the controller or its operator with redeem/withdraw, paying exactly and touching no limit", async function () {
      const { vault, token, asset, alice, bob, operator } = await loadFixture(requestedFixture);
      await time.increase(DAY);
      await vault.fulfilRedeem(1);
      // The fulfilment used the whole burst: nothing more may leave at once, yet the claims below all pay.
      expect((await vault.outflowState(asset))[2]).to.equal(0n);
      // Previews describe the synchronous path; max* name what the controller can claim.
      expect(await vault.maxRedeem(alice.address)).to.equal(200n * UNIT);
      expect(await vault.maxWithdraw(alice.address)).to.equal(200n * UNIT);
      await expect(vault.connect(bob).redeem(UNIT, bob.address, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultUnauthorizedController")
        .withArgs(bob.address, alice.address);
      await vault.connect(alice).setOperator(operator.address, true);
      await expect(vault.connect(operator).redeem(50n * UNIT, bob.address, alice.address))
        .to.emit(vault, "Withdraw")
        .withArgs(operator.address, bob.address, alice.address, 50n * UNIT, 50n * UNIT);
      expect(await token.balanceOf(bob.address)).to.equal(9_050n * UNIT);
      await expect(vault.connect(alice).withdraw(150n * UNIT + 1n, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC4626ExceededMaxWithdraw")
        .withArgs(alice.address, 150n * UNIT + 1n, 150n * UNIT);
      await expect(vault.connect(alice).redeem(150n * UNIT + 1n, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "ERC4626ExceededMaxRedeem")
        .withArgs(alice.address, 150n * UNIT + 1n, 150n * UNIT);
      await expect(vault.connect(alice).withdraw(150n * UNIT, alice.address, alice.address))
        .to.emit(vault, "Withdraw")
        .withArgs(alice.address, alice.address, alice.address, 150n * UNIT, 150n * UNIT);
      expect((await vault.outflowState(asset))[0]).to.equal(1_800n * UNIT);
      expect(await vault.claimable(alice.address)).to.deep.equal([0n, 0n]);
      // Nothing claimable any more: the next call is a synchronous exit again.
      await time.increase(2 * WINDOW);
      await vault.connect(alice).withdraw(10n * UNIT, alice.address, alice.address);
      expect(await token.balanceOf(alice.address)).to.equal(9_160n * UNIT);
    });

    it("pay min(value at request, value at fulfilment): a loss in between is shared", async function () {
      const { vault, token, governance, asset, alice } = await loadFixture(requestedFixture);
      await vault.connect(governance).setOutflowLimit(asset, 0, 0, REVERT);
      await token.burn(await vault.getAddress(), 200n * UNIT); // 10 % lost
      await vault.connect(governance).recognizeLoss(200n * UNIT);
      await time.increase(DAY);
      await vault.fulfilRedeem(1);
      // 500 shares of 2,000 are worth 450 of 1,800 (rounded down by OpenZeppelin's virtual share).
      const [assets] = await vault.claimable(alice.address);
      expect(assets).to.be.closeTo(450n * UNIT, 1n);
      expect(assets).to.be.lte(450n * UNIT);
    });

    it("can be cancelled by the owner or controller while pending, by governance at any time", async function () {
      const { vault, governance, alice, bob, stranger } = await loadFixture(requestedFixture);
      await expect(vault.connect(stranger).cancelRedeemRequest(1))
        .to.be.revertedWithCustomError(vault, "PausableVaultUnauthorizedController")
        .withArgs(stranger.address, alice.address);
      await expect(vault.connect(alice).cancelRedeemRequest(1))
        .to.emit(vault, "RedeemRequestRevoked")
        .withArgs(1n, alice.address, 500n * UNIT);
      expect(await vault.balanceOf(alice.address)).to.equal(1_000n * UNIT);
      await vault.connect(bob).requestRedeem(100n * UNIT, bob.address, bob.address);
      await expect(vault.connect(governance).cancelRedeemRequest(2))
        .to.emit(vault, "RedeemRequestCancelled")
        .withArgs(2n, bob.address, 100n * UNIT);
      expect(await vault.totalPendingShares()).to.equal(0n);
      await expect(vault.connect(governance).cancelRedeemRequest(2))
        .to.be.revertedWithCustomError(vault, "PausableVaultUnknownRequest")
        .withArgs(2n);
    });

    it("can be redirected by governance: the recovery address is paid at fulfilment, the owner cannot cancel", async function () {
      const { vault, token, governance, alice, recovery } = await loadFixture(requestedFixture);
      await expect(vault.connect(governance).redirectRedeemRequest(1))
        .to.emit(vault, "RedeemRequestRedirected")
        .withArgs(1n, alice.address, recovery.address);
      await expect(vault.connect(alice).cancelRedeemRequest(1))
        .to.be.revertedWithCustomError(vault, "PausableVaultUnauthorizedController")
        .withArgs(alice.address, recovery.address);
      await time.increase(DAY);
      await vault.fulfilRedeem(1);
      expect(await token.balanceOf(recovery.address)).to.equal(200n * UNIT);
      expect(await vault.claimable(recovery.address)).to.deep.equal([0n, 0n]);
    });
  });

  describe("claims at the edges", function () {
    it("claim part by withdraw, the rest by redeem, and never more than the escrow holds", async function () {
      const { vault, token, alice } = await loadFixture(requestedFixture);
      await time.increase(DAY);
      await vault.fulfilRedeem(1); // 200 claimable
      await vault.connect(alice).withdraw(10n * UNIT, alice.address, alice.address);
      expect(await vault.claimable(alice.address)).to.deep.equal([190n * UNIT, 190n * UNIT]);
      // The escrow loses 90 behind everyone's back: only what it holds can be claimed.
      await token.burn(await vault.escrow(), 90n * UNIT);
      expect(await vault.maxWithdraw(alice.address)).to.equal(100n * UNIT);
      expect(await vault.maxRedeem(alice.address)).to.equal(100n * UNIT);
      await expect(vault.connect(alice).redeem(190n * UNIT, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultShortfall")
        .withArgs(190n * UNIT, 100n * UNIT);
      await token.mint(await vault.escrow(), 90n * UNIT);
      await vault.connect(alice).redeem(190n * UNIT, alice.address, alice.address);
      expect(await vault.claimable(alice.address)).to.deep.equal([0n, 0n]);
      expect(await vault.totalClaimableAssets()).to.equal(0n);
    });

    it("fulfil nothing when a request's share of what may leave rounds to zero", async function () {
      const { vault, alice, bob } = await loadFixture(requestedFixture);
      await vault.connect(bob).requestRedeem(500n * UNIT, bob.address, bob.address);
      await time.increase(DAY);
      // Both in one block: the first takes all that may leave at once, the second finds nothing.
      await network.provider.send("evm_setAutomine", [false]);
      const first = await vault.fulfilRedeem(1, { gasLimit: 500_000 });
      const second = await vault.fulfilRedeem(2, { gasLimit: 500_000 });
      await network.provider.send("evm_mine", []);
      await network.provider.send("evm_setAutomine", [true]);
      expect((await first.wait())!.status).to.equal(1);
      expect(await second.wait().then(() => "mined", () => "reverted")).to.equal("reverted");
      expect(await vault.pendingRedeemRequest(2, bob.address)).to.equal(500n * UNIT);
      // Shares move only as ERC-20 allows: no more than a balance.
      await expect(vault.connect(alice).transfer(bob.address, 501n * UNIT))
        .to.be.revertedWithCustomError(vault, "ERC20InsufficientBalance")
        .withArgs(alice.address, 500n * UNIT, 501n * UNIT);
    });

    it("refuse a fulfilment the vault cannot cover, and one a sender-charging token would make short", async function () {
      const { vault, token, governance, asset } = await loadFixture(requestedFixture);
      await vault.connect(governance).setOutflowLimit(asset, 0, 0, REVERT);
      await time.increase(DAY);
      await token.burn(await vault.getAddress(), 1_600n * UNIT);
      await expect(vault.fulfilRedeem(1))
        .to.be.revertedWithCustomError(vault, "PausableVaultShortfall")
        .withArgs(500n * UNIT, 400n * UNIT);
    });

    it("check the claim delay's bounds and the order only against a governance that answers getMinDelay", async function () {
      const { vault, token, governance, guardian, recovery } = await loadFixture(vaultFixture);
      const max = await vault.MAX_CLAIM_DELAY();
      await expect(vault.connect(governance).setClaimDelay(max + 1n))
        .to.be.revertedWithCustomError(vault, "PausableVaultInvalidClaimDelay")
        .withArgs(max + 1n, await vault.MIN_CLAIM_DELAY(), max);
      // An EOA governance: nothing to compare with, the order counts as safe.
      expect(await vault.isClaimOrderSafe()).to.equal(true);
      expect(await vault.governanceDelay()).to.equal(0n);
      expect(await vault.holdDuration()).to.equal(BigInt(HOUR / 2));
      // A contract that does not answer getMinDelay (here the token) is not checked either.
      const byContract = await deployVault(token, await token.getAddress(), [guardian.address], recovery.address, { claimDelay: HOUR });
      expect(await byContract.governanceDelay()).to.equal(0n);
      await expect(vault.connect(governance).recognizeLoss(0))
        .to.be.revertedWithCustomError(vault, "PausableVaultLossExceedsShortfall")
        .withArgs(0n, 0n);
    });
  });

  describe("claim order (M-5)", function () {
    async function timelockFixture() {
      const [deployer, guardian, recovery, proposer] = await ethers.getSigners();
      const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Asset", "AST", 18)) as MockERC20;
      const timelock = await (await ethers.getContractFactory("TimelockedRecovery")).deploy(
        2 * DAY,
        [proposer.address],
        [proposer.address],
        ethers.ZeroAddress,
      );
      return { deployer, guardian, recovery, proposer, token, timelock, governance: await timelock.getAddress() };
    }

    it("refuses the shipped example's 1-day claim delay under a 2-day timelock, accepts 3 days", async function () {
      const { guardian, recovery, token, governance } = await loadFixture(timelockFixture);
      const probe = await ethers.getContractAt("PausableVault", ethers.ZeroAddress);
      await expect(deployVault(token, governance, [guardian.address], recovery.address, { claimDelay: DAY }))
        .to.be.revertedWithCustomError(probe, "PausableVaultClaimOrderUnsafe")
        .withArgs(DAY, 2 * DAY + HOUR / 2);
      await expect(deployVault(token, governance, [guardian.address], recovery.address, { claimDelay: 2 * DAY + HOUR / 2 }))
        .to.be.revertedWithCustomError(probe, "PausableVaultClaimOrderUnsafe");
      const vault = await deployVault(token, governance, [guardian.address], recovery.address, { claimDelay: 3 * DAY });
      expect(await vault.governanceDelay()).to.equal(2n * BigInt(DAY));
      expect(await vault.isClaimOrderSafe()).to.equal(true);
      expect(await vault.holdDuration()).to.equal(BigInt(2 * DAY + HOUR / 2));
    });

    it("says when a later timelock delay made the order unsafe, and checks setClaimDelay against it", async function () {
      const { guardian, recovery, proposer, token, timelock, governance } = await loadFixture(timelockFixture);
      const vault = await deployVault(token, governance, [guardian.address], recovery.address, { claimDelay: 3 * DAY });
      const run = async (target: string, data: string, salt: string) => {
        await timelock.connect(proposer).schedule(target, 0, data, ethers.ZeroHash, salt, await timelock.getMinDelay());
        await time.increase(await timelock.getMinDelay());
        return timelock.connect(proposer).execute(target, 0, data, ethers.ZeroHash, salt);
      };
      await run(governance, timelock.interface.encodeFunctionData("updateDelay", [4 * DAY]), ethers.id("delay"));
      expect(await vault.isClaimOrderSafe()).to.equal(false);
      const tooShort = vault.interface.encodeFunctionData("setClaimDelay", [4 * DAY]);
      await expect(run(await vault.getAddress(), tooShort, ethers.id("short"))).to.be.revertedWithCustomError(
        vault,
        "PausableVaultClaimOrderUnsafe",
      );
      await run(await vault.getAddress(), vault.interface.encodeFunctionData("setClaimDelay", [5 * DAY]), ethers.id("ok"));
      expect(await vault.isClaimOrderSafe()).to.equal(true);
    });

    it("lets a guardian hold a request once, long enough for a timelocked cancel to execute first", async function () {
      const { guardian, recovery, proposer, token, timelock, governance, deployer } = await loadFixture(timelockFixture);
      const vault = await deployVault(token, governance, [guardian.address], recovery.address, { claimDelay: 3 * DAY });
      await fundAndApprove(token, vault, [deployer], 1_000n * UNIT);
      await vault.deposit(1_000n * UNIT, deployer.address);
      await vault.requestRedeem(500n * UNIT, deployer.address, deployer.address);
      // The guardian notices only just before the request is ready: too late for a 2-day timelock alone.
      await time.increase(3 * DAY - HOUR);
      await expect(vault.connect(deployer).holdRedeemRequest(1)).to.be.revertedWithCustomError(
        vault,
        "AccessControlUnauthorizedAccount",
      );
      const tx = vault.connect(guardian).holdRedeemRequest(1);
      await expect(tx).to.emit(vault, "RedeemRequestHeld");
      const { readyAt } = await vault.redeemRequest(1);
      expect(readyAt).to.equal(BigInt(await time.latest()) + BigInt(2 * DAY + HOUR / 2));
      await expect(vault.connect(guardian).holdRedeemRequest(1))
        .to.be.revertedWithCustomError(vault, "PausableVaultRequestAlreadyHeld")
        .withArgs(1n);
      // Its owner cannot pull a held request out from under governance.
      await expect(vault.cancelRedeemRequest(1)).to.be.revertedWithCustomError(vault, "PausableVaultUnauthorizedController");
      const salt = ethers.id("cancel");
      const data = vault.interface.encodeFunctionData("cancelRedeemRequest", [1]);
      await timelock.connect(proposer).schedule(await vault.getAddress(), 0, data, ethers.ZeroHash, salt, 2 * DAY);
      await time.increase(2 * DAY);
      await expect(vault.fulfilRedeem(1)).to.be.revertedWithCustomError(vault, "PausableVaultRequestNotReady");
      await timelock.connect(proposer).execute(await vault.getAddress(), 0, data, ethers.ZeroHash, salt);
      expect(await vault.balanceOf(deployer.address)).to.equal(1_000n * UNIT);
    });
  });

  describe("shortfall (M-4: reported and recognised, not a freeze)", function () {
    it("keeps exits open after a 1 wei loss, reports it, and refuses deposits until it is recognised", async function () {
      const { vault, token, governance, alice, bob } = await loadFixture(vaultFixture);
      const self = await vault.getAddress();
      await token.burn(self, 1n);
      expect(await vault.shortfall()).to.equal(1n);
      expect(await vault.maxDeposit(alice.address)).to.equal(0n);
      expect(await vault.maxMint(alice.address)).to.equal(0n);
      await expect(vault.connect(alice).withdraw(10n * UNIT, alice.address, alice.address))
        .to.emit(vault, "ShortfallObserved")
        .withArgs(2_000n * UNIT - 1n, 2_000n * UNIT);
      await expect(vault.connect(bob).deposit(UNIT, bob.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultInsolvent")
        .withArgs(1_991n * UNIT - 1n, 1_991n * UNIT);
      await expect(vault.connect(governance).recognizeLoss(2n))
        .to.be.revertedWithCustomError(vault, "PausableVaultLossExceedsShortfall")
        .withArgs(2n, 1n);
      await expect(vault.connect(governance).recognizeLoss(1n))
        .to.emit(vault, "LossRecognized")
        .withArgs(1n, 1_990n * UNIT - 1n);
      expect(await vault.shortfall()).to.equal(0n);
      await vault.connect(bob).deposit(UNIT, bob.address);
    });

    it("honours exits up to what is held, fails above with both values, and shares a recognised loss pro rata", async function () {
      const { vault, token, governance, asset, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(governance).setOutflowLimit(asset, 0, 0, REVERT);
      await token.burn(await vault.getAddress(), 1_500n * UNIT); // 2,000 booked, 500 held
      expect(await vault.maxWithdraw(alice.address)).to.equal(500n * UNIT);
      await expect(vault.connect(alice).withdraw(600n * UNIT, alice.address, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultShortfall")
        .withArgs(600n * UNIT, 500n * UNIT);
      await vault.connect(governance).recognizeLoss(1_500n * UNIT);
      // Each share now holds a quarter of what it held: alice and bob lose alike.
      const aliceValue = await vault.previewRedeem(await vault.balanceOf(alice.address));
      const bobValue = await vault.previewRedeem(await vault.balanceOf(bob.address));
      expect(aliceValue).to.equal(bobValue);
      expect(aliceValue).to.be.closeTo(250n * UNIT, 1n);
      await vault.connect(alice).redeem(await vault.balanceOf(alice.address), alice.address, alice.address);
      await vault.connect(bob).redeem(await vault.balanceOf(bob.address), bob.address, bob.address);
      expect(await token.balanceOf(await vault.getAddress())).to.be.lte(2n);
    });
  });

  describe("selective pause", function () {
    it("pauses every entry point, requests and fulfilment, with the operation, incident and expiry", async function () {
      const { vault, guardian, alice } = await loadFixture(requestedFixture);
      const id = ethers.id("vault-incident");
      await vault.connect(guardian).trip(id);
      const expiresAt = (await vault.incident())[3];
      const calls: Array<[VaultFunction, () => Promise<unknown>]> = [
        ["deposit", () => vault.connect(alice).deposit(UNIT, alice.address)],
        ["mint", () => vault.connect(alice).mint(UNIT, alice.address)],
        ["withdraw", () => vault.connect(alice).withdraw(UNIT, alice.address, alice.address)],
        ["redeem", () => vault.connect(alice).redeem(UNIT, alice.address, alice.address)],
        ["requestRedeem", () => vault.connect(alice).requestRedeem(UNIT, alice.address, alice.address)],
        ["fulfilRedeem", () => vault.connect(alice).fulfilRedeem(1)],
      ];
      for (const [name, call] of calls) {
        await expect(call())
          .to.be.revertedWithCustomError(vault, "CircuitBreakerOperationPaused")
          .withArgs(sel(vault, name), id, expiresAt);
      }
      for (const max of [vault.maxDeposit, vault.maxMint, vault.maxWithdraw, vault.maxRedeem]) {
        expect(await max(alice.address)).to.equal(0n);
      }
      // Her own pending request she can still take back.
      await vault.connect(alice).cancelRedeemRequest(1);
    });

    it("keeps an emergency exit open when governance exempts withdraw and redeem", async function () {
      const { vault, token, governance, guardian, alice } = await loadFixture(vaultFixture);
      await vault.connect(governance).setOperationExempt(sel(vault, "withdraw"), true);
      await vault.connect(governance).setOperationExempt(sel(vault, "redeem"), true);
      await vault.connect(guardian).trip(ethers.id("exit-open"));
      expect(await vault.maxWithdraw(alice.address)).to.equal(200n * UNIT);
      await vault.connect(alice).withdraw(100n * UNIT, alice.address, alice.address);
      await vault.connect(alice).redeem(90n * UNIT, alice.address, alice.address);
      expect(await token.balanceOf(alice.address)).to.equal(9_190n * UNIT);
    });
  });

  describe("recover", function () {
    it("sweeps only to the recovery address, taking unaccounted donations before the books", async function () {
      const { vault, token, asset, governance, recovery, stranger } = await loadFixture(vaultFixture);
      await token.mint(stranger.address, 100n * UNIT);
      await token.connect(stranger).transfer(await vault.getAddress(), 100n * UNIT);
      await expect(vault.connect(governance).recover(asset, 60n * UNIT))
        .to.emit(vault, "Recovered")
        .withArgs(asset, recovery.address, 60n * UNIT);
      expect(await vault.totalAssets()).to.equal(2_000n * UNIT);
      await vault.connect(governance).recover(asset, 540n * UNIT);
      expect(await vault.totalAssets()).to.equal(1_500n * UNIT);
      expect(await token.balanceOf(recovery.address)).to.equal(600n * UNIT);
    });

    it("sweeps any other token, also while tripped, and rescues what is left of a vault that is short", async function () {
      const { vault, token, asset, governance, guardian, recovery } = await loadFixture(vaultFixture);
      const other = (await (await ethers.getContractFactory("MockERC20")).deploy("Other", "OTH", 6)) as MockERC20;
      await other.mint(await vault.getAddress(), 1234n);
      await vault.connect(guardian).trip(ethers.id("stuck"));
      await vault.connect(governance).recover(await other.getAddress(), 1234n);
      expect(await other.balanceOf(recovery.address)).to.equal(1234n);
      await token.burn(await vault.getAddress(), 300n * UNIT);
      await vault.connect(governance).recover(asset, 1_700n * UNIT);
      expect(await vault.totalAssets()).to.equal(300n * UNIT);
      await expect(vault.connect(governance).recover(asset, 1n))
        .to.be.revertedWithCustomError(vault, "PausableVaultRecoveryExceedsBalance")
        .withArgs(asset, 1n, 0n);
    });

    it("returns vault shares sent by mistake, never the shares escrowed for requests", async function () {
      const { vault, governance, alice, recovery } = await loadFixture(requestedFixture);
      const self = await vault.getAddress();
      await vault.connect(alice).transfer(self, 7n * UNIT); // a mistake
      await expect(vault.connect(governance).recover(self, 7n * UNIT + 1n))
        .to.be.revertedWithCustomError(vault, "PausableVaultRecoveryExceedsBalance")
        .withArgs(self, 7n * UNIT + 1n, 7n * UNIT);
      await vault.connect(governance).recover(self, 7n * UNIT);
      expect(await vault.balanceOf(recovery.address)).to.equal(7n * UNIT);
      expect(await vault.balanceOf(self)).to.equal(500n * UNIT);
    });
  });

  describe("access control matrix", function () {
    it("lets the guardian trip and hold, governance everything else privileged, and a stranger nothing", async function () {
      const { vault, asset, governance, guardian, stranger, alice } = await loadFixture(requestedFixture);
      await vault.connect(alice).requestRedeem(10n * UNIT, alice.address, alice.address); // request 2
      const [GUARDIAN, GOVERNOR, ADMIN] = [
        await vault.GUARDIAN_ROLE(),
        await vault.GOVERNOR_ROLE(),
        await vault.DEFAULT_ADMIN_ROLE(),
      ];
      const id = ethers.id("matrix");
      type Case = { name: string; role: string; call: (s: Signer) => Promise<unknown> };
      const privileged: Case[] = [
        { name: "trip", role: GUARDIAN, call: (s) => vault.connect(s).trip(id) },
        { name: "holdRedeemRequest", role: GUARDIAN, call: (s) => vault.connect(s).holdRedeemRequest(2) },
        { name: "ratify", role: GOVERNOR, call: (s) => vault.connect(s).ratify(id, 1n) },
        { name: "lift", role: GOVERNOR, call: (s) => vault.connect(s).lift(id) },
        { name: "setTripDuration", role: GOVERNOR, call: (s) => vault.connect(s).setTripDuration(2 * DAY) },
        { name: "setOperationExempt", role: GOVERNOR, call: (s) => vault.connect(s).setOperationExempt("0x12345678", true) },
        { name: "setOutflowLimit", role: GOVERNOR, call: (s) => vault.connect(s).setOutflowLimit(asset, 100, WINDOW, 0) },
        // Whoever administers GOVERNOR_ROLE (DEFAULT_ADMIN_ROLE or GOVERNOR_ROLE itself): held by governance.
        { name: "grantRole(governor)", role: await vault.getRoleAdmin(GOVERNOR), call: (s) => vault.connect(s).grantRole(GOVERNOR, alice.address) },
        { name: "setClaimDelay", role: GOVERNOR, call: (s) => vault.connect(s).setClaimDelay(2 * DAY) },
        { name: "redirectRedeemRequest", role: GOVERNOR, call: (s) => vault.connect(s).redirectRedeemRequest(1) },
        { name: "recognizeLoss", role: GOVERNOR, call: (s) => vault.connect(s).recognizeLoss(1n) },
        { name: "recover", role: GOVERNOR, call: (s) => vault.connect(s).recover(asset, 1n) },
      ];
      const holders: Record<string, Signer> = { [GUARDIAN]: guardian, [GOVERNOR]: governance, [ADMIN]: governance };
      for (const c of privileged) {
        for (const [label, signer] of [
          ["guardian", guardian],
          ["governance", governance],
          ["stranger", stranger],
        ] as const) {
          const attempt = expect(c.call(signer), `${c.name} by ${label}`);
          if (holders[c.role] === signer) {
            await attempt.not.to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount");
          } else {
            await attempt.to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount").withArgs(
              await signer.getAddress(),
              c.role,
            );
          }
        }
      }
      const escrow = await ethers.getContractAt("PausableVaultEscrow", await vault.escrow());
      await expect(escrow.connect(governance).pay(governance.address, 1n))
        .to.be.revertedWithCustomError(escrow, "PausableVaultEscrowUnauthorized")
        .withArgs(governance.address);
    });
  });

  describe("with adversarial assets", function () {
    async function adversarialVault<T extends Token>(name: string, ...args: unknown[]) {
      const [governance, guardian, recovery, alice] = await ethers.getSigners();
      const token = (await (await ethers.getContractFactory(name)).deploy(...args)) as unknown as T;
      const vault = await deployVault(token, governance.address, [guardian.address], recovery.address);
      return { token, vault, governance, recovery, alice };
    }

    it("refuses a fee-on-transfer deposit: it never credits more than received", async function () {
      const { token, vault, alice } = await adversarialVault<FeeOnTransferToken>("FeeOnTransferToken", 100);
      await fundAndApprove(token, vault, [alice], 1_000n * UNIT);
      await expect(vault.connect(alice).deposit(100n * UNIT, alice.address))
        .to.be.revertedWithCustomError(vault, "PausableVaultInsolvent")
        .withArgs(99n * UNIT, 100n * UNIT);
      expect(await vault.totalAssets()).to.equal(0n);
    });

    it("pays out when a fee is switched on later (the receiver bears it), and reports a fee charged to the vault", async function () {
      const { token, vault, governance, alice } = await adversarialVault<FeeOnTransferToken>("FeeOnTransferToken", 0);
      await fundAndApprove(token, vault, [alice], 1_000n * UNIT);
      await vault.connect(alice).deposit(1_000n * UNIT, alice.address);
      await token.setFeeBps(100);
      await vault.connect(alice).withdraw(50n * UNIT, alice.address, alice.address);
      expect(await token.balanceOf(alice.address)).to.equal(49_500n * 10n ** 15n);
      await vault.connect(alice).requestRedeem(90n * UNIT, alice.address, alice.address);
      await time.increase(DAY);
      await vault.fulfilRedeem(1);
      // The escrow received 89.1 of the 90: that is all the controller can claim.
      expect(await vault.claimable(alice.address)).to.deep.equal([89_100n * 10n ** 15n, 90n * UNIT]);
      await vault.connect(alice).withdraw(89_100n * 10n ** 15n, alice.address, alice.address); // the claim
      await time.increase(2 * WINDOW);
      await token.setSenderPays(true);
      // Recovery checks after the sweep and refuses a transfer that cost the vault more than it sent.
      await expect(vault.connect(governance).recover(await token.getAddress(), 10n * UNIT))
        .to.be.revertedWithCustomError(vault, "PausableVaultInsolvent")
        .withArgs(849_900n * 10n ** 15n, 850n * UNIT);
      // A synchronous exit reads the balance once, before paying: the fee it cost shows as a shortfall, which the next
      // exit reports and which keeps deposits closed until governance recognises it.
      await vault.connect(alice).withdraw(10n * UNIT, alice.address, alice.address);
      expect(await vault.shortfall()).to.equal(UNIT / 10n);
      await expect(vault.connect(alice).withdraw(UNIT, alice.address, alice.address))
        .to.emit(vault, "ShortfallObserved")
        .withArgs(849_900n * 10n ** 15n, 850n * UNIT);
      await expect(vault.connect(alice).deposit(UNIT, alice.address)).to.be.revertedWithCustomError(vault, "PausableVaultInsolvent");
      await vault.connect(governance).recognizeLoss(UNIT / 10n);
      // A fulfilment checks after the transfer: the fee charged on top is refused.
      await vault.connect(alice).requestRedeem(10n * UNIT, alice.address, alice.address);
      await time.increase(DAY);
      await expect(vault.fulfilRedeem(2)).to.be.revertedWithCustomError(vault, "PausableVaultInsolvent");
    });

    it("works with a token whose transfers return nothing (SafeERC20), through a whole request", async function () {
      const { token, vault, governance, recovery, alice } = await adversarialVault<NoReturnToken>("NoReturnToken");
      await fundAndApprove(token, vault, [alice], 1_000_000n);
      await vault.connect(alice).deposit(1_000_000n, alice.address);
      await vault.connect(alice).withdraw(100_000n, alice.address, alice.address);
      await vault.connect(alice).requestRedeem(500_000n, alice.address, alice.address);
      await time.increase(DAY);
      await vault.fulfilRedeem(1);
      const [claimableAssets] = await vault.claimable(alice.address);
      await vault.connect(alice).withdraw(claimableAssets, alice.address, alice.address);
      await vault.connect(governance).recover(await token.getAddress(), 1n);
      expect(await token.balanceOf(alice.address)).to.equal(100_000n + claimableAssets);
      expect(await token.balanceOf(recovery.address)).to.equal(1n);
      expect(await vault.decimals()).to.equal(6n);
    });

    it("leaves the books untouched when the token reverts, and resumes when it recovers", async function () {
      const { token, vault, alice } = await adversarialVault<RevertingToken>("RevertingToken");
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
      await token.setTransfersReverting(false);
      await vault.connect(alice).withdraw(UNIT, alice.address, alice.address);
      expect(await vault.totalAssets()).to.equal(499n * UNIT);
    });

    it("survives a negative rebase: exits continue, deposits wait, recognition shares the loss", async function () {
      const { token, vault, governance, alice } = await adversarialVault<RebasingToken>("RebasingToken");
      const [, , , , bob] = await ethers.getSigners();
      await fundAndApprove(token, vault, [alice, bob], 2_000n * UNIT);
      await vault.connect(alice).deposit(1_000n * UNIT, alice.address);
      await vault.connect(bob).deposit(1_000n * UNIT, bob.address);
      await token.rebase(-100); // a 1 % slashing
      const missing = await vault.shortfall();
      expect(missing).to.be.closeTo(20n * UNIT, 2n);
      await vault.connect(alice).withdraw(10n * UNIT, alice.address, alice.address);
      await expect(vault.connect(bob).deposit(UNIT, bob.address)).to.be.revertedWithCustomError(vault, "PausableVaultInsolvent");
      await vault.connect(governance).recognizeLoss(await vault.shortfall());
      expect(await vault.shortfall()).to.equal(0n);
      await vault.connect(bob).deposit(UNIT, bob.address);
    });
  });
});

function anyUint() {
  return (value: bigint) => typeof value === "bigint";
}
