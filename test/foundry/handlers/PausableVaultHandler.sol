// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICircuitBreaker} from "../../../contracts/interfaces/ICircuitBreaker.sol";
import {IPausableVault} from "../../../contracts/interfaces/IPausableVault.sol";
import {PausableVault} from "../../../contracts/PausableVault.sol";
import {TimelockedRecovery} from "../../../contracts/TimelockedRecovery.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {Vm} from "../utils/Vm.sol";
import {bound} from "../utils/Bound.sol";

/// @dev Drives a PausableVault the way its users, its guardian, its governance (through the real
/// TimelockedRecovery: schedule, wait, execute) and an attacker would, and keeps ghost books of every flow so the
/// invariant test can check the vault against an account of what should have happened. Actions bound their inputs
/// into the meaningful range, and expected reverts (a paused vault, an over-limit request) are caught: only calls
/// that succeed change the ghosts.
contract PausableVaultHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant WAD = 1e18;
    uint256 internal constant USER_FUNDS = 1_000_000e18;

    /// @dev One instant flow through the breaker: its assets, the tracked holdings just before it, and its share of the
    /// holdings as the limit defines it (an outflow's share of the holdings it leaves, an inflow's share of the
    /// holdings it joins), in 1e18. Outflow shares are rounded down and inflow shares up, so the ghost never
    /// overstates what the breaker allowed.
    struct Flow {
        uint64 at;
        bool out;
        uint256 share;
        uint256 assets;
        uint256 holdingsBefore;
    }

    /// @dev A lift scheduled in the timelock for one trip (numbered in order), executed later by another action.
    struct ScheduledLift {
        bytes32 incidentId;
        uint256 tripNumber;
        bytes32 salt;
    }

    PausableVault public immutable vault;
    TimelockedRecovery public immutable timelock;
    MockERC20 public immutable asset;
    address public immutable guardian;
    address public immutable governor;
    address public immutable recovery;
    address public immutable attacker;
    address[] internal _users;

    Flow[] internal _flows;
    uint256[] internal _claimIds;
    ScheduledLift[] internal _scheduledLifts;
    mapping(bytes32 incidentId => bool) internal _usedIncidents;

    uint256 public ghostDeposited;
    uint256 public ghostDonated;
    uint256 public ghostPaidToUsers;
    uint256 public ghostRecovered;
    /// @dev When the current trip must be over, by the rules: trip time + duration, a ratified expiry, or a lift.
    uint256 public ghostTripEndsAt;
    /// @dev How many trips happened (by the guardian or by the outflow limit): the current trip's number.
    uint256 public ghostTripCount;
    /// @dev Set if any call by the guardian or the attacker other than a trip changed anything it must not.
    bytes4 public ghostUnauthorizedSuccess;
    /// @dev Rules checked inside actions. forge ignores reverting handler calls (fail_on_revert = false), so a
    /// failed check is recorded here for the invariants to report instead of reverting.
    string public ghostBrokenFundsRule;
    string public ghostBrokenTripRule;
    /// @dev Set if a lift scheduled for one trip executed against (or ended) a later trip, or failed on its own.
    string public ghostBrokenLiftRule;
    uint256 public salt;

    constructor(
        PausableVault vault_,
        TimelockedRecovery timelock_,
        MockERC20 asset_,
        address guardian_,
        address governor_,
        address recovery_,
        address[] memory users_
    ) {
        vault = vault_;
        timelock = timelock_;
        asset = asset_;
        guardian = guardian_;
        governor = governor_;
        recovery = recovery_;
        attacker = address(0xA77AC);
        _users = users_;
        for (uint256 i = 0; i < users_.length; ++i) {
            asset_.mint(users_[i], USER_FUNDS);
            vm.prank(users_[i]);
            asset_.approve(address(vault_), type(uint256).max);
        }
    }

    // ------------------------------------------------------------------ users

    function deposit(uint256 userSeed, uint256 assets) external {
        address user = _user(userSeed);
        assets = _bound(assets, 1, asset.balanceOf(user));
        if (assets == 0) return;
        uint256 holdingsBefore = vault.totalAssets();
        vm.prank(user);
        try vault.deposit(assets, user) {
            ghostDeposited += assets;
            _flows.push(
                Flow(uint64(block.timestamp), false, _ceilDiv(assets * WAD, holdingsBefore + assets), assets, holdingsBefore)
            );
        } catch {
            return;
        }
    }

    /// @dev Three times in four the amount sits at the limit's edge (exactly what is available, one unit over, or
    /// anything under it), so sequences probe the limit instead of mostly asking for far more than it allows.
    function withdraw(uint256 userSeed, uint256 assets) external {
        address user = _user(userSeed);
        uint256 max = vault.previewRedeem(vault.balanceOf(user));
        if (max == 0) return;
        (, , uint256 available) = vault.outflowState(address(asset));
        uint256 mode = assets % 4;
        if (mode == 0) assets = available;
        else if (mode == 1) assets = available + 1;
        else if (mode == 2) assets = _bound(assets, 1, available);
        _exit(user, _bound(assets, 1, max), true);
    }

    function redeem(uint256 userSeed, uint256 shares) external {
        address user = _user(userSeed);
        uint256 max = vault.balanceOf(user);
        if (max == 0) return;
        _exit(user, _bound(shares, 1, max), false);
    }

    /// @dev A withdrawal either pays now (an instant outflow the limit must cover) or becomes a claim.
    function _exit(address user, uint256 amount, bool byAssets) internal {
        uint256 holdingsBefore = vault.totalAssets();
        uint256 nextClaim = vault.nextClaimId();
        bool wasTripped = vault.isTripped();
        uint256 balanceBefore = asset.balanceOf(user);
        vm.prank(user);
        if (byAssets) {
            try vault.withdraw(amount, user, user) {} catch {
                return;
            }
        } else {
            try vault.redeem(amount, user, user) {} catch {
                return;
            }
        }
        if (vault.nextClaimId() != nextClaim) {
            _claimIds.push(nextClaim);
        } else {
            uint256 paid = asset.balanceOf(user) - balanceBefore;
            ghostPaidToUsers += paid;
            if (paid != 0) {
                _flows.push(Flow(uint64(block.timestamp), true, (paid * WAD) / holdingsBefore, paid, holdingsBefore));
            }
        }
        // With action Trip an over-limit withdrawal trips the vault itself; the ghost follows the rule for it too.
        if (!wasTripped && vault.isTripped()) {
            ghostTripEndsAt = block.timestamp + vault.tripDuration();
            ++ghostTripCount;
            (bytes32 incidentId, , , ) = vault.incident();
            _usedIncidents[incidentId] = true;
        }
    }

    function settleClaim(uint256 claimSeed) external {
        if (_claimIds.length == 0) return;
        uint256 index = claimSeed % _claimIds.length;
        uint256 claimId = _claimIds[index];
        IPausableVault.Claim memory pending = vault.claim(claimId);
        if (pending.owner == address(0)) return;
        uint256 receiverBefore = asset.balanceOf(pending.receiver);
        try vault.settleClaim(claimId) returns (uint256 paid) {
            if (asset.balanceOf(pending.receiver) != receiverBefore + paid) ghostBrokenFundsRule = "a claim paid someone else";
            if (pending.receiver == recovery) ghostRecovered += paid;
            else ghostPaidToUsers += paid;
        } catch {
            return;
        }
    }

    /// @dev Tokens sent straight to the vault: they must not move the share price or the books.
    function donate(uint256 userSeed, uint256 amount) external {
        address user = _user(userSeed);
        amount = _bound(amount, 0, asset.balanceOf(user) / 100);
        vm.prank(user);
        asset.transfer(address(vault), amount);
        ghostDonated += amount;
    }

    /// @dev Mostly steps within one outflow window (6 hours), sometimes past trips and claim delays.
    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 1, seconds_ % 4 == 0 ? 3 days : 6 hours));
    }

    // ------------------------------------------------------------------ guardian

    /// @dev Four distinct ids, so that sequences often try to trip again with an id that tripped before.
    function trip(uint256 incidentSeed) external {
        bytes32 incidentId = keccak256(abi.encode("incident", incidentSeed % 4));
        bool active = vault.isTripped();
        vm.prank(guardian);
        try vault.trip(incidentId) returns (bool tripped) {
            if (tripped == active) ghostBrokenTripRule = "a trip must trip exactly when no trip is active";
            if (tripped && _usedIncidents[incidentId]) ghostBrokenTripRule = "an incident id tripped twice";
            if (tripped) {
                ghostTripEndsAt = block.timestamp + vault.tripDuration();
                ++ghostTripCount;
                _usedIncidents[incidentId] = true;
            }
        } catch (bytes memory reason) {
            bytes memory reused = abi.encodeWithSelector(ICircuitBreaker.CircuitBreakerIncidentReused.selector, incidentId);
            if (active || !_usedIncidents[incidentId] || keccak256(reason) != keccak256(reused)) {
                ghostBrokenTripRule = "a trip reverted other than for a reused id with no trip active";
            }
        }
    }

    // ------------------------------------------------------------------ governance, through the timelock

    function governanceLift() external {
        (bytes32 incidentId, , , ) = vault.incident();
        if (incidentId == bytes32(0)) return;
        _scheduleAndExecute(abi.encodeCall(ICircuitBreaker.lift, (incidentId)));
        // A lift ends an active trip now; a trip that already lapsed stays ended when it lapsed.
        if (ghostTripEndsAt > block.timestamp) ghostTripEndsAt = block.timestamp;
    }

    /// @dev Schedules a lift of the current trip and leaves it waiting: {executeScheduledLift} runs it later, after
    /// whatever other actions (lapses, new trips, reused ids) came in between.
    function scheduleLift() external {
        (bytes32 incidentId, , , ) = vault.incident();
        if (incidentId == bytes32(0)) return;
        bytes32 operationSalt = bytes32(++salt);
        bytes memory data = abi.encodeCall(ICircuitBreaker.lift, (incidentId));
        uint256 delay = timelock.getMinDelay();
        vm.prank(governor);
        timelock.schedule(address(vault), 0, data, bytes32(0), operationSalt, delay);
        _scheduledLifts.push(ScheduledLift(incidentId, ghostTripCount, operationSalt));
    }

    /// @dev A lift scheduled for trip N may end trip N (or do nothing once it is over), never a later trip.
    function executeScheduledLift(uint256 seed) external {
        if (_scheduledLifts.length == 0) return;
        uint256 index = seed % _scheduledLifts.length;
        ScheduledLift memory scheduled = _scheduledLifts[index];
        _scheduledLifts[index] = _scheduledLifts[_scheduledLifts.length - 1];
        _scheduledLifts.pop();
        bytes memory data = abi.encodeCall(ICircuitBreaker.lift, (scheduled.incidentId));
        uint256 readyAt = timelock.getTimestamp(timelock.hashOperation(address(vault), 0, data, bytes32(0), scheduled.salt));
        if (block.timestamp < readyAt) vm.warp(readyAt);
        bool active = vault.isTripped();
        vm.prank(governor);
        try timelock.execute(address(vault), 0, data, bytes32(0), scheduled.salt) {
            if (scheduled.tripNumber != ghostTripCount) {
                ghostBrokenLiftRule = "a lift scheduled for one trip executed against a later trip";
            }
            if (ghostTripEndsAt > block.timestamp) ghostTripEndsAt = block.timestamp;
        } catch {
            if (scheduled.tripNumber == ghostTripCount) {
                ghostBrokenLiftRule = "a lift scheduled for the current trip failed to execute";
            }
        }
        if (scheduled.tripNumber != ghostTripCount && active && !vault.isTripped()) {
            ghostBrokenLiftRule = "a lift scheduled for one trip ended a later trip";
        }
    }

    function governanceRatify(uint256 extension) external {
        (bytes32 incidentId, , , ) = vault.incident();
        if (incidentId == bytes32(0)) return;
        uint256 executesAt = block.timestamp + timelock.getMinDelay();
        uint64 expiresAt = uint64(executesAt + _bound(extension, 1, 30 days));
        _scheduleAndExecute(abi.encodeCall(ICircuitBreaker.ratify, (incidentId, expiresAt)));
        ghostTripEndsAt = expiresAt;
    }

    function governanceRecover(uint256 amount) external {
        uint256 balance = asset.balanceOf(address(vault));
        amount = _bound(amount, 0, balance / 10);
        uint256 recoveryBefore = asset.balanceOf(recovery);
        _scheduleAndExecute(abi.encodeCall(IPausableVault.recover, (address(asset), amount)));
        if (asset.balanceOf(recovery) != recoveryBefore + amount) ghostBrokenFundsRule = "recovery paid someone else";
        ghostRecovered += amount;
    }

    function governanceCancelOrRedirect(uint256 claimSeed, bool redirect) external {
        if (_claimIds.length == 0) return;
        uint256 claimId = _claimIds[claimSeed % _claimIds.length];
        if (vault.claim(claimId).owner == address(0)) return;
        _scheduleAndExecute(
            redirect ? abi.encodeCall(IPausableVault.redirectClaim, (claimId)) : abi.encodeCall(IPausableVault.cancelClaim, (claimId))
        );
    }

    /// @dev schedule, wait the minimum delay, execute: the only way governance acts on the vault.
    function _scheduleAndExecute(bytes memory data) internal {
        bytes32 operationSalt = bytes32(++salt);
        uint256 delay = timelock.getMinDelay();
        vm.prank(governor);
        timelock.schedule(address(vault), 0, data, bytes32(0), operationSalt, delay);
        vm.warp(block.timestamp + delay);
        vm.prank(governor);
        timelock.execute(address(vault), 0, data, bytes32(0), operationSalt);
    }

    // ------------------------------------------------------------------ attacker and guardian overreach

    /// @dev The guardian or an outsider tries everything but a trip; none of it may succeed.
    function overreach(uint256 which, bool asGuardian, uint256 amount, uint256 userSeed) external {
        address actor = asGuardian ? guardian : attacker;
        address victim = _user(userSeed);
        (bytes32 incidentId, , , ) = vault.incident();
        uint256 claimId = _claimIds.length == 0 ? 1 : _claimIds[amount % _claimIds.length];
        amount = _bound(amount, 1, 1_000e18);
        address target = address(vault);
        bytes memory data;
        which = which % 13;
        if (which == 0) data = abi.encodeCall(IPausableVault.recover, (address(asset), amount));
        else if (which == 1) data = abi.encodeCall(IPausableVault.cancelClaim, (claimId));
        else if (which == 2) data = abi.encodeCall(IPausableVault.redirectClaim, (claimId));
        else if (which == 3) data = abi.encodeWithSignature("withdraw(uint256,address,address)", amount, actor, victim);
        else if (which == 4) data = abi.encodeWithSignature("redeem(uint256,address,address)", amount, actor, victim);
        else if (which == 5) data = abi.encodeWithSignature("transferFrom(address,address,uint256)", victim, actor, amount);
        else if (which == 6) data = abi.encodeCall(ICircuitBreaker.lift, (incidentId));
        else if (which == 7) data = abi.encodeCall(ICircuitBreaker.setOutflowLimit, (address(asset), 10_000, 5 minutes, ICircuitBreaker.OutflowAction.Revert));
        else if (which == 8) data = abi.encodeWithSignature("grantRole(bytes32,address)", vault.GOVERNOR_ROLE(), actor);
        else if (which == 9) data = abi.encodeCall(ICircuitBreaker.rotateGuardian, (guardian, actor));
        else {
            // Straight at the timelock: schedule a recovery, or execute/cancel one nobody scheduled.
            target = address(timelock);
            bytes memory sweep = abi.encodeCall(IPausableVault.recover, (address(asset), amount));
            if (which == 10) data = abi.encodeCall(timelock.schedule, (address(vault), 0, sweep, bytes32(0), bytes32(amount), 1 days));
            else if (which == 11) data = abi.encodeCall(timelock.execute, (address(vault), 0, sweep, bytes32(0), bytes32(amount)));
            else data = abi.encodeCall(timelock.scheduleRecovery, (address(vault), address(asset), amount, bytes32(amount)));
        }
        vm.prank(actor);
        (bool ok, ) = target.call(data);
        if (ok) ghostUnauthorizedSuccess = bytes4(data);
    }

    // ------------------------------------------------------------------ views for the invariants

    function usersCount() external view returns (uint256) {
        return _users.length;
    }

    function userAt(uint256 i) external view returns (address) {
        return _users[i];
    }

    function flowsCount() external view returns (uint256) {
        return _flows.length;
    }

    function flow(uint256 i) external view returns (Flow memory) {
        return _flows[i];
    }

    // ------------------------------------------------------------------ helpers

    function _user(uint256 seed) internal view returns (address) {
        return _users[seed % _users.length];
    }

    function _ceilDiv(uint256 a, uint256 b) internal pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / b + 1;
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return max <= min ? min : bound(x, min, max);
    }
}
