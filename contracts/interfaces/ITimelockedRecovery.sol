// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICircuitBreaker} from "./ICircuitBreaker.sol";

/// @title ITimelockedRecovery
/// @notice Governance for Failsafe breakers and vaults: an OpenZeppelin TimelockController with helpers that encode
/// and schedule each governance action. Every action is scheduled with the timelock's minimum delay (visible in
/// {TimelockController-CallScheduled}, cancellable by cancellers) and runs only through `execute`, within GRACE_PERIOD
/// of becoming ready.
interface ITimelockedRecovery {
    /// @notice A governance action was scheduled through one of the helpers.
    /// @param id The timelock operation id (execute it with the same target, data, zero predecessor and salt).
    /// @param action The selector of the breaker or vault function that will be called.
    /// @param target The breaker or vault.
    /// @param data The calldata that will be executed.
    /// @param readyAt When the operation can be executed.
    event GovernanceActionScheduled(
        bytes32 indexed id,
        bytes4 indexed action,
        address indexed target,
        bytes data,
        uint256 readyAt
    );

    /// @notice The target is not a contract.
    /// @param target The rejected target.
    error TimelockedRecoveryInvalidTarget(address target);

    /// @notice The operation was ready for longer than GRACE_PERIOD: it can no longer execute (cancel it).
    /// @param id The operation id.
    /// @param deadline The last timestamp at which it could execute.
    error TimelockedRecoveryOperationExpired(bytes32 id, uint256 deadline);

    /// @notice The last timestamp at which a pending operation can execute (ready time + GRACE_PERIOD).
    /// @param id The operation id.
    /// @return The deadline, or 0 if the operation is not pending (unknown, done or cancelled).
    function operationDeadline(bytes32 id) external view returns (uint256);

    /// @notice Schedules `breaker.lift(incidentId)`. Only PROPOSER_ROLE.
    /// @param breaker The breaker.
    /// @param incidentId The incident to lift (binding the operation to it).
    /// @param salt The operation salt.
    /// @return id The operation id.
    function scheduleLift(address breaker, bytes32 incidentId, bytes32 salt) external returns (bytes32 id);

    /// @notice Schedules `breaker.ratify(incidentId, expiresAt)`. Only PROPOSER_ROLE.
    /// @param breaker The breaker.
    /// @param incidentId The incident to ratify.
    /// @param expiresAt The new expiry.
    /// @param salt The operation salt.
    /// @return id The operation id.
    function scheduleRatify(
        address breaker,
        bytes32 incidentId,
        uint64 expiresAt,
        bytes32 salt
    ) external returns (bytes32 id);

    /// @notice Schedules `breaker.rotateGuardian(previousGuardian, newGuardian)`. Only PROPOSER_ROLE.
    /// @param breaker The breaker.
    /// @param previousGuardian The guardian to remove.
    /// @param newGuardian The new guardian.
    /// @param salt The operation salt.
    /// @return id The operation id.
    function scheduleGuardianRotation(
        address breaker,
        address previousGuardian,
        address newGuardian,
        bytes32 salt
    ) external returns (bytes32 id);

    /// @notice Schedules `breaker.setOutflowLimit(asset, bps, window, action)`. Only PROPOSER_ROLE.
    /// @param breaker The breaker.
    /// @param asset The asset.
    /// @param bps The share of holdings per window, in basis points.
    /// @param window The window, in seconds.
    /// @param action The action on excess.
    /// @param salt The operation salt.
    /// @return id The operation id.
    function scheduleOutflowLimit(
        address breaker,
        address asset,
        uint16 bps,
        uint32 window,
        ICircuitBreaker.OutflowAction action,
        bytes32 salt
    ) external returns (bytes32 id);

    /// @notice Schedules `breaker.setTripDuration(duration)`. Only PROPOSER_ROLE.
    /// @param breaker The breaker.
    /// @param duration The new trip duration, in seconds.
    /// @param salt The operation salt.
    /// @return id The operation id.
    function scheduleTripDuration(address breaker, uint32 duration, bytes32 salt) external returns (bytes32 id);

    /// @notice Schedules `vault.recover(token, amount)`, which can only pay the vault's fixed recovery address.
    /// Only PROPOSER_ROLE.
    /// @param vault The vault.
    /// @param token The token to sweep.
    /// @param amount The amount.
    /// @param salt The operation salt.
    /// @return id The operation id.
    function scheduleRecovery(address vault, address token, uint256 amount, bytes32 salt) external returns (bytes32 id);
}
