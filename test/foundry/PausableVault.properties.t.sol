// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ICircuitBreaker} from "../../contracts/interfaces/ICircuitBreaker.sol";
import {IPausableVault} from "../../contracts/interfaces/IPausableVault.sol";
import {PausableVault} from "../../contracts/PausableVault.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {Test} from "./utils/Test.sol";

/// @dev The EIP-4626 property suite (in the spirit of a16z's erc4626-tests), run against every shipped configuration:
/// limit off, limit on with Revert, limit on with Delay, each tripped and not tripped. Every property is stated for
/// what a caller sees: previews never over- or under-estimate, max* never revert and a call within them succeeds
/// while one unit above reverts, what a call returns is exactly what moves, round trips never profit, and nothing
/// depends on who asks. A controller with a claimable balance (a fulfilled ERC-7540 request) is part of the state.
abstract contract PausableVaultProperties is Test {
    uint32 internal constant WINDOW = 6 hours;
    address internal constant GOVERNOR = address(0x60);
    address internal constant GUARDIAN = address(0x6A);
    address internal constant RECOVERY = address(0xEC0);
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);
    address internal constant CAROL = address(0xCA201);
    address internal constant SPENDER = address(0x5BE4D);

    MockERC20 internal asset;
    PausableVault internal vault;

    function _limitBps() internal pure virtual returns (uint16);
    function _action() internal pure virtual returns (ICircuitBreaker.OutflowAction);
    function _tripped() internal pure virtual returns (bool);

    function setUp() public {
        vm.warp(1_700_000_000);
        asset = new MockERC20("Asset", "AST", 18);
        address[] memory guardians = new address[](1);
        guardians[0] = GUARDIAN;
        vault = new PausableVault(
            IERC20(address(asset)),
            "Vault",
            "VLT",
            IPausableVault.Settings({
                governance: GOVERNOR,
                recovery: RECOVERY,
                guardians: guardians,
                tripDuration: 1 days,
                outflowBps: _limitBps(),
                outflowWindow: _limitBps() == 0 ? 0 : WINDOW,
                outflowAction: _action(),
                claimDelay: 1 hours
            })
        );
        address[4] memory users = [ALICE, BOB, CAROL, SPENDER];
        for (uint256 i = 0; i < users.length; ++i) {
            asset.mint(users[i], 1_000_000e18);
            vm.prank(users[i]);
            asset.approve(address(vault), type(uint256).max);
        }
        vm.prank(ALICE);
        vault.deposit(300_000e18, ALICE);
        vm.prank(BOB);
        vault.deposit(100_000e18 + 7, BOB);
        // A price other than 1: a donation does not move it, so a recognised loss does.
        asset.burn(address(vault), 3_333e18 + 1);
        vm.prank(GOVERNOR);
        vault.recognizeLoss(3_333e18 + 1);
        // Carol asks to redeem, and the request is fulfilled: she holds a claimable balance.
        vm.prank(CAROL);
        vault.deposit(50_000e18, CAROL);
        vm.prank(CAROL);
        uint256 requestId = vault.requestRedeem(20_000e18, CAROL, CAROL);
        vm.warp(vm.getBlockTimestamp() + 1 hours);
        vault.fulfilRedeem(requestId);
        // Part of the window used, so the limit binds below the holders' balances.
        vm.warp(vm.getBlockTimestamp() + 10 minutes);
        vm.prank(BOB);
        vault.withdraw(1_000e18, BOB, BOB);
        if (_tripped()) {
            vm.prank(GUARDIAN);
            vault.trip(keccak256("properties"));
        }
    }

    // ------------------------------------------------------------------ max* never revert, are 0 when paused

    function testFuzz_max_neverRevertAndAreZeroWhilePaused(address owner) public view {
        uint256[4] memory maxes = [vault.maxDeposit(owner), vault.maxMint(owner), vault.maxWithdraw(owner), vault.maxRedeem(owner)];
        for (uint256 i = 0; i < 4; ++i) {
            if (_tripped()) vm.assertEq(maxes[i], 0, "max* advertise an operation that is paused");
        }
        vm.assertLe(maxes[0], type(uint112).max - vault.totalAssets(), "maxDeposit beyond the books' range");
        (, , uint256 available) = vault.outflowState(address(asset));
        (uint256 claimableAssets, ) = vault.claimable(owner);
        if (claimableAssets == 0) vm.assertLe(maxes[2], available, "maxWithdraw beyond the limit");
    }

    // ------------------------------------------------------------------ deposit / mint

    function testFuzz_deposit_withinMaxPaysAsPreviewed(uint256 assets, address receiver) public {
        vm.assume(receiver != address(0));
        uint256 max = vault.maxDeposit(receiver);
        if (max == 0) return _checkDepositReverts(_bound(assets, 0, 1e24), receiver);
        assets = _bound(assets, 0, _min(max, asset.balanceOf(ALICE)));
        uint256 preview = vault.previewDeposit(assets);
        uint256 before = vault.balanceOf(receiver);
        uint256 held = asset.balanceOf(address(vault));
        vm.prank(ALICE);
        uint256 shares = vault.deposit(assets, receiver);
        vm.assertEq(shares, preview, "deposit minted other than previewDeposit");
        vm.assertEq(vault.balanceOf(receiver) - before, shares, "deposit returned other than it minted");
        vm.assertEq(asset.balanceOf(address(vault)) - held, assets, "deposit took other than asked");
    }

    function testFuzz_deposit_aboveMaxReverts(address receiver) public {
        vm.assume(receiver != address(0));
        uint256 max = vault.maxDeposit(receiver);
        if (max == type(uint112).max) return;
        asset.mint(ALICE, max + 1);
        vm.prank(ALICE);
        vm.expectRevert();
        vault.deposit(max + 1, receiver);
    }

    function testFuzz_mint_withinMaxCostsAsPreviewed(uint256 shares, address receiver) public {
        vm.assume(receiver != address(0));
        uint256 max = vault.maxMint(receiver);
        if (max == 0) {
            vm.prank(ALICE);
            vm.expectRevert();
            vault.mint(_bound(shares, 1, 1e24), receiver);
            return;
        }
        shares = _bound(shares, 0, _min(max, vault.convertToShares(asset.balanceOf(ALICE)) / 2));
        uint256 preview = vault.previewMint(shares);
        uint256 spent = asset.balanceOf(ALICE);
        vm.prank(ALICE);
        uint256 assets = vault.mint(shares, receiver);
        vm.assertEq(assets, preview, "mint cost other than previewMint");
        vm.assertEq(spent - asset.balanceOf(ALICE), assets, "mint returned other than it took");
    }

    // ------------------------------------------------------------------ withdraw / redeem (sync and claims)

    function testFuzz_withdraw_withinMaxPaysExactlyWhatItReturns(uint256 assets, bool bySpender, bool claimer) public {
        address owner = claimer ? CAROL : ALICE;
        address caller = _caller(owner, bySpender, claimer);
        uint256 max = vault.maxWithdraw(owner);
        if (max == 0) {
            vm.prank(caller);
            vm.expectRevert();
            vault.withdraw(1, caller, owner);
            return;
        }
        assets = _bound(assets, 0, max);
        uint256 preview = vault.previewWithdraw(assets);
        uint256 sharesBefore = vault.balanceOf(owner);
        uint256 received = asset.balanceOf(caller);
        vm.prank(caller);
        uint256 shares = vault.withdraw(assets, caller, owner);
        vm.assertEq(asset.balanceOf(caller) - received, assets, "withdraw paid other than asked");
        if (!claimer) {
            vm.assertEq(shares, preview, "withdraw burned other than previewWithdraw");
            vm.assertEq(sharesBefore - vault.balanceOf(owner), shares, "withdraw returned other than it burned");
        }
    }

    function testFuzz_withdraw_aboveMaxReverts(bool claimer) public {
        address owner = claimer ? CAROL : ALICE;
        uint256 max = vault.maxWithdraw(owner);
        vm.prank(owner);
        vm.expectRevert();
        vault.withdraw(max + 1, owner, owner);
    }

    function testFuzz_redeem_withinMaxPaysExactlyWhatItReturns(uint256 shares, bool bySpender, bool claimer) public {
        address owner = claimer ? CAROL : ALICE;
        address caller = _caller(owner, bySpender, claimer);
        uint256 max = vault.maxRedeem(owner);
        if (max == 0) {
            vm.prank(caller);
            vm.expectRevert();
            vault.redeem(1, caller, owner);
            return;
        }
        shares = _bound(shares, 0, max);
        uint256 preview = vault.previewRedeem(shares);
        uint256 received = asset.balanceOf(caller);
        vm.prank(caller);
        uint256 assets = vault.redeem(shares, caller, owner);
        vm.assertEq(asset.balanceOf(caller) - received, assets, "redeem paid other than it returned");
        if (!claimer) vm.assertEq(assets, preview, "redeem paid other than previewRedeem");
    }

    function testFuzz_redeem_aboveMaxReverts(bool claimer) public {
        address owner = claimer ? CAROL : ALICE;
        uint256 max = vault.maxRedeem(owner);
        vm.prank(owner);
        vm.expectRevert();
        vault.redeem(max + 1, owner, owner);
    }

    // ------------------------------------------------------------------ round trips never profit

    function testFuzz_roundTrip_depositRedeemNeverProfits(uint256 assets) public {
        if (vault.maxDeposit(BOB) == 0) return;
        assets = _bound(assets, 1, 10_000e18);
        vm.startPrank(BOB);
        uint256 shares = vault.deposit(assets, BOB);
        if (shares <= vault.maxRedeem(BOB)) {
            vm.assertLe(vault.redeem(shares, BOB, BOB), assets, "deposit then redeem returned more than deposited");
        }
        vm.stopPrank();
    }

    function testFuzz_roundTrip_mintWithdrawNeverProfits(uint256 shares) public {
        if (vault.maxMint(BOB) == 0) return;
        shares = _bound(shares, 1, 10_000e18);
        vm.startPrank(BOB);
        uint256 paid = vault.mint(shares, BOB);
        uint256 assets = _min(vault.maxWithdraw(BOB), paid);
        uint256 burned = vault.withdraw(assets, BOB, BOB);
        vm.stopPrank();
        vm.assertGe(burned * paid, assets * shares, "mint then withdraw got assets at a better price than paid");
    }

    function testFuzz_convert_roundTripsRoundAgainstTheCaller(uint256 amount) public view {
        amount = _bound(amount, 0, 1e30);
        vm.assertLe(vault.convertToShares(vault.convertToAssets(amount)), amount, "shares -> assets -> shares grew");
        vm.assertLe(vault.convertToAssets(vault.convertToShares(amount)), amount, "assets -> shares -> assets grew");
        vm.assertGe(vault.previewMint(vault.previewDeposit(amount)), 0, "previews revert");
    }

    // ------------------------------------------------------------------ caller independence

    function testFuzz_views_doNotDependOnTheCaller(address a, address b, uint256 amount, address owner) public {
        amount = _bound(amount, 0, 1e30);
        vm.startPrank(a);
        bytes memory seenByA = _views(amount, owner);
        vm.stopPrank();
        vm.startPrank(b);
        bytes memory seenByB = _views(amount, owner);
        vm.stopPrank();
        vm.assertEq(keccak256(seenByA), keccak256(seenByB), "a view answered differently to different callers");
    }

    // ------------------------------------------------------------------ helpers

    /// @dev Every caller-facing view, each an external call made as the pranked caller.
    function _views(uint256 amount, address owner) internal view returns (bytes memory) {
        return
            abi.encode(
                vault.previewDeposit(amount),
                vault.previewMint(amount),
                vault.previewWithdraw(amount),
                vault.previewRedeem(amount),
                vault.convertToShares(amount),
                vault.convertToAssets(amount),
                vault.maxDeposit(owner),
                vault.maxMint(owner),
                vault.maxWithdraw(owner),
                vault.maxRedeem(owner)
            );
    }

    function _checkDepositReverts(uint256 assets, address receiver) internal {
        vm.prank(ALICE);
        vm.expectRevert();
        vault.deposit(assets, receiver);
    }

    /// @dev The owner itself, or someone it authorised: a share allowance for a sync exit, an operator for a claim.
    function _caller(address owner, bool bySpender, bool claimer) internal returns (address) {
        if (!bySpender) return owner;
        vm.prank(owner);
        if (claimer) vault.setOperator(SPENDER, true);
        else vault.approve(SPENDER, type(uint256).max);
        return SPENDER;
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}

contract PausableVaultPropertiesLimitOff is PausableVaultProperties {
    function _limitBps() internal pure override returns (uint16) { return 0; }
    function _action() internal pure override returns (ICircuitBreaker.OutflowAction) { return ICircuitBreaker.OutflowAction.Revert; }
    function _tripped() internal pure override returns (bool) { return false; }
}

contract PausableVaultPropertiesLimitOffTripped is PausableVaultProperties {
    function _limitBps() internal pure override returns (uint16) { return 0; }
    function _action() internal pure override returns (ICircuitBreaker.OutflowAction) { return ICircuitBreaker.OutflowAction.Revert; }
    function _tripped() internal pure override returns (bool) { return true; }
}

contract PausableVaultPropertiesRevert is PausableVaultProperties {
    function _limitBps() internal pure override returns (uint16) { return 2_000; }
    function _action() internal pure override returns (ICircuitBreaker.OutflowAction) { return ICircuitBreaker.OutflowAction.Revert; }
    function _tripped() internal pure override returns (bool) { return false; }
}

contract PausableVaultPropertiesRevertTripped is PausableVaultProperties {
    function _limitBps() internal pure override returns (uint16) { return 2_000; }
    function _action() internal pure override returns (ICircuitBreaker.OutflowAction) { return ICircuitBreaker.OutflowAction.Revert; }
    function _tripped() internal pure override returns (bool) { return true; }
}

contract PausableVaultPropertiesDelay is PausableVaultProperties {
    function _limitBps() internal pure override returns (uint16) { return 2_000; }
    function _action() internal pure override returns (ICircuitBreaker.OutflowAction) { return ICircuitBreaker.OutflowAction.Delay; }
    function _tripped() internal pure override returns (bool) { return false; }
}

contract PausableVaultPropertiesDelayTripped is PausableVaultProperties {
    function _limitBps() internal pure override returns (uint16) { return 2_000; }
    function _action() internal pure override returns (ICircuitBreaker.OutflowAction) { return ICircuitBreaker.OutflowAction.Delay; }
    function _tripped() internal pure override returns (bool) { return true; }
}
