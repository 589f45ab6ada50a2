// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ICircuitBreaker} from "../../contracts/interfaces/ICircuitBreaker.sol";
import {IPausableVault} from "../../contracts/interfaces/IPausableVault.sol";
import {PausableVault} from "../../contracts/PausableVault.sol";
import {TimelockedRecovery} from "../../contracts/TimelockedRecovery.sol";
import {FeeOnTransferToken} from "../../contracts/mocks/FeeOnTransferToken.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {Test} from "./utils/Test.sol";

/// @dev A standard zap: withdraws from the vault for the caller and forwards the amount `withdraw` returned. It holds
/// other users' funds too, so if a vault ever returned a value without sending it, the zap would pay from them.
contract ForwardingZap {
    MockERC20 public immutable asset;

    constructor(MockERC20 asset_) {
        asset = asset_;
    }

    function withdrawFor(PausableVault vault, uint256 assets, address to) external returns (uint256 forwarded) {
        vault.withdraw(assets, address(this), msg.sender);
        forwarded = assets;
        asset.transfer(to, forwarded);
    }

    function redeemFor(PausableVault vault, uint256 shares, address to) external returns (uint256 forwarded) {
        forwarded = vault.redeem(shares, address(this), msg.sender);
        asset.transfer(to, forwarded);
    }
}

/// @dev Fuzz tests of the vault with its real governance (a TimelockedRecovery), each with a pinned twin, and the
/// audit's findings re-run from the attacker's side (M-3, M-4, M-5).
contract PausableVaultTest is Test {
    uint256 internal constant FUNDS = 1_000_000e18;
    uint32 internal constant WINDOW = 6 hours;
    uint256 internal constant TIMELOCK_DELAY = 1 hours;
    uint32 internal constant CLAIM_DELAY = 2 hours;

    MockERC20 internal asset;
    TimelockedRecovery internal timelock;
    PausableVault internal vault;

    address internal constant GOVERNOR = address(0x60);
    address internal constant GUARDIAN = address(0x6A);
    address internal constant RECOVERY = address(0xEC0);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    function setUp() public {
        vm.warp(1_700_000_000);
        asset = new MockERC20("Asset", "AST", 18);
        address[] memory governors = new address[](1);
        governors[0] = GOVERNOR;
        timelock = new TimelockedRecovery(TIMELOCK_DELAY, governors, governors, address(0));
        vault = _vault(IERC20(address(asset)), CLAIM_DELAY);
        asset.mint(ALICE, FUNDS);
        asset.mint(BOB, FUNDS);
        vm.prank(ALICE);
        asset.approve(address(vault), type(uint256).max);
        vm.prank(BOB);
        asset.approve(address(vault), type(uint256).max);
    }

    // ------------------------------------------------------------------ recovery only to the registered address

    function testFuzz_recover_paysOnlyTheRegisteredAddress(address caller, uint256 deposited, uint256 swept) public {
        vm.assume(caller != address(timelock));
        deposited = _bound(deposited, 1, FUNDS);
        _checkRecovery(caller, deposited, _bound(swept, 0, deposited));
    }

    function test_recover_paysOnlyTheRegisteredAddress() public {
        _checkRecovery(GUARDIAN, 500_000e18, 500_000e18);
    }

    function _checkRecovery(address caller, uint256 deposited, uint256 swept) internal {
        vm.prank(ALICE);
        vault.deposit(deposited, ALICE);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, caller, vault.GOVERNOR_ROLE())
        );
        vm.prank(caller);
        vault.recover(address(asset), swept);
        bytes memory data = abi.encodeCall(vault.recover, (address(asset), swept));
        vm.prank(GOVERNOR);
        timelock.schedule(address(vault), 0, data, bytes32(0), bytes32(0), TIMELOCK_DELAY);
        vm.warp(vm.getBlockTimestamp() + TIMELOCK_DELAY);
        vm.prank(GOVERNOR);
        timelock.execute(address(vault), 0, data, bytes32(0), bytes32(0));
        vm.assertEq(asset.balanceOf(RECOVERY), swept, "everything swept went to the registered address");
        vm.assertEq(asset.balanceOf(address(vault)), deposited - swept, "and nothing else left the vault");
        vm.assertEq(vault.totalAssets(), deposited - swept, "the books shrink by the sweep");
    }

    // ------------------------------------------------------------------ M-3: a zap cannot pay from others' funds

    function testFuzz_zap_forwardsOnlyWhatTheVaultPaid(uint256 deposited, uint256 asked, uint256 othersInZap) public {
        _checkZap(_bound(deposited, 10, FUNDS), asked, _bound(othersInZap, 0, FUNDS));
    }

    /// @dev The audit's case: within maxWithdraw, over the instant limit, with the zap holding others' money.
    function test_zap_forwardsOnlyWhatTheVaultPaid() public {
        _checkZap(500_000e18, 400_000e18, 300_000e18);
    }

    function _checkZap(uint256 deposited, uint256 asked, uint256 othersInZap) internal {
        ForwardingZap zap = new ForwardingZap(asset);
        asset.mint(address(zap), othersInZap); // other users' funds the zap holds
        vm.prank(BOB);
        vault.deposit(FUNDS, BOB);
        vm.startPrank(ALICE);
        vault.deposit(deposited, ALICE);
        vault.approve(address(zap), type(uint256).max);
        vm.warp(vm.getBlockTimestamp() + 1);
        asked = _bound(asked, 1, vault.previewRedeem(vault.balanceOf(ALICE)));
        bool withinMax = asked <= vault.maxWithdraw(ALICE);
        uint256 aliceBefore = asset.balanceOf(ALICE);
        try zap.withdrawFor(vault, asked, ALICE) {
            vm.assertTrue(withinMax, "an exit above maxWithdraw succeeded");
        } catch {
            vm.assertFalse(withinMax, "an exit within maxWithdraw reverted");
        }
        uint256 left = vault.balanceOf(ALICE);
        if (left != 0) {
            try zap.redeemFor(vault, _bound(asked, 1, left), ALICE) {} catch {}
        }
        vm.stopPrank();
        vm.assertEq(asset.balanceOf(address(zap)), othersInZap, "the zap paid the user from others' funds");
        vm.assertLe(asset.balanceOf(ALICE) - aliceBefore, deposited, "the user got more than she had in the vault");
    }

    // ------------------------------------------------------------------ M-2: an own-money round trip through a request

    /// @dev The audit's M-2: deposit as much as the vault holds, request it all back, settle. Before, the settlement was
    /// charged to the limit up to 100 % while the deposit earned nothing, so every other holder's exits were blocked
    /// for windows. Now each fulfilment takes at most what may leave at its moment, and one window after the last one
    /// the other holders can take out, at once, at least what they could before the round trip (in assets).
    function testFuzz_roundTrip_requestLeavesOthersTheirAvailability(uint256 deposited, uint256 step) public {
        _checkRequestRoundTrip(_bound(deposited, 1e18, 2 * FUNDS / 2), _bound(step, 10 minutes, WINDOW));
    }

    function test_roundTrip_requestLeavesOthersTheirAvailability() public {
        _checkRequestRoundTrip(FUNDS / 2, 1 hours);
    }

    function _checkRequestRoundTrip(uint256 deposited, uint256 step) internal {
        vm.prank(BOB);
        vault.deposit(FUNDS / 2, BOB);
        vm.warp(vm.getBlockTimestamp() + WINDOW);
        uint256 othersBefore = vault.maxWithdraw(BOB);
        vm.startPrank(ALICE);
        vault.deposit(deposited, ALICE);
        uint256 id = vault.requestRedeem(vault.balanceOf(ALICE), ALICE, ALICE);
        vm.stopPrank();
        vm.warp(vm.getBlockTimestamp() + CLAIM_DELAY);
        for (uint256 i = 0; i < 400 && vault.redeemRequest(id).owner != address(0); ++i) {
            uint256 available = _available();
            try vault.fulfilRedeem(id) returns (uint256 assets, uint256) {
                vm.assertLe(assets, available, "a fulfilment took more than may leave at its moment");
            } catch {}
            vm.warp(vm.getBlockTimestamp() + step);
        }
        vm.assertEq(vault.redeemRequest(id).owner, address(0), "the request was fulfilled in the end");
        (, uint256 claimableShares) = vault.claimable(ALICE);
        vm.prank(ALICE);
        uint256 back = vault.redeem(claimableShares, ALICE, ALICE);
        vm.assertLe(back, deposited, "the round trip returned more than was deposited");
        vm.warp(vm.getBlockTimestamp() + WINDOW);
        vm.assertGe(vault.maxWithdraw(BOB) + 2, othersBefore, "the others lost instant availability to the round trip");
    }

    // ------------------------------------------------------------------ M-4: a shortfall is reported, not a freeze

    function testFuzz_shortfall_exitsContinueAndRecognitionSharesIt(uint256 lost, uint256 exit) public {
        _checkShortfall(_bound(lost, 1, FUNDS / 2), exit);
    }

    function test_shortfall_oneWeiDoesNotFreezeExits() public {
        _checkShortfall(1, 10_000e18);
    }

    function _checkShortfall(uint256 lost, uint256 exit) internal {
        vm.prank(ALICE);
        vault.deposit(FUNDS / 2, ALICE);
        vm.prank(BOB);
        vault.deposit(FUNDS / 2, BOB);
        asset.burn(address(vault), lost); // a negative rebase
        vm.warp(vm.getBlockTimestamp() + 1);
        vm.assertEq(vault.shortfall(), lost, "the shortfall is visible");
        vm.assertEq(vault.maxDeposit(ALICE), 0, "deposits are closed while short");
        exit = _bound(exit, 1, vault.maxWithdraw(ALICE));
        vm.prank(ALICE);
        vault.withdraw(exit, ALICE, ALICE);
        vm.assertEq(vault.shortfall(), lost, "an exit neither hides nor grows the shortfall");
        uint256 bobBefore = vault.previewRedeem(vault.balanceOf(BOB));
        uint256 aliceBefore = vault.previewRedeem(vault.balanceOf(ALICE));
        bytes memory data = abi.encodeCall(vault.recognizeLoss, (lost));
        vm.prank(GOVERNOR);
        timelock.schedule(address(vault), 0, data, bytes32(0), bytes32(0), TIMELOCK_DELAY);
        vm.warp(vm.getBlockTimestamp() + TIMELOCK_DELAY);
        vm.prank(GOVERNOR);
        timelock.execute(address(vault), 0, data, bytes32(0), bytes32(0));
        vm.assertEq(vault.shortfall(), 0, "recognised");
        uint256 bobLoss = bobBefore - vault.previewRedeem(vault.balanceOf(BOB));
        uint256 aliceLoss = aliceBefore - vault.previewRedeem(vault.balanceOf(ALICE));
        // Pro rata: each holder's loss is its share of the total, to a few wei of rounding.
        vm.assertApproxEqAbs(bobLoss * aliceBefore, aliceLoss * bobBefore, (aliceBefore + bobBefore) * 2, "not pro rata");
        vm.assertApproxEqAbs(bobLoss + aliceLoss, lost, 3, "the loss was not shared in full");
        vm.prank(BOB);
        vault.deposit(1e18, BOB);
    }

    // ------------------------------------------------------------------ M-5: claim order

    function testFuzz_claimOrder_delayMustOutlastTheTimelock(uint256 timelockDelay, uint32 claimDelay) public {
        timelockDelay = _bound(timelockDelay, 0, 40 days);
        claimDelay = uint32(_bound(claimDelay, vault.MIN_CLAIM_DELAY(), vault.MAX_CLAIM_DELAY()));
        address[] memory governors = new address[](1);
        governors[0] = GOVERNOR;
        TimelockedRecovery governance = new TimelockedRecovery(timelockDelay, governors, governors, address(0));
        uint256 required = timelockDelay + vault.CLAIM_ORDER_MARGIN();
        if (claimDelay <= required) {
            vm.expectRevert(
                abi.encodeWithSelector(IPausableVault.PausableVaultClaimOrderUnsafe.selector, claimDelay, required)
            );
        }
        PausableVault deployed = _vaultGovernedBy(address(governance), claimDelay);
        if (claimDelay > required) vm.assertTrue(deployed.isClaimOrderSafe(), "a safe order reported unsafe");
    }

    function test_claimOrder_shippedExampleIsRefused() public {
        address[] memory governors = new address[](1);
        governors[0] = GOVERNOR;
        TimelockedRecovery governance = new TimelockedRecovery(2 days, governors, governors, address(0));
        vm.expectRevert(
            abi.encodeWithSelector(IPausableVault.PausableVaultClaimOrderUnsafe.selector, uint32(1 days), 2 days + 30 minutes)
        );
        _vaultGovernedBy(address(governance), 1 days);
    }

    /// @dev Whenever a request is made and a guardian holds it at any moment before it is ready, a cancel scheduled
    /// in the timelock at the moment of the hold executes before the request can be fulfilled.
    function testFuzz_hold_letsGovernanceCancelFirst(uint256 holdAfter) public {
        _checkHold(_bound(holdAfter, 0, CLAIM_DELAY - 1));
    }

    function test_hold_letsGovernanceCancelFirst() public {
        _checkHold(CLAIM_DELAY - 1);
    }

    function _checkHold(uint256 holdAfter) internal {
        vm.startPrank(ALICE);
        vault.deposit(FUNDS, ALICE);
        uint256 id = vault.requestRedeem(FUNDS / 2, ALICE, ALICE);
        vm.stopPrank();
        vm.warp(vm.getBlockTimestamp() + holdAfter);
        vm.prank(GUARDIAN);
        vault.holdRedeemRequest(id);
        bytes memory data = abi.encodeCall(vault.cancelRedeemRequest, (id));
        vm.prank(GOVERNOR);
        timelock.schedule(address(vault), 0, data, bytes32(0), bytes32(0), TIMELOCK_DELAY);
        vm.warp(vm.getBlockTimestamp() + TIMELOCK_DELAY);
        vm.expectRevert();
        vault.fulfilRedeem(id);
        vm.prank(GOVERNOR);
        timelock.execute(address(vault), 0, data, bytes32(0), bytes32(0));
        vm.assertEq(vault.balanceOf(ALICE), vault.convertToShares(FUNDS), "the cancel returned the shares");
        // A second hold is refused: a guardian holds each request once, for at most MAX_HOLD_DURATION.
        vm.prank(ALICE);
        uint256 next = vault.requestRedeem(1e18, ALICE, ALICE);
        vm.prank(GUARDIAN);
        vault.holdRedeemRequest(next);
        vm.assertLe(vault.redeemRequest(next).readyAt, vm.getBlockTimestamp() + vault.MAX_HOLD_DURATION(), "hold unbounded");
        vm.expectRevert(abi.encodeWithSelector(IPausableVault.PausableVaultRequestAlreadyHeld.selector, next));
        vm.prank(GUARDIAN);
        vault.holdRedeemRequest(next);
    }

    // ------------------------------------------------------------------ requests: delay, limit, exact claims

    function testFuzz_request_fulfilsAfterItsDelayWithinTheLimit(uint256 shares, uint256 elapsed) public {
        _checkRequest(_bound(shares, 1, FUNDS), _bound(elapsed, 0, 3 days));
    }

    function test_request_cannotBeFulfilledOneSecondEarly() public {
        _checkRequest(FUNDS / 2, CLAIM_DELAY - 1);
    }

    function _checkRequest(uint256 shares, uint256 elapsed) internal {
        vm.prank(BOB);
        vault.deposit(FUNDS, BOB);
        vm.startPrank(ALICE);
        vault.deposit(FUNDS, ALICE);
        uint256 id = vault.requestRedeem(shares, ALICE, ALICE);
        vm.stopPrank();
        IPausableVault.Request memory r = vault.redeemRequest(id);
        vm.warp(vm.getBlockTimestamp() + elapsed);
        if (vm.getBlockTimestamp() < r.readyAt) {
            vm.expectRevert(abi.encodeWithSelector(IPausableVault.PausableVaultRequestNotReady.selector, id, r.readyAt));
            vault.fulfilRedeem(id);
            return;
        }
        uint256 available = _available();
        uint256 books = vault.totalAssets();
        (uint256 assets, uint256 burned) = vault.fulfilRedeem(id);
        vm.assertLe(assets, available, "a fulfilment took more than the limit allows");
        vm.assertEq(books - vault.totalAssets(), assets, "the books moved by other than the fulfilment");
        vm.assertLe(assets * r.shares, r.assets * burned, "paid above the request's price");
        uint256 before = asset.balanceOf(BOB);
        vm.prank(ALICE);
        vault.setOperator(BOB, true);
        vm.prank(BOB);
        uint256 claimed = vault.redeem(burned, BOB, ALICE);
        vm.assertEq(claimed, assets, "the claim paid other than was fulfilled");
        vm.assertEq(asset.balanceOf(BOB) - before, claimed, "the claim returned other than it paid");
    }

    // ------------------------------------------------------------------ adversarial asset

    function testFuzz_feeOnTransfer_depositRevertsAsInsolvent(uint256 feeBps, uint256 amount) public {
        _checkFeeOnTransfer(_bound(feeBps, 1, 5_000), _bound(amount, 10_000, FUNDS));
    }

    function test_feeOnTransfer_depositRevertsAsInsolvent() public {
        _checkFeeOnTransfer(100, 1_000e18);
    }

    function _checkFeeOnTransfer(uint256 feeBps, uint256 amount) internal {
        FeeOnTransferToken token = new FeeOnTransferToken(feeBps);
        PausableVault feeVault = _vault(IERC20(address(token)), CLAIM_DELAY);
        token.mint(ALICE, amount);
        vm.startPrank(ALICE);
        token.approve(address(feeVault), amount);
        uint256 received = amount - (amount * feeBps) / 10_000;
        vm.expectRevert(abi.encodeWithSelector(IPausableVault.PausableVaultInsolvent.selector, received, amount));
        feeVault.deposit(amount, ALICE);
        vm.stopPrank();
        vm.assertEq(feeVault.totalAssets(), 0, "a short-delivered deposit books nothing");
    }

    // ------------------------------------------------------------------ helpers

    function _available() internal view returns (uint256 available) {
        (, , available) = vault.outflowState(address(asset));
    }

    function _vault(IERC20 token, uint32 claimDelay) internal returns (PausableVault) {
        return _deploy(token, address(timelock), claimDelay);
    }

    function _vaultGovernedBy(address governance, uint32 claimDelay) internal returns (PausableVault) {
        return _deploy(IERC20(address(asset)), governance, claimDelay);
    }

    function _deploy(IERC20 token, address governance, uint32 claimDelay) internal returns (PausableVault) {
        address[] memory guardians = new address[](1);
        guardians[0] = GUARDIAN;
        return
            new PausableVault(
                token,
                "Vault",
                "VLT",
                IPausableVault.Settings({
                    governance: governance,
                    recovery: RECOVERY,
                    guardians: guardians,
                    tripDuration: 1 days,
                    outflowBps: 2_000,
                    outflowWindow: WINDOW,
                    outflowAction: ICircuitBreaker.OutflowAction.Delay,
                    claimDelay: claimDelay
                })
            );
    }
}
