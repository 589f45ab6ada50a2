// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ICircuitBreaker} from "../../contracts/interfaces/ICircuitBreaker.sol";
import {IPausableVault} from "../../contracts/interfaces/IPausableVault.sol";
import {PausableVault} from "../../contracts/PausableVault.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {PausableVaultHandler} from "./handlers/PausableVaultHandler.sol";
import {Test} from "./utils/Test.sol";

/// @dev Handler-based invariants (as OpenZeppelin's governor invariant tests are built), all in asset units so they
/// hold whatever accounting the breaker uses: forge calls random sequences of honest holders', an attacker's (flash
/// loans, splits, dust, own-money round trips, calls in others' names), a guardian's and governance's actions and
/// checks after every call. Runs once per limit action.
abstract contract PausableVaultInvariants is Test {
    uint16 internal constant LIMIT_BPS = 2_000;
    uint32 internal constant WINDOW = 6 hours;

    PausableVault internal vault;
    MockERC20 internal asset;
    PausableVaultHandler internal handler;

    address internal constant GUARDIAN = address(0x6A);
    address internal constant GOVERNOR = address(0x60);
    address internal constant RECOVERY = address(0xEC0);

    function _outflowAction() internal pure virtual returns (ICircuitBreaker.OutflowAction);

    function setUp() public {
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
                outflowBps: LIMIT_BPS,
                outflowWindow: WINDOW,
                outflowAction: _outflowAction(),
                claimDelay: 1 hours
            })
        );
        address[] memory users = new address[](3);
        users[0] = address(0x1001);
        users[1] = address(0x1002);
        users[2] = address(0x1003);
        handler = new PausableVaultHandler(vault, asset, GUARDIAN, GOVERNOR, users);
        bytes4[] memory actions = new bytes4[](18);
        actions[0] = handler.deposit.selector;
        actions[1] = handler.withdraw.selector;
        actions[2] = handler.redeem.selector;
        actions[3] = handler.requestRedeem.selector;
        actions[4] = handler.fulfil.selector;
        actions[5] = handler.cancelOwn.selector;
        actions[6] = handler.donate.selector;
        actions[7] = handler.wait.selector;
        actions[8] = handler.attackSplitRoundTrip.selector;
        actions[9] = handler.attackDust.selector;
        actions[10] = handler.attackRequestRoundTrip.selector;
        actions[11] = handler.attackFulfilAndClaim.selector;
        actions[12] = handler.attackOthers.selector;
        actions[13] = handler.hold.selector;
        actions[14] = handler.governanceCancelOrRedirect.selector;
        actions[15] = handler.loss.selector;
        actions[16] = handler.recognizeLoss.selector;
        actions[17] = handler.wait.selector;
        _targetContract(address(handler));
        _targetSelectors(address(handler), actions);
    }

    /// @dev One campaign checks every property after every call (forge runs a campaign per invariant function).
    function invariant_vault() public view {
        _balancesCoverBooksAndClaims();
        _sharePriceFallsOnlyByRecognisedLoss();
        _attackerNeverProfits();
        _noUserCallPauses();
        _outflowsWithinAWindowStayWithinTheLimit();
    }

    /// @dev What the vault holds covers its books (up to losses not yet recognised), and the escrow covers every
    /// claimable balance: nothing anyone did made the vault owe more than it has.
    function _balancesCoverBooksAndClaims() internal view {
        vm.assertLe(vault.shortfall(), handler.ghostLost() - handler.ghostRecognised(), "a shortfall beyond the losses");
        vm.assertGe(asset.balanceOf(vault.escrow()), vault.totalClaimableAssets(), "the escrow does not cover the claims");
        uint256 claims;
        uint256 pending;
        for (uint256 i = 0; i < handler.usersCount(); ++i) {
            (uint256 a, ) = vault.claimable(handler.userAt(i));
            claims += a;
        }
        (uint256 attackerClaim, ) = vault.claimable(handler.ATTACKER());
        (uint256 recoveryClaim, ) = vault.claimable(RECOVERY);
        claims += attackerClaim + recoveryClaim;
        vm.assertEq(claims, vault.totalClaimableAssets(), "claimable balances do not add up");
        for (uint256 i = 0; i < handler.requestIdsCount(); ++i) pending += vault.redeemRequest(handler.requestIdAt(i)).shares;
        vm.assertEq(pending, vault.totalPendingShares(), "pending shares do not add up");
        vm.assertGe(vault.balanceOf(address(vault)), pending, "the vault holds fewer shares than it escrows");
    }

    /// @dev Other holders never pay for anyone's actions: the assets behind a share fall only when governance
    /// recognises a loss, never through deposits, exits, requests, fulfilments, claims, dust or round trips.
    function _sharePriceFallsOnlyByRecognisedLoss() internal view {
        uint256 books = vault.totalAssets() + 1;
        uint256 supply = vault.totalSupply() + 1;
        vm.assertGe(books * handler.ghostPriceShares(), handler.ghostPriceAssets() * supply, "the share price fell");
    }

    /// @dev The attacker never ends with more than it was funded with plus the flash loans it could not repay.
    function _attackerNeverProfits() internal view {
        address attacker = handler.ATTACKER();
        uint256 wealth = asset.balanceOf(attacker) + vault.convertToAssets(vault.balanceOf(attacker));
        (uint256 claimableAssets, ) = vault.claimable(attacker);
        wealth += claimableAssets;
        for (uint256 i = 0; i < handler.requestIdsCount(); ++i) {
            IPausableVault.Request memory r = vault.redeemRequest(handler.requestIdAt(i));
            if (r.controller == attacker) wealth += _min(r.assets, vault.convertToAssets(r.shares));
        }
        vm.assertLe(wealth, handler.ATTACKER_FUNDS() + handler.ghostAttackerDebt(), "the attacker profited");
        vm.assertEq(bytes(handler.ghostBroken()).length, 0, handler.ghostBroken());
    }

    /// @dev No unprivileged pause: the handler gives no one the guardian's trip, and no user call trips the vault.
    function _noUserCallPauses() internal view {
        vm.assertFalse(vault.isTripped(), "a user call paused the vault");
    }

    /// @dev The limit in assets, as the breaker promises it: over any interval of time no longer than the window (both
    /// ends included), instant outflows (synchronous exits and fulfilments) minus inflows (deposits) stay within the limit
    /// times the books at the interval's start, however they are split, ordered or interleaved with requests, claims,
    /// holds, cancellations and flash-loaned round trips. Claims are not outflows here: they were counted at
    /// fulfilment.
    function _outflowsWithinAWindowStayWithinTheLimit() internal view {
        uint256 count = handler.flowsCount();
        for (uint256 start = 0; start < count; ++start) {
            PausableVaultHandler.Flow memory first = handler.flow(start);
            // An interval of time starts before every flow of its first timestamp (the breaker nets flows within one
            // timestamp, so a deposit and its own withdrawal in one block move nothing).
            if (start != 0 && handler.flow(start - 1).at == first.at) continue;
            uint256 paid;
            uint256 received;
            for (uint256 end = start; end < count; ++end) {
                PausableVaultHandler.Flow memory f = handler.flow(end);
                if (f.at > first.at + WINDOW) break;
                if (f.out) paid += f.assets;
                else received += f.assets;
                if (paid > received) {
                    vm.assertLe((paid - received) * 10_000, first.booksBefore * LIMIT_BPS, "net outflow within a window exceeds the limit");
                }
            }
        }
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}

contract PausableVaultDelayInvariantTest is PausableVaultInvariants {
    function _outflowAction() internal pure override returns (ICircuitBreaker.OutflowAction) {
        return ICircuitBreaker.OutflowAction.Delay;
    }
}

contract PausableVaultRevertInvariantTest is PausableVaultInvariants {
    function _outflowAction() internal pure override returns (ICircuitBreaker.OutflowAction) {
        return ICircuitBreaker.OutflowAction.Revert;
    }
}
