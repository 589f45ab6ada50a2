// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ICircuitBreaker
/// @notice A guardian-trippable, self-lapsing pause with selective per-operation scope, a cooldown that bounds how
/// much of the time guardians can keep it paused, and a per-asset net outflow limit in asset units that splitting,
/// ordering or flash-loaned round trips cannot get around. Governance (a timelock) ratifies, lifts and configures it.
/// No call by an account without GUARDIAN_ROLE ever pauses anything.
interface ICircuitBreaker {
    /// @notice What happens when an outflow would exceed its asset's limit.
    /// @dev Revert: the call reverts with {CircuitBreakerOutflowExceeded}. Delay: {OutflowLimitReached} is emitted
    /// and the consumer defers the outflow (the vault turns it into an asynchronous request). There is deliberately no
    /// "trip" action: an over-limit outflow is something any holder can cause, so it must never pause the others.
    enum OutflowAction {
        Revert,
        Delay
    }

    // ------------------------------------------------------------------ events

    /// @notice The breaker was tripped.
    /// @param incidentId The incident the trip belongs to (chosen by the guardian).
    /// @param guardian The guardian that tripped it.
    /// @param expiresAt The timestamp at which the trip lapses on its own unless ratified.
    event Tripped(bytes32 indexed incidentId, address indexed guardian, uint64 expiresAt);

    /// @notice Governance extended (or re-imposed) the trip of an incident.
    /// @param incidentId The ratified incident.
    /// @param previousExpiresAt The expiry before ratification.
    /// @param expiresAt The new expiry.
    event Ratified(bytes32 indexed incidentId, uint64 previousExpiresAt, uint64 expiresAt);

    /// @notice Governance ended the trip of an incident before it lapsed.
    /// @param incidentId The lifted incident.
    /// @param liftedBy The governance account that lifted it.
    event Lifted(bytes32 indexed incidentId, address indexed liftedBy);

    /// @notice The duration of future trips changed.
    /// @param previousDuration The former duration, in seconds.
    /// @param duration The new duration, in seconds.
    event TripDurationSet(uint32 previousDuration, uint32 duration);

    /// @notice The cooldown after a trip ends, during which guardians cannot trip, changed.
    /// @param previousCooldown The former cooldown, in seconds.
    /// @param cooldown The new cooldown, in seconds.
    event TripCooldownSet(uint32 previousCooldown, uint32 cooldown);

    /// @notice An operation was exempted from (or made subject to) the pause.
    /// @param op The operation key (usually a function selector).
    /// @param exempt True if the operation stays open while the breaker is tripped.
    event OperationExemptionSet(bytes4 indexed op, bool exempt);

    /// @notice The outflow limit of an asset changed.
    /// @param asset The limited asset.
    /// @param bps The share of holdings, in basis points, that may flow out (net) per window (0 disables the limit).
    /// @param window The rolling window, in seconds.
    /// @param action What happens when an outflow would exceed the limit.
    event OutflowLimitSet(address indexed asset, uint16 bps, uint32 window, OutflowAction action);

    /// @notice An outflow would have exceeded its asset's limit and was deferred (Delay). The guardian watches it; the
    /// breaker itself never pauses on it. (Under Revert the call reverts, so no event survives.)
    /// @param asset The asset.
    /// @param requested The requested outflow.
    /// @param available The instant outflow that was available (holdings minus floor).
    /// @param action The action taken (Delay).
    event OutflowLimitReached(address indexed asset, uint256 requested, uint256 available, OutflowAction action);

    /// @notice A guardian was replaced by another in one governance action.
    /// @param previousGuardian The guardian whose role was revoked.
    /// @param newGuardian The account that received the guardian role.
    event GuardianRotated(address indexed previousGuardian, address indexed newGuardian);

    // ------------------------------------------------------------------ errors

    /// @notice The operation is paused by an active trip.
    /// @param op The operation key.
    /// @param incidentId The incident of the active trip.
    /// @param expiresAt When the trip lapses unless ratified.
    error CircuitBreakerOperationPaused(bytes4 op, bytes32 incidentId, uint64 expiresAt);

    /// @notice The outflow exceeds what the asset's limit allows now (or the tracked holdings).
    /// @param asset The asset.
    /// @param requested The requested outflow.
    /// @param available The instant outflow available now (the tracked holdings if the request exceeds them).
    error CircuitBreakerOutflowExceeded(address asset, uint256 requested, uint256 available);

    /// @notice The incident id is zero, which is reserved for "no incident".
    error CircuitBreakerInvalidIncident();

    /// @notice The incident id already tripped the breaker once. Ids are single-use, so that a lift or ratification
    /// scheduled for one trip can never act on a later trip.
    /// @param incidentId The reused incident id.
    error CircuitBreakerIncidentReused(bytes32 incidentId);

    /// @notice The incident is not the breaker's current incident.
    /// @param incidentId The incident named by the caller.
    /// @param currentIncidentId The breaker's current (latest) incident.
    error CircuitBreakerIncidentMismatch(bytes32 incidentId, bytes32 currentIncidentId);

    /// @notice A ratification arrived when the incident's trip was no longer in force (it lapsed or was lifted): a
    /// forgotten timelock operation cannot re-impose a pause.
    /// @param incidentId The incident named by the ratification.
    /// @param expiresAt When its trip ended.
    error CircuitBreakerIncidentNotActive(bytes32 incidentId, uint64 expiresAt);

    /// @notice The trip cooldown is outside [MIN_TRIP_COOLDOWN, MAX_TRIP_COOLDOWN].
    /// @param cooldown The rejected cooldown.
    /// @param min The minimum.
    /// @param max The maximum.
    error CircuitBreakerInvalidTripCooldown(uint32 cooldown, uint32 min, uint32 max);

    /// @notice rotateGuardian named a previous guardian that does not hold GUARDIAN_ROLE.
    /// @param account The account.
    error CircuitBreakerNotGuardian(address account);

    /// @notice rotateGuardian named a new guardian that already holds GUARDIAN_ROLE.
    /// @param account The account.
    error CircuitBreakerAlreadyGuardian(address account);

    /// @notice The trip duration is outside [MIN_TRIP_DURATION, MAX_TRIP_DURATION].
    /// @param duration The rejected duration.
    /// @param min The minimum.
    /// @param max The maximum.
    error CircuitBreakerInvalidTripDuration(uint32 duration, uint32 min, uint32 max);

    /// @notice The ratified expiry is not in (now, now + MAX_RATIFIED_DURATION].
    /// @param expiresAt The rejected expiry.
    /// @param latest The latest expiry allowed now.
    error CircuitBreakerInvalidExpiry(uint64 expiresAt, uint64 latest);

    /// @notice The outflow limit is invalid: bps above 10,000 or window outside [MIN_WINDOW, MAX_WINDOW].
    /// @param asset The asset.
    /// @param bps The rejected share of holdings.
    /// @param window The rejected window.
    error CircuitBreakerInvalidOutflowLimit(address asset, uint16 bps, uint32 window);

    /// @notice The asset is the zero address.
    error CircuitBreakerInvalidAsset();

    /// @notice The account is the zero address where an account is required.
    /// @param role The role the account was meant to hold.
    error CircuitBreakerInvalidAccount(bytes32 role);

    /// @notice The tracked holdings of an asset would exceed what one storage slot can hold (2^112 - 1).
    /// @param asset The asset.
    /// @param holdings The holdings that would have been recorded.
    error CircuitBreakerHoldingsOverflow(address asset, uint256 holdings);

    // ------------------------------------------------------------------ guardian

    /// @notice Trips the breaker for `tripDuration()` seconds. Only GUARDIAN_ROLE.
    /// @dev Idempotent: while a trip is active, and until `tripCooldown()` seconds after it ended (lapsed or lifted),
    /// a trip changes nothing and returns false (whatever its id), so several guardians can race without reverting and
    /// no guardian key can chain trips. Otherwise an id that tripped before reverts with
    /// {CircuitBreakerIncidentReused}: each trip has its own id, and lift/ratify name it.
    /// @param incidentId A non-zero identifier of the incident, never used for an earlier trip (e.g. the detector
    /// finding's id).
    /// @return tripped True if this call tripped the breaker, false if it was already tripped or cooling down.
    function trip(bytes32 incidentId) external returns (bool tripped);

    // ------------------------------------------------------------------ governance (GOVERNOR_ROLE)

    /// @notice Sets the expiry of the current incident's trip while it is in force (extending or shortening it).
    /// @param incidentId The current incident; a ratification scheduled for an older incident reverts, and so does one
    /// that executes after the trip lapsed or was lifted ({CircuitBreakerIncidentNotActive}).
    /// @param expiresAt The new expiry, in (now, now + MAX_RATIFIED_DURATION].
    function ratify(bytes32 incidentId, uint64 expiresAt) external;

    /// @notice Ends the current incident's trip now.
    /// @param incidentId The current incident; a lift scheduled for an older incident reverts, so it can never lift
    /// a newer trip.
    /// @return lifted True if an active trip ended, false if it had already lapsed or been lifted.
    function lift(bytes32 incidentId) external returns (bool lifted);

    /// @notice Sets the duration of future trips.
    /// @param duration Seconds, in [MIN_TRIP_DURATION, MAX_TRIP_DURATION].
    function setTripDuration(uint32 duration) external;

    /// @notice Sets how long guardians cannot trip after a trip ends.
    /// @param cooldown Seconds, in [MIN_TRIP_COOLDOWN, MAX_TRIP_COOLDOWN].
    function setTripCooldown(uint32 cooldown) external;

    /// @notice Keeps an operation open (or not) while the breaker is tripped.
    /// @param op The operation key (usually a function selector).
    /// @param exempt True to keep it open during trips.
    function setOperationExempt(bytes4 op, bool exempt) external;

    /// @notice Sets an asset's net outflow limit: over any interval no longer than `window`, instant outflows minus
    /// inflows stay within `bps` of the holdings at the interval's start, in asset units, however they are split or
    /// interleaved. At most half of it can leave at once; the floor that holds the rest back decays by the other half
    /// per window. Takes effect now: the floor becomes the larger of the current one and (1 - bps/20,000) holdings.
    /// @param asset The asset.
    /// @param bps The share of holdings, in basis points (at most 10,000), that may flow out per window; 0 disables.
    /// @param window The rolling window, in seconds, in [MIN_WINDOW, MAX_WINDOW] (ignored when bps is 0).
    /// @param action What happens when an outflow would exceed the limit.
    function setOutflowLimit(address asset, uint16 bps, uint32 window, OutflowAction action) external;

    /// @notice Revokes the guardian role from one account and grants it to another, in one governance action.
    /// Reverts ({CircuitBreakerNotGuardian}, {CircuitBreakerAlreadyGuardian}) when it would change nothing.
    /// @param previousGuardian The guardian to remove.
    /// @param newGuardian The account to make guardian.
    function rotateGuardian(address previousGuardian, address newGuardian) external;

    // ------------------------------------------------------------------ views

    /// @notice The role allowed to trip (and nothing else).
    /// @return The role identifier.
    function GUARDIAN_ROLE() external view returns (bytes32);

    /// @notice The role allowed to ratify, lift, configure and rotate guardians (held by the timelock). It is its own
    /// admin and GUARDIAN_ROLE's admin; DEFAULT_ADMIN_ROLE administers neither.
    /// @return The role identifier.
    function GOVERNOR_ROLE() external view returns (bytes32);

    /// @notice True while a trip is active (not yet lapsed or lifted).
    /// @return True if tripped.
    function isTripped() external view returns (bool);

    /// @notice The current (latest) incident, active or not.
    /// @return incidentId The incident id (zero if the breaker never tripped).
    /// @return guardian Who tripped it.
    /// @return trippedAt When it was tripped.
    /// @return expiresAt When it lapses (or lapsed, or was lifted).
    function incident() external view returns (bytes32 incidentId, address guardian, uint64 trippedAt, uint64 expiresAt);

    /// @notice The duration of future trips, in seconds.
    /// @return The duration.
    function tripDuration() external view returns (uint32);

    /// @notice The cooldown after a trip ends during which guardian trips are no-ops, in seconds.
    /// @return The cooldown.
    function tripCooldown() external view returns (uint32);

    /// @notice The earliest time a guardian trip can take effect: the end of the current (or last) trip plus the
    /// cooldown, or 0 if the breaker never tripped.
    /// @return The timestamp.
    function nextTripAt() external view returns (uint64);

    /// @notice Whether an operation stays open while tripped.
    /// @param op The operation key.
    /// @return True if exempt.
    function isOperationExempt(bytes4 op) external view returns (bool);

    /// @notice Whether an operation can run now (not tripped, or exempt).
    /// @param op The operation key.
    /// @return True if open.
    function isOperationOpen(bytes4 op) external view returns (bool);

    /// @notice An asset's outflow limit configuration.
    /// @param asset The asset.
    /// @return bps The share of holdings per window, in basis points (0: no limit).
    /// @return window The window, in seconds.
    /// @return action The action on excess.
    function outflowLimit(address asset) external view returns (uint16 bps, uint32 window, OutflowAction action);

    /// @notice An asset's flow state now.
    /// @param asset The asset.
    /// @return holdings The holdings the breaker tracks for the asset (what flowed in minus what flowed out).
    /// @return floor The floor now: instant outflows may not take the holdings below it (0 when unlimited).
    /// @return available The instant outflow available now, max(holdings - floor, 0) (all holdings when unlimited).
    function outflowState(address asset) external view returns (uint256 holdings, uint256 floor, uint256 available);
}
