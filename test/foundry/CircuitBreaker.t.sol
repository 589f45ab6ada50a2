// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ICircuitBreaker} from "../../contracts/interfaces/ICircuitBreaker.sol";
import {BreakerConsumer} from "../../contracts/mocks/BreakerConsumer.sol";
import {MockERC20} from "../../contracts/mocks/MockERC20.sol";
import {Test} from "./utils/Test.sol";

/// @dev Fuzz tests of the abstract breaker through the README's consumer. Each fuzz test has a pinned twin with
/// the values a reviewer would try first, so a regression names a readable case before a shrunk one.
contract CircuitBreakerTest is Test {
    uint256 internal constant HOLDINGS = 1_000_000e18;
    uint32 internal constant WINDOW = 6 hours;

    BreakerConsumer internal breaker;
    MockERC20 internal token;
    address internal guardian = address(0x6A);
    address internal payee = address(0xBEEF);

    function setUp() public {
        vm.warp(1_700_000_000); // a realistic clock: the trip cooldown is measured from timestamps
        address[] memory guardians = new address[](1);
        guardians[0] = guardian;
        // This test contract is governance, so governance calls need no timelock round trip here.
        breaker = new BreakerConsumer(address(this), guardians);
        token = new MockERC20("Asset", "AST", 18);
        token.mint(address(this), HOLDINGS);
        token.approve(address(breaker), type(uint256).max);
        breaker.fund(token, HOLDINGS);
    }

    // ------------------------------------------------------------------ trip idempotence

    function testFuzz_trip_secondTripIsANoOp(bytes32 first, bytes32 second, uint256 elapsed) public {
        vm.assume(first != bytes32(0) && second != bytes32(0));
        _checkSecondTripIsANoOp(first, second, _bound(elapsed, 0, 1 days - 1));
    }

    function test_trip_secondTripIsANoOp() public {
        _checkSecondTripIsANoOp(keccak256("incident-1"), keccak256("incident-2"), 1 hours);
    }

    function _checkSecondTripIsANoOp(bytes32 first, bytes32 second, uint256 elapsed) internal {
        vm.prank(guardian);
        vm.assertTrue(breaker.trip(first), "the first trip trips");
        (, , , uint64 expiresAt) = breaker.incident();
        vm.warp(vm.getBlockTimestamp() + elapsed);
        vm.prank(guardian);
        vm.assertFalse(breaker.trip(second), "a second trip while tripped returns false");
        (bytes32 incidentId, , , uint64 expiresAfter) = breaker.incident();
        vm.assertEq(incidentId, first, "the first incident stays current");
        vm.assertEq(uint256(expiresAfter), uint256(expiresAt), "a second trip does not extend the first");
    }

    // ------------------------------------------------------------------ single-use incident ids

    function testFuzz_trip_reusedIdRevertsOnceNoTripIsActive(bytes32 id, uint256 elapsed, bool lifted) public {
        vm.assume(id != bytes32(0));
        _checkReusedId(id, _bound(elapsed, 0, 3 days), lifted);
    }

    function test_trip_reusedIdRevertsOnceNoTripIsActive() public {
        _checkReusedId(keccak256("reused"), 1 days, false);
        _checkReusedId(keccak256("reused after a lift"), 0, true);
    }

    function _checkReusedId(bytes32 id, uint256 elapsed, bool lifted) internal {
        _waitOutCooldown();
        vm.prank(guardian);
        breaker.trip(id);
        if (lifted) breaker.lift(id);
        vm.warp(vm.getBlockTimestamp() + elapsed);
        if (vm.getBlockTimestamp() < breaker.nextTripAt()) {
            vm.prank(guardian);
            vm.assertFalse(breaker.trip(id), "during the trip and its cooldown the same id is a no-op");
            _waitOutCooldown();
        }
        vm.expectRevert(abi.encodeWithSelector(ICircuitBreaker.CircuitBreakerIncidentReused.selector, id));
        vm.prank(guardian);
        breaker.trip(id);
    }

    // ------------------------------------------------------------------ a lift for trip N never ends trip N + 1

    function testFuzz_lift_scheduledForOneTripNeverEndsTheNext(bytes32 first, bytes32 second, uint256 gap, bool lifted) public {
        vm.assume(first != bytes32(0) && second != bytes32(0));
        _checkStaleLift(first, second, _bound(gap, 1 days, 10 days), lifted);
    }

    function test_lift_scheduledForOneTripNeverEndsTheNext() public {
        // The guardian re-trips after a lapse with the same id: the very case that let the old lift end the new trip.
        _checkStaleLift(keccak256("same"), keccak256("same"), 1 days, false);
        _checkStaleLift(keccak256("lifted"), keccak256("lifted"), 1 days, true);
        _checkStaleLift(keccak256("old"), keccak256("new"), 1 days, false);
    }

    /// @dev The "scheduled operation" is the exact calldata a timelock would execute: lift(first), built during trip N.
    function _checkStaleLift(bytes32 first, bytes32 second, uint256 gap, bool lifted) internal {
        // Start with no trip in force (the pinned cases run one after another).
        _waitOutCooldown();
        vm.prank(guardian);
        breaker.trip(first);
        bytes memory scheduledLift = abi.encodeCall(breaker.lift, (first));
        if (lifted) breaker.lift(first);
        vm.warp(vm.getBlockTimestamp() + gap);
        _waitOutCooldown();
        // Trip N + 1: with a reused id the trip is refused, so the guardian trips with a fresh one.
        vm.prank(guardian);
        (bool ok, ) = address(breaker).call(abi.encodeCall(breaker.trip, (second)));
        vm.assertEq(ok, second != first, "a trip with the id of an earlier trip is refused");
        if (!ok) {
            second = keccak256(abi.encode(second));
            vm.prank(guardian);
            breaker.trip(second);
        }
        (ok, ) = address(breaker).call(scheduledLift);
        vm.assertFalse(ok, "the lift scheduled for trip N reverts against trip N + 1");
        vm.assertTrue(breaker.isTripped(), "trip N + 1 stays in force");
        (bytes32 current, , , ) = breaker.incident();
        vm.assertEq(current, second, "and stays current");
    }

    // ------------------------------------------------------------------ expiry

    function testFuzz_trip_lapsesExactlyAtExpiry(uint32 duration, uint256 elapsed) public {
        duration = uint32(_bound(duration, breaker.MIN_TRIP_DURATION(), breaker.MAX_TRIP_DURATION()));
        _checkLapsesAtExpiry(duration, _bound(elapsed, 0, uint256(duration) * 2));
    }

    function test_trip_lapsesExactlyAtExpiry() public {
        _checkLapsesAtExpiry(1 days, 1 days - 1);
        _checkLapsesAtExpiry(1 hours, 1 hours);
    }

    function _checkLapsesAtExpiry(uint32 duration, uint256 elapsed) internal {
        breaker.setTripDuration(duration);
        _waitOutCooldown();
        vm.prank(guardian);
        breaker.trip(keccak256(abi.encode(duration, elapsed)));
        uint256 trippedAt = vm.getBlockTimestamp();
        vm.warp(trippedAt + elapsed);
        vm.assertEq(breaker.isTripped(), elapsed < duration, "tripped exactly until trippedAt + duration");
        vm.assertEq(breaker.isOperationOpen(BreakerConsumer.pay.selector), elapsed >= duration, "pay reopens at expiry");
        // Leave the breaker lapsed for the next pinned case.
        vm.warp(trippedAt + uint256(duration) * 3);
    }

    // ------------------------------------------------------------------ the guardian can only trip

    function testFuzz_guardian_canDoNothingButTrip(uint8 which, bytes32 word, uint64 number, address account) public {
        _checkGuardianCannot(which % 9, word, number, account);
    }

    function test_guardian_canDoNothingButTrip() public {
        for (uint8 which = 0; which < 9; ++which) _checkGuardianCannot(which, keccak256("x"), 2 days, guardian);
    }

    function _checkGuardianCannot(uint8 which, bytes32 word, uint64 number, address account) internal {
        vm.prank(guardian);
        breaker.trip(keccak256("trip before trying the rest"));
        bytes32 incidentId;
        (incidentId, , , ) = breaker.incident();
        bytes memory call;
        bytes32 neededRole = breaker.GOVERNOR_ROLE();
        if (which == 0) call = abi.encodeCall(breaker.lift, (incidentId));
        else if (which == 1) call = abi.encodeCall(breaker.ratify, (incidentId, number));
        else if (which == 2) call = abi.encodeCall(breaker.setTripDuration, (uint32(number)));
        else if (which == 3) call = abi.encodeCall(breaker.setOperationExempt, (bytes4(word), true));
        else if (which == 4) {
            call = abi.encodeCall(breaker.setOutflowLimit, (address(token), 0, 0, ICircuitBreaker.OutflowAction.Revert));
        } else if (which == 5) call = abi.encodeCall(breaker.rotateGuardian, (guardian, account));
        else if (which == 6) call = abi.encodeCall(breaker.sweep, (token, account, uint256(number), true));
        else if (which == 7) {
            call = abi.encodeCall(breaker.grantRole, (breaker.GUARDIAN_ROLE(), account));
        } else {
            call = abi.encodeCall(breaker.grantRole, (breaker.DEFAULT_ADMIN_ROLE(), guardian));
            neededRole = breaker.DEFAULT_ADMIN_ROLE();
        }
        vm.prank(guardian);
        (bool ok, bytes memory revertData) = address(breaker).call(call);
        vm.assertFalse(ok, "a guardian call other than trip succeeded");
        vm.assertEq(
            keccak256(revertData),
            keccak256(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, neededRole)),
            "refused for lack of the governance role"
        );
        vm.assertEq(token.balanceOf(address(breaker)), HOLDINGS, "no funds moved");
    }

    // ------------------------------------------------------------------ outflow limit, one burst
    // (the split-proof property over every interval is in CircuitBreaker.invariants.t.sol, the attacks in
    // CircuitBreakerAttacks.t.sol)

    function testFuzz_outflow_burstStaysWithinTheCap(uint16 bps, uint256[6] memory amounts) public {
        bps = uint16(_bound(bps, 1, 10_000));
        _checkBurst(bps, amounts);
    }

    function test_outflow_burstStaysWithinTheCap() public {
        uint256[6] memory amounts = [uint256(100_000e18), 50_000e18, 50_000e18, 1, 199_999e18, 1e18];
        _checkBurst(2_000, amounts);
    }

    function _checkBurst(uint16 bps, uint256[6] memory amounts) internal {
        breaker.setOutflowLimit(address(token), bps, WINDOW, ICircuitBreaker.OutflowAction.Delay);
        // At once, half the limit (c = bps / 2): the floor holds the rest back and decays by the other half per window.
        uint256 burst = (HOLDINGS * bps) / 20_000;
        for (uint256 i = 0; i < amounts.length; ++i) {
            // More than the tracked holdings always reverts, whatever the action: stay within them.
            (uint256 holdings, , uint256 available) = breaker.outflowState(address(token));
            uint256 amount = _bound(amounts[i], 0, holdings / 2);
            uint256 paidBefore = token.balanceOf(payee);
            breaker.pay(token, payee, amount);
            bool paid = token.balanceOf(payee) == paidBefore + amount;
            if (amount <= available) vm.assertTrue(paid, "an outflow within the available amount is paid");
            vm.assertLe(token.balanceOf(payee), burst, "a burst never pays more than bps / 2 of the holdings");
        }
    }

    // ------------------------------------------------------------------ outflow limit, refill after idle time

    function testFuzz_outflow_refillIsLinearAndCapped(uint256 idle) public {
        _checkRefill(_bound(idle, 0, 400 days));
    }

    function test_outflow_refillIsLinearAndCapped() public {
        _checkRefill(WINDOW / 2);
        _checkRefill(WINDOW);
        _checkRefill(365 days);
    }

    function _checkRefill(uint256 idle) internal {
        breaker.setOutflowLimit(address(token), 2_000, WINDOW, ICircuitBreaker.OutflowAction.Revert);
        (uint256 holdings, , uint256 available) = breaker.outflowState(address(token));
        breaker.pay(token, payee, available);
        (holdings, , available) = breaker.outflowState(address(token));
        vm.assertEq(available, 0, "the whole burst is used");
        vm.warp(vm.getBlockTimestamp() + idle);
        (, , available) = breaker.outflowState(address(token));
        uint256 burst = (holdings * 1_000) / 10_000;
        uint256 expected = idle >= WINDOW ? burst : (burst * idle) / WINDOW;
        // The floor is stored rounded up, so the view can be off by a few units per 1e17 of the holdings.
        vm.assertApproxEqAbs(available, expected, holdings / 1e17 + 1, "the floor decays linearly in idle time up to the burst");
        vm.assertLe(available, burst, "refill never exceeds the burst, however long the idle time");
    }

    // ------------------------------------------------------------------ ratify and lift

    function testFuzz_ratify_acceptsOnlyExpiriesWithinThirtyDays(uint64 expiresAt) public {
        _checkRatify(expiresAt);
    }

    function test_ratify_acceptsOnlyExpiriesWithinThirtyDays() public {
        _waitOutCooldown();
        _checkRatify(uint64(vm.getBlockTimestamp()) + 30 days);
        _waitOutCooldown();
        _checkRatify(uint64(vm.getBlockTimestamp()) + 30 days + 1);
        _waitOutCooldown();
        _checkRatify(uint64(vm.getBlockTimestamp()));
    }

    function _checkRatify(uint64 expiresAt) internal {
        _waitOutCooldown();
        vm.prank(guardian);
        breaker.trip(keccak256(abi.encode("ratify", expiresAt)));
        (bytes32 incidentId, , , ) = breaker.incident();
        uint64 latest = uint64(vm.getBlockTimestamp()) + breaker.MAX_RATIFIED_DURATION();
        if (expiresAt <= vm.getBlockTimestamp() || expiresAt > latest) {
            vm.expectRevert(abi.encodeWithSelector(ICircuitBreaker.CircuitBreakerInvalidExpiry.selector, expiresAt, latest));
            breaker.ratify(incidentId, expiresAt);
            return;
        }
        breaker.ratify(incidentId, expiresAt);
        vm.warp(expiresAt - 1);
        vm.assertTrue(breaker.isTripped(), "tripped until the ratified expiry");
        vm.warp(expiresAt);
        vm.assertFalse(breaker.isTripped(), "lapses at the ratified expiry");
    }

    function testFuzz_lift_refusesAnyIncidentButTheCurrentOne(bytes32 stale) public {
        vm.assume(stale != bytes32(0) && stale != keccak256("current"));
        _checkLiftOnlyCurrent(stale);
    }

    function test_lift_refusesAnyIncidentButTheCurrentOne() public {
        _checkLiftOnlyCurrent(keccak256("an older incident"));
    }

    /// @dev Moves to the first timestamp at which a guardian trip takes effect (the pinned cases run in sequence).
    function _waitOutCooldown() internal {
        uint256 next = breaker.nextTripAt();
        if (vm.getBlockTimestamp() < next) vm.warp(next);
    }

    function _checkLiftOnlyCurrent(bytes32 stale) internal {
        vm.prank(guardian);
        breaker.trip(keccak256("current"));
        vm.expectRevert(
            abi.encodeWithSelector(ICircuitBreaker.CircuitBreakerIncidentMismatch.selector, stale, keccak256("current"))
        );
        breaker.lift(stale);
        vm.assertTrue(breaker.isTripped(), "a lift scheduled for another incident never lifts this one");
        vm.assertTrue(breaker.lift(keccak256("current")), "the current incident lifts");
        vm.assertFalse(breaker.isTripped(), "lifted");
    }
}
