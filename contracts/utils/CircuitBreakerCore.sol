// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";
import {OutflowFloor} from "./OutflowFloor.sol";

/// @title CircuitBreakerCore
/// @notice The logic shared by {CircuitBreaker} (constructor, AccessControl) and {CircuitBreakerUpgradeable}
/// (initializer, AccessControlUpgradeable). It keeps its state in one ERC-7201 namespace, so the same code is safe
/// behind a proxy, and reaches roles only through the six `_breaker*` hooks the two variants implement in one line each.
/// @dev Roles: GOVERNOR_ROLE administers itself and GUARDIAN_ROLE. The breaker never grants DEFAULT_ADMIN_ROLE, so its
/// governance does not administer the inheritor's own roles, and the inheritor's admin cannot make guardians or
/// governors.
///
/// Bounded guardian power: a trip lasts `tripDuration` (at most MAX_TRIP_DURATION) unless governance ratifies it, and
/// once it has ended (lapsed or lifted) guardian trips are no-ops for `tripCooldown`. So without governance one
/// guardian key (or all of them together) can pause for at most D = tripDuration at a time and at most
/// D / (D + C) of any long period (C = tripCooldown): at most ceil(T / (D + C)) * D seconds in any T seconds.
abstract contract CircuitBreakerCore is ICircuitBreaker {
    using OutflowFloor for uint256;

    /// @inheritdoc ICircuitBreaker
    bytes32 public constant GUARDIAN_ROLE = keccak256("failsafe.circuit-breaker.guardian");
    /// @inheritdoc ICircuitBreaker
    bytes32 public constant GOVERNOR_ROLE = keccak256("failsafe.circuit-breaker.governor");

    /// @notice Shortest trip governance can configure: long enough for humans to look at the incident.
    uint32 public constant MIN_TRIP_DURATION = 1 hours;
    /// @notice Longest trip a guardian can cause on its own: bounds the harm of a wrong or compromised guardian.
    uint32 public constant MAX_TRIP_DURATION = 7 days;
    /// @notice Furthest into the future one ratification can push a trip's expiry (governance can ratify again).
    uint64 public constant MAX_RATIFIED_DURATION = 30 days;
    /// @notice Shortest pause-free time after a trip ends before a guardian can trip again.
    uint32 public constant MIN_TRIP_COOLDOWN = 1 hours;
    /// @notice Longest cooldown governance can set (a longer one would leave the guardians without a switch).
    uint32 public constant MAX_TRIP_COOLDOWN = 30 days;
    /// @notice The cooldown a new breaker starts with.
    uint32 public constant DEFAULT_TRIP_COOLDOWN = 2 days;
    /// @notice Shortest outflow window: shorter windows make the limit meaningless within a block or two.
    uint32 public constant MIN_WINDOW = 5 minutes;
    /// @notice Longest outflow window (fits the 24-bit window field).
    uint32 public constant MAX_WINDOW = 30 days;

    /// @dev Everything the hot path needs to know about trips, in one slot.
    struct TripSlot {
        uint48 expiresAt;
        uint32 duration;
        uint32 cooldown;
    }

    /// @dev Who tripped and when, per incident id: a record with a trip time marks an id as used (ids are single-use,
    /// so a lift or ratification scheduled for one trip can never act on a later one).
    struct IncidentRecord {
        address guardian;
        uint48 trippedAt;
    }

    /// @custom:storage-location erc7201:failsafe.storage.CircuitBreaker
    struct BreakerStorage {
        TripSlot tripSlot;
        bytes32 incidentId;
        mapping(bytes4 op => bool exempt) exempt;
        mapping(address asset => uint256 word) flows;
        mapping(bytes32 incidentId => IncidentRecord) incidents;
    }

    // keccak256(abi.encode(uint256(keccak256("failsafe.storage.CircuitBreaker")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _STORAGE_SLOT = 0xd00d68b6ace9f763405c7f36e6a886854d28d22c50025d6848224e85fef67200;

    modifier onlyBreakerRole(bytes32 role) {
        _breakerCheckRole(role);
        _;
    }

    // ------------------------------------------------------------------ guardian

    /// @inheritdoc ICircuitBreaker
    function trip(bytes32 incidentId) external onlyBreakerRole(GUARDIAN_ROLE) returns (bool tripped) {
        return _trip(incidentId, _breakerSender());
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc ICircuitBreaker
    function ratify(bytes32 incidentId, uint64 expiresAt) external onlyBreakerRole(GOVERNOR_ROLE) {
        _ratify(incidentId, expiresAt);
    }

    /// @inheritdoc ICircuitBreaker
    function lift(bytes32 incidentId) external onlyBreakerRole(GOVERNOR_ROLE) returns (bool lifted) {
        return _lift(incidentId);
    }

    /// @inheritdoc ICircuitBreaker
    function setTripDuration(uint32 duration) external onlyBreakerRole(GOVERNOR_ROLE) {
        _setTripDuration(duration);
    }

    /// @inheritdoc ICircuitBreaker
    function setTripCooldown(uint32 cooldown) external onlyBreakerRole(GOVERNOR_ROLE) {
        _setTripCooldown(cooldown);
    }

    /// @inheritdoc ICircuitBreaker
    function setOperationExempt(bytes4 op, bool exempt) external onlyBreakerRole(GOVERNOR_ROLE) {
        _setOperationExempt(op, exempt);
    }

    /// @inheritdoc ICircuitBreaker
    function setOutflowLimit(
        address asset,
        uint16 bps,
        uint32 window,
        OutflowAction action
    ) external onlyBreakerRole(GOVERNOR_ROLE) {
        _setOutflowLimit(asset, bps, window, action);
    }

    /// @inheritdoc ICircuitBreaker
    function rotateGuardian(address previousGuardian, address newGuardian) external onlyBreakerRole(GOVERNOR_ROLE) {
        if (newGuardian == address(0)) revert CircuitBreakerInvalidAccount(GUARDIAN_ROLE);
        if (!_breakerHasRole(GUARDIAN_ROLE, previousGuardian)) revert CircuitBreakerNotGuardian(previousGuardian);
        if (_breakerHasRole(GUARDIAN_ROLE, newGuardian)) revert CircuitBreakerAlreadyGuardian(newGuardian);
        _breakerRevokeRole(GUARDIAN_ROLE, previousGuardian);
        _breakerGrantRole(GUARDIAN_ROLE, newGuardian);
        emit GuardianRotated(previousGuardian, newGuardian);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICircuitBreaker
    function isTripped() public view returns (bool) {
        return block.timestamp < _loadTripExpiry();
    }

    /// @inheritdoc ICircuitBreaker
    function incident()
        external
        view
        returns (bytes32 incidentId, address guardian, uint64 trippedAt, uint64 expiresAt)
    {
        BreakerStorage storage $ = _breakerStorage();
        incidentId = $.incidentId;
        IncidentRecord memory record = $.incidents[incidentId];
        return (incidentId, record.guardian, record.trippedAt, _loadTripExpiry());
    }

    /// @inheritdoc ICircuitBreaker
    function tripDuration() external view returns (uint32) {
        return _breakerStorage().tripSlot.duration;
    }

    /// @inheritdoc ICircuitBreaker
    function tripCooldown() external view returns (uint32) {
        return _breakerStorage().tripSlot.cooldown;
    }

    /// @inheritdoc ICircuitBreaker
    function nextTripAt() public view returns (uint64) {
        uint48 expiresAt = _loadTripExpiry();
        return expiresAt == 0 ? 0 : uint64(expiresAt) + _breakerStorage().tripSlot.cooldown;
    }

    /// @inheritdoc ICircuitBreaker
    function isOperationExempt(bytes4 op) external view returns (bool) {
        return _breakerStorage().exempt[op];
    }

    /// @inheritdoc ICircuitBreaker
    function isOperationOpen(bytes4 op) public view returns (bool) {
        return !isTripped() || _breakerStorage().exempt[op];
    }

    /// @inheritdoc ICircuitBreaker
    function outflowLimit(address asset) external view returns (uint16 bps, uint32 window, OutflowAction action) {
        uint256 word = _breakerStorage().flows[asset];
        return (word.bps(), word.window(), OutflowAction(word.action()));
    }

    /// @inheritdoc ICircuitBreaker
    function outflowState(address asset) external view returns (uint256 holdings, uint256 floor, uint256 available) {
        uint256 word = _breakerStorage().flows[asset];
        holdings = word.holdings();
        floor = word.isLimited() ? word.refresh().floor() : 0;
        available = word.available();
    }

    // ------------------------------------------------------------------ hooks for consumers

    /// @dev Reverts with {CircuitBreakerOperationPaused} if a trip is active and `op` is not exempt. One SLOAD when not
    /// tripped (of the slot {_loadTripExpiry} names); the exemption mapping and incident are read only while tripped.
    function _requireOperationOpen(bytes4 op) internal view virtual {
        _requireOperationOpenUntil(op, _loadTripExpiry());
    }

    /// @dev {_requireOperationOpen} given the trip expiry, for an inheritor that has just read the word holding it
    /// (see {_loadTripExpiry}) and needs the rest of that word too.
    function _requireOperationOpenUntil(bytes4 op, uint48 expiresAt) internal view {
        if (block.timestamp < expiresAt) {
            BreakerStorage storage $ = _breakerStorage();
            if (!$.exempt[op]) revert CircuitBreakerOperationPaused(op, $.incidentId, expiresAt);
        }
    }

    /// @dev The current trip's expiry (0: never tripped). Kept in the breaker's TripSlot by default. An inheritor may
    /// keep it in a slot of its own that every guarded call reads anyway (PausableVault: its share-supply word), so the
    /// trip check costs no cold storage read of its own; it must then override {_storeTripExpiry} to match.
    function _loadTripExpiry() internal view virtual returns (uint48) {
        return _breakerStorage().tripSlot.expiresAt;
    }

    /// @dev Stores the trip expiry where {_loadTripExpiry} reads it.
    function _storeTripExpiry(uint48 expiresAt) internal virtual {
        _breakerStorage().tripSlot.expiresAt = expiresAt;
    }

    /// @dev Books an instant outflow of `amount` of `asset` if it keeps the holdings at or above the floor, and returns
    /// true: the consumer pays it now. Over the limit it emits {OutflowLimitReached} and returns false (Delay: the
    /// consumer defers the payout and must not revert) or reverts with {CircuitBreakerOutflowExceeded} (Revert). It
    /// never pauses anything. More than the tracked holdings always reverts; zero always passes and changes nothing.
    function _checkOutflow(address asset, uint256 amount) internal virtual returns (bool payNow) {
        if (amount == 0) return true;
        mapping(address => uint256) storage flows = _breakerStorage().flows;
        uint256 word = flows[asset];
        uint256 holdings = word.holdings();
        if (amount > holdings) revert CircuitBreakerOutflowExceeded(asset, amount, holdings);
        if (word.isLimited()) {
            uint256 floor;
            (word, floor) = word.refreshWithFloor();
            unchecked {
                if (holdings - amount < floor) {
                    uint256 available = holdings > floor ? holdings - floor : 0;
                    if (OutflowAction(word.action()) == OutflowAction.Revert) {
                        revert CircuitBreakerOutflowExceeded(asset, amount, available);
                    }
                    flows[asset] = word;
                    emit OutflowLimitReached(asset, amount, available, OutflowAction.Delay);
                    return false;
                }
            }
        }
        unchecked {
            flows[asset] = word - amount; // holdings are the low bits and amount <= holdings
        }
        return true;
    }

    /// @dev Books an outflow that was already decided and is never refused. `countAgainstLimit` (a settling claim):
    /// the holdings drop and the floor stays, so later instant outflows wait until it has decayed below the holdings.
    /// Otherwise (a governance recovery, a recognised loss) the floor shrinks in proportion, so the remaining holders
    /// keep their share of the limit.
    function _recordOutflow(address asset, uint256 amount, bool countAgainstLimit) internal virtual {
        mapping(address => uint256) storage flows = _breakerStorage().flows;
        uint256 word = flows[asset];
        uint256 holdings = word.holdings();
        if (amount > holdings) revert CircuitBreakerOutflowExceeded(asset, amount, holdings);
        if (word.isLimited()) {
            word = word.refresh();
            if (!countAgainstLimit && amount != 0) {
                // ceil(F (H - a) / H): F < 2^113 and H < 2^112, so the product fits.
                uint256 floor = word.floor();
                unchecked {
                    uint256 scaled = floor * (holdings - amount);
                    word = word.withFloor(scaled / holdings + (scaled % holdings == 0 ? 0 : 1));
                }
            }
        }
        unchecked {
            flows[asset] = word - amount;
        }
    }

    /// @dev Books an inflow: the holdings rise and the floor does not move within this timestamp, so an inflow and an
    /// outflow at one timestamp net out exactly, however they are split. Returns the new holdings (saves the consumer
    /// reading them again).
    function _creditInflow(address asset, uint256 amount) internal virtual returns (uint256 holdings) {
        mapping(address => uint256) storage flows = _breakerStorage().flows;
        uint256 word = flows[asset];
        holdings = word.holdings() + amount;
        if (holdings > OutflowFloor.HOLDINGS_MASK) revert CircuitBreakerHoldingsOverflow(asset, holdings);
        if (word.isLimited()) (word, ) = word.refreshWithFloor();
        unchecked {
            flows[asset] = word + amount;
        }
    }

    /// @dev The holdings the breaker tracks for `asset`: what flowed in minus what flowed out through the hooks.
    function _trackedHoldings(address asset) internal view returns (uint256) {
        return _breakerStorage().flows[asset].holdings();
    }

    /// @dev The instant outflow of `asset` allowed now (its tracked holdings when unlimited).
    function _availableOutflow(address asset) internal view returns (uint256) {
        return _breakerStorage().flows[asset].available();
    }

    /// @dev The action configured for `asset`'s limit, or Revert if it has none.
    function _outflowAction(address asset) internal view returns (OutflowAction) {
        return OutflowAction(_breakerStorage().flows[asset].action());
    }

    // ------------------------------------------------------------------ internal state changes

    /// @dev Sets up roles and the trip configuration; called once, from the constructor or the initializer.
    function _initBreaker(address governance, address[] memory guardians, uint32 tripDuration_) internal {
        if (governance == address(0)) revert CircuitBreakerInvalidAccount(GOVERNOR_ROLE);
        _breakerSetRoleAdmin(GOVERNOR_ROLE, GOVERNOR_ROLE);
        _breakerSetRoleAdmin(GUARDIAN_ROLE, GOVERNOR_ROLE);
        _breakerGrantRole(GOVERNOR_ROLE, governance);
        for (uint256 i = 0; i < guardians.length; ++i) {
            if (guardians[i] == address(0)) revert CircuitBreakerInvalidAccount(GUARDIAN_ROLE);
            _breakerGrantRole(GUARDIAN_ROLE, guardians[i]);
        }
        _setTripDuration(tripDuration_);
        _setTripCooldown(DEFAULT_TRIP_COOLDOWN);
    }

    /// @dev Trips unless a trip is active or cooling down: then returns false and changes nothing, whatever the id, so
    /// racing guardians never revert and no key can chain trips. Reverts if `incidentId` tripped before.
    function _trip(bytes32 incidentId, address guardian) internal virtual returns (bool) {
        if (incidentId == bytes32(0)) revert CircuitBreakerInvalidIncident();
        BreakerStorage storage $ = _breakerStorage();
        TripSlot memory slot = $.tripSlot;
        uint48 previous = _loadTripExpiry();
        if (previous != 0 && block.timestamp < uint256(previous) + slot.cooldown) return false;
        if ($.incidents[incidentId].trippedAt != 0) revert CircuitBreakerIncidentReused(incidentId);
        uint48 expiresAt = uint48(block.timestamp) + slot.duration;
        _storeTripExpiry(expiresAt);
        $.incidentId = incidentId;
        $.incidents[incidentId] = IncidentRecord({guardian: guardian, trippedAt: uint48(block.timestamp)});
        emit Tripped(incidentId, guardian, expiresAt);
        return true;
    }

    /// @dev Sets the expiry of the current incident's trip while it is in force. A ratification that arrives after the
    /// trip lapsed or was lifted reverts: it cannot re-impose a pause governance (or time) already ended.
    function _ratify(bytes32 incidentId, uint64 expiresAt) internal virtual {
        _requireCurrentIncident(incidentId);
        uint64 previous = _loadTripExpiry();
        if (block.timestamp >= previous) revert CircuitBreakerIncidentNotActive(incidentId, previous);
        uint64 latest = uint64(block.timestamp) + MAX_RATIFIED_DURATION;
        if (expiresAt <= block.timestamp || expiresAt > latest) revert CircuitBreakerInvalidExpiry(expiresAt, latest);
        _storeTripExpiry(uint48(expiresAt));
        emit Ratified(incidentId, previous, expiresAt);
    }

    /// @dev Ends the current incident's trip now (the cooldown starts now); false if it was not active.
    function _lift(bytes32 incidentId) internal virtual returns (bool) {
        _requireCurrentIncident(incidentId);
        if (!isTripped()) return false;
        _storeTripExpiry(uint48(block.timestamp));
        emit Lifted(incidentId, _breakerSender());
        return true;
    }

    function _setTripDuration(uint32 duration) internal virtual {
        if (duration < MIN_TRIP_DURATION || duration > MAX_TRIP_DURATION) {
            revert CircuitBreakerInvalidTripDuration(duration, MIN_TRIP_DURATION, MAX_TRIP_DURATION);
        }
        TripSlot storage slot = _breakerStorage().tripSlot;
        uint32 previous = slot.duration;
        slot.duration = duration;
        emit TripDurationSet(previous, duration);
    }

    function _setTripCooldown(uint32 cooldown) internal virtual {
        if (cooldown < MIN_TRIP_COOLDOWN || cooldown > MAX_TRIP_COOLDOWN) {
            revert CircuitBreakerInvalidTripCooldown(cooldown, MIN_TRIP_COOLDOWN, MAX_TRIP_COOLDOWN);
        }
        TripSlot storage slot = _breakerStorage().tripSlot;
        uint32 previous = slot.cooldown;
        slot.cooldown = cooldown;
        emit TripCooldownSet(previous, cooldown);
    }

    /// @dev Public path for inheritors: call it from the constructor (or initializer) to keep an emergency exit open
    /// during trips without a governance action. Governance can still change it with {setOperationExempt}.
    function _setOperationExempt(bytes4 op, bool exempt) internal virtual {
        _breakerStorage().exempt[op] = exempt;
        emit OperationExemptionSet(op, exempt);
    }

    /// @dev Reconfigures the limit at the current timestamp: the floor becomes the larger of the current (decayed)
    /// floor and (1 - bps/20,000) of the holdings, so a change neither refunds nor carries more than the usage it finds.
    function _setOutflowLimit(address asset, uint16 bps, uint32 window, OutflowAction action) internal virtual {
        if (asset == address(0)) revert CircuitBreakerInvalidAsset();
        if (bps > OutflowFloor.BPS || (bps != 0 && (window < MIN_WINDOW || window > MAX_WINDOW))) {
            revert CircuitBreakerInvalidOutflowLimit(asset, bps, window);
        }
        if (bps == 0) {
            // One canonical "no limit" encoding, so the hot path tests a single field.
            window = 0;
            action = OutflowAction.Revert;
        }
        mapping(address => uint256) storage flows = _breakerStorage().flows;
        flows[asset] = flows[asset].configure(bps, window, uint8(action));
        emit OutflowLimitSet(asset, bps, window, action);
    }

    // ------------------------------------------------------------------ role hooks (one line each in the variants)

    /// @dev Reverts unless the caller holds `role`.
    function _breakerCheckRole(bytes32 role) internal view virtual;

    /// @dev The caller (ERC-2771 aware if the variant's Context is).
    function _breakerSender() internal view virtual returns (address);

    function _breakerHasRole(bytes32 role, address account) internal view virtual returns (bool);

    function _breakerGrantRole(bytes32 role, address account) internal virtual;

    function _breakerRevokeRole(bytes32 role, address account) internal virtual;

    function _breakerSetRoleAdmin(bytes32 role, bytes32 adminRole) internal virtual;

    // ------------------------------------------------------------------ private helpers

    function _requireCurrentIncident(bytes32 incidentId) private view {
        if (incidentId == bytes32(0)) revert CircuitBreakerInvalidIncident();
        bytes32 current = _breakerStorage().incidentId;
        if (incidentId != current) revert CircuitBreakerIncidentMismatch(incidentId, current);
    }

    function _breakerStorage() private pure returns (BreakerStorage storage $) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            $.slot := _STORAGE_SLOT
        }
    }
}
