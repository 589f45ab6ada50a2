// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ICircuitBreaker} from "../../contracts/interfaces/ICircuitBreaker.sol";
import {IPausableVault} from "../../contracts/interfaces/IPausableVault.sol";
import {PausableVault} from "../../contracts/PausableVault.sol";
import {TimelockedRecovery} from "../../contracts/TimelockedRecovery.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {PausableVaultHandler} from "./handlers/PausableVaultHandler.sol";
import {Test} from "./utils/Test.sol";

/// @dev Handler-based invariants (as OpenZeppelin's governor invariant tests are built): forge calls random
/// sequences of the handler's actions (users, guardian, timelocked governance, an attacker) and checks the
/// invariants after every call. The suite runs once per over-limit action (Delay here, Trip below).
abstract contract PausableVaultInvariants is Test {
    uint16 internal constant LIMIT_BPS = 2_000;
    uint32 internal constant WINDOW = 6 hours;
    uint256 internal constant CAP = uint256(LIMIT_BPS) * 1e14;

    PausableVault internal vault;
    TimelockedRecovery internal timelock;
    MockERC20 internal asset;
    PausableVaultHandler internal handler;

    address internal constant GUARDIAN = address(0x6A);
    address internal constant GOVERNOR = address(0x60);
    address internal constant RECOVERY = address(0xEC0);

    function _outflowAction() internal pure virtual returns (ICircuitBreaker.OutflowAction);

    function setUp() public {
        asset = new MockERC20("Asset", "AST", 18);
        address[] memory governors = new address[](1);
        governors[0] = GOVERNOR;
        timelock = new TimelockedRecovery(10 minutes, governors, governors, address(0));
        address[] memory guardians = new address[](1);
        guardians[0] = GUARDIAN;
        vault = new PausableVault(
            IERC20(address(asset)),
            "Vault",
            "VLT",
            IPausableVault.Settings({
                governance: address(timelock),
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
        handler = new PausableVaultHandler(vault, timelock, asset, GUARDIAN, GOVERNOR, RECOVERY, users);

        _targetContract(address(handler));
        _targetSelectors(address(handler), _actions());
    }

    /// @dev Everything every actor can do.
    function _actions() internal view virtual returns (bytes4[] memory actions) {
        actions = new bytes4[](14);
        actions[0] = handler.deposit.selector;
        actions[1] = handler.withdraw.selector;
        actions[2] = handler.redeem.selector;
        actions[3] = handler.settleClaim.selector;
        actions[4] = handler.donate.selector;
        actions[5] = handler.wait.selector;
        actions[6] = handler.trip.selector;
        actions[7] = handler.governanceLift.selector;
        actions[8] = handler.governanceRatify.selector;
        actions[9] = handler.governanceRecover.selector;
        actions[10] = handler.governanceCancelOrRedirect.selector;
        actions[11] = handler.overreach.selector;
        actions[12] = handler.scheduleLift.selector;
        actions[13] = handler.executeScheduledLift.selector;
    }

    /// @dev The limit, strictly: over any interval no longer than the window (both ends included), instant outflows
    /// (withdrawals paid at once) minus inflows stay within the limit, each flow measured as a share of the tracked
    /// holdings at its moment (an outflow's share of the holdings it leaves, an inflow's of the holdings it joins),
    /// as the breaker defines it. And in assets: a run of outflows with no inflow in between, within one window, pays
    /// out at most the limit times the holdings before its first outflow. Claim settlements and recoveries only
    /// shrink the holdings and use up limit, so they are not counted here and only make the bound tighter.
    function invariant_outflowOverAnyWindowWithinTheLimit() public view {
        uint256 count = handler.flowsCount();
        for (uint256 start = 0; start < count; ++start) {
            PausableVaultHandler.Flow memory first = handler.flow(start);
            int256 net = 0;
            uint256 paidInRun = 0;
            bool run = first.out;
            for (uint256 end = start; end < count; ++end) {
                PausableVaultHandler.Flow memory f = handler.flow(end);
                if (f.at > first.at + WINDOW) break;
                net += f.out ? int256(f.share) : -int256(f.share);
                if (net > 0) vm.assertLe(uint256(net), CAP, "net outflow within a window exceeds the limit");
                run = run && f.out;
                if (run) {
                    paidInRun += f.assets;
                    vm.assertLe(paidInRun * 1e18, first.holdingsBefore * CAP, "outflows within a window exceed the limit in assets");
                }
            }
        }
    }

    /// @dev The only ways out: users' own withdrawals and claims, and timelocked recovery to the registered address.
    function invariant_onlyUserWithdrawalsAndTimelockedRecoveryMoveFunds() public view {
        vm.assertEq(bytes32(handler.ghostUnauthorizedSuccess()), bytes32(0), "a guardian or outsider call other than trip succeeded");
        vm.assertEq(bytes(handler.ghostBrokenFundsRule()).length, 0, handler.ghostBrokenFundsRule());
        uint256 expectedBalance =
            handler.ghostDeposited() + handler.ghostDonated() - handler.ghostPaidToUsers() - handler.ghostRecovered();
        vm.assertEq(asset.balanceOf(address(vault)), expectedBalance, "the vault's balance moved outside the known flows");
        vm.assertEq(asset.balanceOf(RECOVERY), handler.ghostRecovered(), "the recovery address got funds outside recovery");
        uint256 held = asset.balanceOf(address(vault)) + asset.balanceOf(RECOVERY);
        for (uint256 i = 0; i < handler.usersCount(); ++i) held += asset.balanceOf(handler.userAt(i));
        vm.assertEq(held, asset.totalSupply(), "funds reached someone other than users, the vault or the recovery address");
    }

    /// @dev A trip is active exactly until trip time + duration, a ratified expiry, or a lift, whichever governs.
    function invariant_tripNeverOutlivesItsExpiryUnlessRatified() public view {
        vm.assertEq(bytes(handler.ghostBrokenTripRule()).length, 0, handler.ghostBrokenTripRule());
        (bytes32 current, , , ) = vault.incident();
        vm.assertEq(current == bytes32(0), handler.ghostTripCount() == 0, "an incident exists exactly when a trip happened");
        uint256 endsAt = handler.ghostTripEndsAt();
        vm.assertEq(vault.isTripped(), vm.getBlockTimestamp() < endsAt, "tripped outside the window the rules allow");
        (bytes32 incidentId, , , uint64 expiresAt) = vault.incident();
        if (incidentId != bytes32(0)) vm.assertEq(uint256(expiresAt), endsAt, "the stored expiry departs from the rules");
    }

    /// @dev A lift waiting in the timelock for trip N, executed after anything else happened (a lapse, a new trip, a
    /// guardian re-using an id, an automatic trip in the same block), ends trip N or nothing: never trip N + 1.
    function invariant_liftScheduledForOneTripNeverEndsAnother() public view {
        vm.assertEq(bytes(handler.ghostBrokenLiftRule()).length, 0, handler.ghostBrokenLiftRule());
    }

    function invariant_vaultNeverOwesMoreThanItHolds() public view {
        uint256 owed = vault.totalAssets();
        vm.assertGe(asset.balanceOf(address(vault)), owed, "the vault holds less than its books say it owes");
        vm.assertLe(vault.convertToAssets(vault.totalSupply()), owed, "the shares are worth more than the books");
    }
}

contract PausableVaultDelayInvariantTest is PausableVaultInvariants {
    function _outflowAction() internal pure override returns (ICircuitBreaker.OutflowAction) {
        return ICircuitBreaker.OutflowAction.Delay;
    }
}

contract PausableVaultTripInvariantTest is PausableVaultInvariants {
    function _outflowAction() internal pure override returns (ICircuitBreaker.OutflowAction) {
        return ICircuitBreaker.OutflowAction.Delay;
    }
}

/// @dev Only the flows the outflow limit governs (deposits, withdrawals, time), so that every run spends its depth on
/// sequences that can break the limit, rather than on trips that pause the vault or on governance.
contract PausableVaultLimitInvariantTest is PausableVaultInvariants {
    function _outflowAction() internal pure override returns (ICircuitBreaker.OutflowAction) {
        return ICircuitBreaker.OutflowAction.Delay;
    }

    function _actions() internal view override returns (bytes4[] memory actions) {
        actions = new bytes4[](4);
        actions[0] = handler.deposit.selector;
        actions[1] = handler.withdraw.selector;
        actions[2] = handler.redeem.selector;
        actions[3] = handler.wait.selector;
    }
}

/// @dev Only what makes and ends trips (guardian trips with few distinct ids, over-limit withdrawals that trip the vault,
/// time, lifts scheduled in the timelock and executed later), so that runs often reach a lift waiting for a trip that
/// is already over while a newer trip, perhaps under a reused id, is in force.
contract PausableVaultLiftInvariantTest is PausableVaultInvariants {
    function _outflowAction() internal pure override returns (ICircuitBreaker.OutflowAction) {
        return ICircuitBreaker.OutflowAction.Delay;
    }

    function _actions() internal view override returns (bytes4[] memory actions) {
        actions = new bytes4[](7);
        actions[0] = handler.deposit.selector;
        actions[1] = handler.withdraw.selector;
        actions[2] = handler.trip.selector;
        actions[3] = handler.wait.selector;
        actions[4] = handler.scheduleLift.selector;
        actions[5] = handler.executeScheduledLift.selector;
        actions[6] = handler.governanceLift.selector;
    }
}
