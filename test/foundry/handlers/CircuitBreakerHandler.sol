// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICircuitBreaker} from "../../../contracts/interfaces/ICircuitBreaker.sol";
import {BreakerConsumer} from "../../../contracts/mocks/BreakerConsumer.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {Vm} from "../utils/Vm.sol";
import {bound} from "../utils/Bound.sol";

/// @dev Drives a BreakerConsumer as an honest user, an attacker with flash-loaned capital, a guardian and governance
/// would, and books every asset movement with its timestamp. BreakerConsumer's `pay` lets anyone take anything the
/// limit allows, so the attacker here is the strongest possible: the only thing between it and the funds is the limit.
///
/// Ghost books: `_starts` has one entry per active timestamp (its first flow): the holdings at its start and the net
/// outflow booked before it. After every flow the handler checks, against every start s no more than a window back,
/// net outflow since s <= bps * holdings(s) / 10,000 + TOLERANCE, and keeps the worst excess for the invariant.
contract CircuitBreakerHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev The integer division of bps * H / 10,000 can lose less than one wei; the floor itself rounds against
    /// the outflow, so one wei is all the slack the check needs.
    uint256 public constant TOLERANCE = 1;
    uint256 public constant INITIAL_HOLDINGS = 1_000_000e18;

    address public constant HONEST = address(0x1001);
    address public constant ATTACKER = address(0xBAD);
    address public constant GUARDIAN = address(0x6A);

    struct Start {
        uint64 at;
        uint256 holdings;
        int256 netOutBefore;
    }

    BreakerConsumer public immutable breaker;
    MockERC20 public immutable token;
    uint16 public immutable bps;
    uint32 public immutable window;

    Start[] internal _starts;
    int256 public netOut;
    int256 public worstExcess = type(int256).min;
    /// @dev The same check within one timestamp against the burst, bps / 2 of the holdings at its start.
    int256 public worstBurstExcess = type(int256).min;
    uint256 public flowCount;
    uint256 public tripCount;
    uint256 internal _nextIncident;

    constructor(uint16 bps_, uint32 window_, ICircuitBreaker.OutflowAction action) {
        bps = bps_;
        window = window_;
        address[] memory guardians = new address[](1);
        guardians[0] = GUARDIAN;
        breaker = new BreakerConsumer(address(this), guardians); // the handler is governance
        token = new MockERC20("Asset", "AST", 18);
        breaker.setOutflowLimit(address(token), bps_, window_, action);
        token.mint(HONEST, 100 * INITIAL_HOLDINGS);
        vm.prank(HONEST);
        token.approve(address(breaker), type(uint256).max);
        vm.prank(ATTACKER);
        token.approve(address(breaker), type(uint256).max);
        _fund(HONEST, INITIAL_HOLDINGS);
    }

    // ------------------------------------------------------------------ actors

    /// @dev An honest user deposits or takes up to what is available, at the current timestamp.
    function honest(uint256 amount, bool out) external {
        if (out) {
            (, , uint256 available) = breaker.outflowState(address(token));
            if (available == 0) return;
            _pay(HONEST, bound(amount, 1, available));
        } else {
            _fund(HONEST, bound(amount, 1, INITIAL_HOLDINGS));
        }
    }

    /// @dev H-1 at one timestamp: borrow `capital`, then `loops` times take all that is available in one chunk, deposit
    /// the capital in `pieces` dust calls and take what is available (in `pieces` calls), then repay the loan.
    function flashSplitDrain(uint256 capital, uint256 loops, uint256 pieces) external {
        uint256 h = breaker.holdings(address(token));
        capital = bound(capital, h / 100 + 1, h / 8 + 1); // around the burst: the sizes that refill without waste
        loops = bound(loops, 1, 16);
        pieces = bound(pieces, 1, 10);
        token.mint(ATTACKER, capital); // the flash loan
        for (uint256 l = 0; l < loops; ++l) {
            (, , uint256 all) = breaker.outflowState(address(token));
            if (all != 0) _pay(ATTACKER, all); // empty the bucket in one chunk, then refill it with dust deposits
            uint256 deposit = token.balanceOf(ATTACKER);
            if (deposit > capital) deposit = capital; // the loan goes round; what was taken is kept aside
            for (uint256 p = 0; p < pieces && deposit != 0; ++p) {
                uint256 piece = p + 1 == pieces ? deposit : deposit / pieces + 1;
                if (piece > deposit) piece = deposit;
                _fund(ATTACKER, piece);
                deposit -= piece;
            }
            for (uint256 p = 0; p < pieces; ++p) {
                (, , uint256 available) = breaker.outflowState(address(token));
                if (available == 0) break;
                _pay(ATTACKER, p + 1 == pieces ? available : available / (pieces - p) + 1);
            }
        }
        uint256 balance = token.balanceOf(ATTACKER);
        token.burn(ATTACKER, balance < capital ? balance : capital); // the repayment
    }

    /// @dev Own-money round trip at one timestamp, then asks for one more wei than available (over-limit probing).
    function roundTrip(uint256 amount) external {
        amount = bound(amount, 1, 2 * INITIAL_HOLDINGS);
        token.mint(ATTACKER, amount);
        _fund(ATTACKER, amount);
        (, , uint256 available) = breaker.outflowState(address(token));
        _pay(ATTACKER, amount < available ? amount : available);
        (, , available) = breaker.outflowState(address(token));
        _pay(ATTACKER, available + 1);
    }

    /// @dev Many dust outflows.
    function dust(uint256 count) external {
        count = bound(count, 1, 20);
        for (uint256 i = 0; i < count; ++i) _pay(ATTACKER, 1);
    }

    function wait(uint256 seconds_) external {
        vm.warp(vm.getBlockTimestamp() + bound(seconds_, 1, 2 * uint256(window)));
    }

    function guardianTrip() external {
        vm.prank(GUARDIAN);
        if (breaker.trip(keccak256(abi.encode("incident", ++_nextIncident)))) ++tripCount;
    }

    function governorLift() external {
        (bytes32 id, , , ) = breaker.incident();
        if (id != bytes32(0)) breaker.lift(id);
    }

    function governorRatify(uint256 extra) external {
        (bytes32 id, , , uint64 expiresAt) = breaker.incident();
        if (id == bytes32(0) || vm.getBlockTimestamp() >= expiresAt) return;
        breaker.ratify(id, uint64(vm.getBlockTimestamp() + bound(extra, 1, 3 days)));
    }

    // ------------------------------------------------------------------ booking

    function _fund(address from, uint256 amount) internal {
        if (!breaker.isOperationOpen(BreakerConsumer.fund.selector)) return;
        _beforeFlow();
        uint256 before = token.balanceOf(address(breaker));
        vm.prank(from);
        breaker.fund(token, amount);
        _afterFlow(before);
    }

    function _pay(address to, uint256 amount) internal {
        if (!breaker.isOperationOpen(BreakerConsumer.pay.selector)) return;
        if (amount > breaker.holdings(address(token))) return;
        _beforeFlow();
        uint256 before = token.balanceOf(address(breaker));
        // Over the limit: Revert reverts (nothing moves), Delay pays nothing. Either way the balances tell.
        try breaker.pay(token, to, amount) {} catch {}
        _afterFlow(before);
    }

    function _beforeFlow() internal {
        uint256 n = _starts.length;
        if (n == 0 || _starts[n - 1].at != vm.getBlockTimestamp()) {
            _starts.push(
                Start({
                    at: uint64(vm.getBlockTimestamp()),
                    holdings: breaker.holdings(address(token)),
                    netOutBefore: netOut
                })
            );
        }
    }

    function _afterFlow(uint256 before) internal {
        uint256 afterwards = token.balanceOf(address(breaker));
        netOut += int256(before) - int256(afterwards);
        ++flowCount;
        uint256 now_ = vm.getBlockTimestamp();
        for (uint256 i = _starts.length; i > 0; --i) {
            Start memory s = _starts[i - 1];
            if (now_ - s.at > window) break;
            int256 allowed = int256((s.holdings * bps) / 10_000 + TOLERANCE);
            int256 excess = netOut - s.netOutBefore - allowed;
            if (excess > worstExcess) worstExcess = excess;
        }
        Start memory current = _starts[_starts.length - 1];
        int256 burstExcess = netOut - current.netOutBefore - int256((current.holdings * bps) / 20_000 + TOLERANCE);
        if (burstExcess > worstBurstExcess) worstBurstExcess = burstExcess;
    }
}
