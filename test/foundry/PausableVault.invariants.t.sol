// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

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
        actions = new bytes4[](12);
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
    }

    /// @dev Instant outflows (withdrawals paid at once) net of inflow credits, between any two flows less than a
    /// window apart, measured in shares of the holdings as the breaker measures them. The bound is the breaker's
    /// documented token-bucket guarantee: at most the cap at once, refilled linearly over the window, so at most
    /// `cap * (1 + d / window)` over `d` seconds (2 x the cap over one full window; the literal "cap per window"
    /// reading of the limit is broken by a full withdrawal, a wait of window - 1 s and a second one).
    function invariant_outflowOverAnyWindowWithinTheLimit() public view {
        uint256 count = handler.flowsCount();
        for (uint256 start = 0; start < count; ++start) {
            PausableVaultHandler.Flow memory first = handler.flow(start);
            int256 net = 0;
            for (uint256 end = start; end < count; ++end) {
                PausableVaultHandler.Flow memory f = handler.flow(end);
                if (f.at >= first.at + WINDOW) break;
                net += f.out ? int256(f.share) : -int256(f.share);
                uint256 bound_ = CAP + (CAP * (f.at - first.at)) / WINDOW;
                if (net > 0) vm.assertLe(uint256(net), bound_, "net outflow within a window exceeds the limit");
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
        uint256 endsAt = handler.ghostTripEndsAt();
        vm.assertEq(vault.isTripped(), vm.getBlockTimestamp() < endsAt, "tripped outside the window the rules allow");
        (bytes32 incidentId, , , uint64 expiresAt) = vault.incident();
        if (incidentId != bytes32(0)) vm.assertEq(uint256(expiresAt), endsAt, "the stored expiry departs from the rules");
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
        return ICircuitBreaker.OutflowAction.Trip;
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
