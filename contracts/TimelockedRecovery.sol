// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ICircuitBreaker} from "./interfaces/ICircuitBreaker.sol";
import {IPausableVault} from "./interfaces/IPausableVault.sol";
import {ITimelockedRecovery} from "./interfaces/ITimelockedRecovery.sol";

/// @title TimelockedRecovery
/// @notice The governance side of Failsafe: an OpenZeppelin TimelockController that holds GOVERNOR_ROLE on breakers
/// and vaults. Every lift, ratification, guardian rotation, limit or duration change
/// and recovery sweep is scheduled on-chain first ({CallScheduled}), can be cancelled by a canceller during the delay,
/// and runs only through `execute` once the delay has passed, and no later than GRACE_PERIOD after that: a forgotten
/// operation expires instead of acting, possibly through an open executor, on a state nobody scheduled it for.
/// @dev The helpers encode the calldata so that proposers cannot get it wrong, then schedule it through the public
/// `schedule` (an external self-call, which is why the timelock is its own proposer): the id, delay, events and
/// cancellation are exactly those of a hand-built operation. The helpers always use the minimum delay and no
/// predecessor; anything else can still be scheduled with `schedule` directly.
contract TimelockedRecovery is TimelockController, ITimelockedRecovery {
    /// @notice How long a ready operation stays executable; after that `execute` reverts with
    /// {TimelockedRecoveryOperationExpired} and the operation can only be cancelled.
    uint256 public constant GRACE_PERIOD = 14 days;

    /// @param minDelay The delay every operation waits. Keep it shorter than breakers' trip duration, or a trip lapses
    /// before its ratification can execute.
    /// @param proposers Accounts that can schedule (and cancel) operations: the DAO's governor.
    /// @param executors Accounts that can execute ready operations (address(0) lets anyone execute).
    /// @param admin An optional extra admin for initial setup (address(0) for none; renounce it afterwards).
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {
        _grantRole(PROPOSER_ROLE, address(this));
    }

    /// @notice Executes a ready operation that has not expired (see {TimelockController-execute}).
    function execute(
        address target,
        uint256 value,
        bytes calldata payload,
        bytes32 predecessor,
        bytes32 salt
    ) public payable virtual override {
        _requireNotExpired(hashOperation(target, value, payload, predecessor, salt));
        super.execute(target, value, payload, predecessor, salt);
    }

    /// @notice Executes a ready batch that has not expired (see {TimelockController-executeBatch}).
    function executeBatch(
        address[] calldata targets,
        uint256[] calldata values,
        bytes[] calldata payloads,
        bytes32 predecessor,
        bytes32 salt
    ) public payable virtual override {
        _requireNotExpired(hashOperationBatch(targets, values, payloads, predecessor, salt));
        super.executeBatch(targets, values, payloads, predecessor, salt);
    }

    /// @inheritdoc ITimelockedRecovery
    function operationDeadline(bytes32 id) public view returns (uint256) {
        return isOperationPending(id) ? getTimestamp(id) + GRACE_PERIOD : 0;
    }

    /// @inheritdoc ITimelockedRecovery
    function scheduleLift(
        address breaker,
        bytes32 incidentId,
        bytes32 salt
    ) external onlyRole(PROPOSER_ROLE) returns (bytes32 id) {
        return _scheduleAction(breaker, abi.encodeCall(ICircuitBreaker.lift, (incidentId)), salt);
    }

    /// @inheritdoc ITimelockedRecovery
    function scheduleRatify(
        address breaker,
        bytes32 incidentId,
        uint64 expiresAt,
        bytes32 salt
    ) external onlyRole(PROPOSER_ROLE) returns (bytes32 id) {
        return _scheduleAction(breaker, abi.encodeCall(ICircuitBreaker.ratify, (incidentId, expiresAt)), salt);
    }

    /// @inheritdoc ITimelockedRecovery
    function scheduleGuardianRotation(
        address breaker,
        address previousGuardian,
        address newGuardian,
        bytes32 salt
    ) external onlyRole(PROPOSER_ROLE) returns (bytes32 id) {
        return
            _scheduleAction(
                breaker,
                abi.encodeCall(ICircuitBreaker.rotateGuardian, (previousGuardian, newGuardian)),
                salt
            );
    }

    /// @inheritdoc ITimelockedRecovery
    function scheduleOutflowLimit(
        address breaker,
        address asset,
        uint16 bps,
        uint32 window,
        ICircuitBreaker.OutflowAction action,
        bytes32 salt
    ) external onlyRole(PROPOSER_ROLE) returns (bytes32 id) {
        return
            _scheduleAction(
                breaker,
                abi.encodeCall(ICircuitBreaker.setOutflowLimit, (asset, bps, window, action)),
                salt
            );
    }

    /// @inheritdoc ITimelockedRecovery
    function scheduleTripDuration(
        address breaker,
        uint32 duration,
        bytes32 salt
    ) external onlyRole(PROPOSER_ROLE) returns (bytes32 id) {
        return _scheduleAction(breaker, abi.encodeCall(ICircuitBreaker.setTripDuration, (duration)), salt);
    }

    /// @inheritdoc ITimelockedRecovery
    function scheduleRecovery(
        address vault,
        address token,
        uint256 amount,
        bytes32 salt
    ) external onlyRole(PROPOSER_ROLE) returns (bytes32 id) {
        return _scheduleAction(vault, abi.encodeCall(IPausableVault.recover, (token, amount)), salt);
    }

    /// @dev Only pending operations have a deadline; anything else is left to TimelockController's own state checks.
    function _requireNotExpired(bytes32 id) private view {
        uint256 deadline = operationDeadline(id);
        if (deadline != 0 && block.timestamp > deadline) revert TimelockedRecoveryOperationExpired(id, deadline);
    }

    function _scheduleAction(address target, bytes memory data, bytes32 salt) private returns (bytes32 id) {
        if (target.code.length == 0) revert TimelockedRecoveryInvalidTarget(target);
        uint256 delay = getMinDelay();
        this.schedule(target, 0, data, bytes32(0), salt, delay);
        id = keccak256(abi.encode(target, uint256(0), data, bytes32(0), salt));
        emit GovernanceActionScheduled(id, bytes4(data), target, data, block.timestamp + delay);
    }
}
