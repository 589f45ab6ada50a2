// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICircuitBreaker} from "../../contracts/interfaces/ICircuitBreaker.sol";
import {CircuitBreakerHandler} from "./handlers/CircuitBreakerHandler.sol";
import {Test} from "./utils/Test.sol";

/// @dev The split-proof limit, in asset units, from the attacker's side: whatever honest users, a flash-loaned
/// attacker splitting deposits and withdrawals into many calls at one timestamp, own-money round trips, dust, the
/// guardian and governance do, in any order, over every interval of at most one window:
///     assets out - assets in <= bps * holdings at the interval's start / 10,000 (+ 1 wei),
/// and within one timestamp at most half of that (the burst). Gas per run is bounded, so keep runs x depth modest.
/// Run once per over-limit action.
abstract contract CircuitBreakerInvariants is Test {
    uint16 internal constant LIMIT_BPS = 2_000;
    uint32 internal constant WINDOW = 6 hours;

    CircuitBreakerHandler internal handler;

    function _action() internal pure virtual returns (ICircuitBreaker.OutflowAction);

    function setUp() public {
        vm.warp(1_700_000_000);
        handler = new CircuitBreakerHandler(LIMIT_BPS, WINDOW, _action());
        _targetContract(address(handler));
        bytes4[] memory actions = new bytes4[](9);
        actions[0] = handler.honest.selector;
        actions[1] = handler.flashSplitDrain.selector;
        actions[2] = handler.roundTrip.selector;
        actions[3] = handler.dust.selector;
        actions[4] = handler.wait.selector;
        actions[5] = handler.guardianTrip.selector;
        actions[6] = handler.governorLift.selector;
        actions[7] = handler.governorRatify.selector;
        actions[8] = handler.flashSplitDrain.selector; // twice: the attack deserves more of the budget
        _targetSelectors(address(handler), actions);
    }

    function invariant_netOutflowWithinLimitOverEveryWindow() public view {
        int256 worst = handler.worstExcess();
        vm.assertTrue(worst <= 0, "net outflow over some interval <= window exceeded bps of the holdings at its start");
    }

    /// @dev Within one timestamp (one block, any number of calls, flash loans) at most the burst, bps / 2.
    function invariant_netOutflowAtOneTimestampWithinTheBurst() public view {
        int256 worst = handler.worstBurstExcess();
        vm.assertTrue(worst <= 0, "net outflow within one timestamp exceeded bps / 2 of the holdings at its start");
    }

    function invariant_onlyTheGuardianPauses() public view {
        (, address guardian, , ) = handler.breaker().incident();
        vm.assertTrue(
            guardian == address(0) || guardian == handler.GUARDIAN(),
            "the breaker was tripped by someone other than the guardian"
        );
    }
}

/// forge-config: default.invariant.runs = 32
contract CircuitBreakerRevertInvariants is CircuitBreakerInvariants {
    function _action() internal pure override returns (ICircuitBreaker.OutflowAction) {
        return ICircuitBreaker.OutflowAction.Revert;
    }
}

/// forge-config: default.invariant.runs = 32
contract CircuitBreakerDelayInvariants is CircuitBreakerInvariants {
    function _action() internal pure override returns (ICircuitBreaker.OutflowAction) {
        return ICircuitBreaker.OutflowAction.Delay;
    }
}
