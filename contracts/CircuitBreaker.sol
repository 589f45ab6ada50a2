// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICircuitBreaker} from "./interfaces/ICircuitBreaker.sol";

/// @title CircuitBreaker
/// @notice Inherit it, call {_requireOperationOpen} at the top of every protected operation, {_checkOutflow} before
/// paying out an asset and {_creditInflow} after receiving one. Guardians can only trip; governance (a timelock
/// holding GOVERNOR_ROLE and DEFAULT_ADMIN_ROLE) ratifies, lifts, configures and rotates guardians.
/// @dev Gas is the design constraint. The hot path touches two storage slots: the trip slot (read only) and the
/// asset's flow slot, which packs the asset's limit configuration, its tracked holdings and a linearly decaying
/// "used" accumulator. The accumulator decays with elapsed time in O(1), so a check costs the same after a second or
/// after a year of idleness, and a trip lapses by comparison with its expiry, without any write.
///
/// The limit is strict over every interval: with a limit of L (bps of holdings) per window W, the net outflow over
/// any interval of length <= W is at most L. A refilling bucket with capacity L and refill L/W would allow L at the
/// start of an interval plus almost L more refilled by its end (2L per window). So the bucket holds half the limit
/// (burst L/2) and refills at L/2 per window: burst + refill over W = L. The price is the largest single outflow at
/// once, L/2 of the holdings (10 % for a 20 % limit), and a sustained rate of L/2 per window.
///
/// Shares are measured against the tracked holdings at the moment of each flow: an outflow of `a` from holdings `h`
/// uses a/h (rounded up), an inflow of `a` that brings the holdings to `h` credits a/h back (rounded down, and never
/// below zero used). Over any interval of length <= W, outflow shares minus inflow credits <= L; so without inflows
/// in the interval, the assets paid out are at most L times the holdings at its start.
///
/// Flow slot layout (least significant bit first):
///   [0, 112)   holdings   what flowed in minus what flowed out, in asset units
///   [112, 176) used       share of holdings used, 1e18 = 100 % (the most it records), decaying by
///                         bps/(2 window) per second; an instant outflow may raise it to at most bps/2
///   [176, 208) updatedAt  timestamp of the last write (uint32: valid until 2106)
///   [208, 224) bps        limit as a share of holdings per window, in basis points; 0 = no limit
///   [224, 248) window     seconds
///   [248, 256) action     OutflowAction on excess
abstract contract CircuitBreaker is AccessControl, ICircuitBreaker {
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
    /// @notice Shortest outflow window: shorter windows make the limit meaningless within a block or two.
    uint32 public constant MIN_WINDOW = 5 minutes;
    /// @notice Longest outflow window (fits the 24-bit window field).
    uint32 public constant MAX_WINDOW = 30 days;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _WAD = 1e18;
    uint256 private constant _WAD_PER_BPS = _WAD / _BPS;
    /// @dev Half a basis point in WAD: both the bucket's capacity and its refill per window are bps/2 of holdings.
    uint256 private constant _HALF_WAD_PER_BPS = _WAD_PER_BPS / 2;

    uint256 private constant _HOLDINGS_MASK = type(uint112).max;
    uint256 private constant _USED_SHIFT = 112;
    uint256 private constant _USED_MASK = type(uint64).max;
    uint256 private constant _UPDATED_SHIFT = 176;
    uint256 private constant _UPDATED_MASK = type(uint32).max;
    uint256 private constant _BPS_SHIFT = 208;
    uint256 private constant _BPS_MASK = type(uint16).max;
    uint256 private constant _WINDOW_SHIFT = 224;
    uint256 private constant _WINDOW_MASK = type(uint24).max;
    uint256 private constant _ACTION_SHIFT = 248;
    /// @dev The configuration bits (bps, window, action): kept as they are when the state bits change.
    uint256 private constant _CONFIG_BITS = ~uint256(0) << _BPS_SHIFT;

    /// @dev Everything the hot path needs to know about trips, in one slot. `count` numbers the trips so that the
    /// incident ids the breaker derives itself never repeat.
    struct TripSlot {
        uint48 expiresAt;
        uint32 duration;
        uint64 count;
    }

    /// @dev Who tripped and when: read only by views and events, so kept out of the hot slot. Kept per incident id: a
    /// record with a trip time (never 0 on a real chain) marks an id that already tripped. Ids are single-use, so a
    /// lift or ratification scheduled for one trip can never act on a later one; the cost is a fresh slot per trip.
    struct IncidentRecord {
        address guardian;
        uint48 trippedAt;
    }

    TripSlot private _tripSlot;
    bytes32 private _incidentId;
    mapping(bytes4 op => bool exempt) private _exempt;
    mapping(address asset => uint256 word) private _flows;
    mapping(bytes32 incidentId => IncidentRecord) private _incidents;

    /// @param governance The timelock: gets DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE (GOVERNOR_ROLE administers guardians).
    /// @param guardians The initial guardians.
    /// @param tripDuration_ Seconds a trip lasts unless ratified or lifted.
    constructor(address governance, address[] memory guardians, uint32 tripDuration_) {
        if (governance == address(0)) revert CircuitBreakerInvalidAccount(GOVERNOR_ROLE);
        _setRoleAdmin(GUARDIAN_ROLE, GOVERNOR_ROLE);
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNOR_ROLE, governance);
        for (uint256 i = 0; i < guardians.length; ++i) {
            if (guardians[i] == address(0)) revert CircuitBreakerInvalidAccount(GUARDIAN_ROLE);
            _grantRole(GUARDIAN_ROLE, guardians[i]);
        }
        _setTripDuration(tripDuration_);
    }

    // ------------------------------------------------------------------ guardian

    /// @inheritdoc ICircuitBreaker
    function trip(bytes32 incidentId) external onlyRole(GUARDIAN_ROLE) returns (bool tripped) {
        return _trip(incidentId, _msgSender());
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc ICircuitBreaker
    function ratify(bytes32 incidentId, uint64 expiresAt) external onlyRole(GOVERNOR_ROLE) {
        _ratify(incidentId, expiresAt);
    }

    /// @inheritdoc ICircuitBreaker
    function lift(bytes32 incidentId) external onlyRole(GOVERNOR_ROLE) returns (bool lifted) {
        return _lift(incidentId);
    }

    /// @inheritdoc ICircuitBreaker
    function setTripDuration(uint32 duration) external onlyRole(GOVERNOR_ROLE) {
        _setTripDuration(duration);
    }

    /// @inheritdoc ICircuitBreaker
    function setOperationExempt(bytes4 op, bool exempt) external onlyRole(GOVERNOR_ROLE) {
        _setOperationExempt(op, exempt);
    }

    /// @inheritdoc ICircuitBreaker
    function setOutflowLimit(
        address asset,
        uint16 bps,
        uint32 window,
        OutflowAction action
    ) external onlyRole(GOVERNOR_ROLE) {
        _setOutflowLimit(asset, bps, window, action);
    }

    /// @inheritdoc ICircuitBreaker
    function rotateGuardian(address previousGuardian, address newGuardian) external onlyRole(GOVERNOR_ROLE) {
        if (newGuardian == address(0)) revert CircuitBreakerInvalidAccount(GUARDIAN_ROLE);
        _revokeRole(GUARDIAN_ROLE, previousGuardian);
        _grantRole(GUARDIAN_ROLE, newGuardian);
        emit GuardianRotated(previousGuardian, newGuardian);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ICircuitBreaker
    function isTripped() public view returns (bool) {
        return block.timestamp < _tripSlot.expiresAt;
    }

    /// @inheritdoc ICircuitBreaker
    function incident()
        external
        view
        returns (bytes32 incidentId, address guardian, uint64 trippedAt, uint64 expiresAt)
    {
        incidentId = _incidentId;
        IncidentRecord memory record = _incidents[incidentId];
        return (incidentId, record.guardian, record.trippedAt, _tripSlot.expiresAt);
    }

    /// @inheritdoc ICircuitBreaker
    function tripDuration() external view returns (uint32) {
        return _tripSlot.duration;
    }

    /// @inheritdoc ICircuitBreaker
    function isOperationExempt(bytes4 op) external view returns (bool) {
        return _exempt[op];
    }

    /// @inheritdoc ICircuitBreaker
    function isOperationOpen(bytes4 op) public view returns (bool) {
        return !isTripped() || _exempt[op];
    }

    /// @inheritdoc ICircuitBreaker
    function outflowLimit(address asset) external view returns (uint16 bps, uint32 window, OutflowAction action) {
        uint256 word = _flows[asset];
        return (uint16(word >> _BPS_SHIFT), uint32((word >> _WINDOW_SHIFT) & _WINDOW_MASK), _action(word));
    }

    /// @inheritdoc ICircuitBreaker
    function outflowState(address asset) external view returns (uint256 holdings, uint256 usedBps, uint256 available) {
        uint256 word = _flows[asset];
        holdings = word & _HOLDINGS_MASK;
        uint256 used = _decayedUsed(word);
        usedBps = (used + _WAD_PER_BPS - 1) / _WAD_PER_BPS;
        available = _available(word, holdings, used);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(ICircuitBreaker).interfaceId || super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ hooks for consumers

    /// @dev Reverts with {CircuitBreakerOperationPaused} if a trip is active and `op` is not exempt. One warm-able
    /// SLOAD when not tripped; the exemption mapping and incident are read only while tripped.
    function _requireOperationOpen(bytes4 op) internal view virtual {
        uint48 expiresAt = _tripSlot.expiresAt;
        if (block.timestamp < expiresAt && !_exempt[op]) {
            revert CircuitBreakerOperationPaused(op, _incidentId, expiresAt);
        }
    }

    /// @dev Records an outflow of `amount` of `asset` against its limit and its tracked holdings. Returns true if the
    /// consumer may pay it out now. If the limit would be exceeded: reverts (Revert), or records nothing and returns
    /// false (Delay; Trip also trips the breaker, with incident id
    /// keccak256(abi.encode(address(this), asset, amount, block.number, trip count)), unique per trip, and the
    /// contract itself as the guardian). A consumer that gets false must defer the payout without reverting.
    /// An outflow above the tracked holdings always reverts; a zero outflow always passes and changes nothing.
    function _checkOutflow(address asset, uint256 amount) internal virtual returns (bool payNow) {
        if (amount == 0) return true;
        uint256 word = _flows[asset];
        uint256 holdings = word & _HOLDINGS_MASK;
        if (amount > holdings) revert CircuitBreakerOutflowExceeded(asset, amount, holdings);
        if (word >> _BPS_SHIFT == 0) {
            // No limit: only the books change.
            _flows[asset] = word - amount;
            return true;
        }
        uint256 used = _decayedUsed(word);
        uint256 share;
        uint256 capacity;
        unchecked {
            // 0 < amount <= holdings < 2^112, so amount * 1e18 < 2^172; used, share and capacity are at most 2^61.
            // Rounded up so that many small outflows can never add up to more than the limit.
            share = (amount * _WAD - 1) / holdings + 1;
            capacity = ((word >> _BPS_SHIFT) & _BPS_MASK) * _HALF_WAD_PER_BPS;
            used += share;
        }
        if (used > capacity) {
            uint256 available = _available(word, holdings, used - share);
            OutflowAction action = _action(word);
            if (action == OutflowAction.Revert) revert CircuitBreakerOutflowExceeded(asset, amount, available);
            emit OutflowLimitReached(asset, amount, available, action);
            if (action == OutflowAction.Trip) {
                _trip(_automaticIncidentId(asset, amount), address(this));
            }
            return false;
        }
        unchecked {
            _flows[asset] = _packState(word, holdings - amount, used);
        }
        return true;
    }

    /// @dev Records an outflow that was already decided (a settling claim, a recovery): it reduces the tracked
    /// holdings and, for a settling claim (`countAgainstLimit`), uses up limit without ever refusing (instant
    /// outflows then wait until the bucket has refilled below its capacity again).
    function _recordOutflow(address asset, uint256 amount, bool countAgainstLimit) internal virtual {
        uint256 word = _flows[asset];
        uint256 holdings = word & _HOLDINGS_MASK;
        if (amount > holdings) revert CircuitBreakerOutflowExceeded(asset, amount, holdings);
        uint256 used = _decayedUsed(word);
        if (countAgainstLimit && amount != 0 && word >> _BPS_SHIFT != 0) {
            used += (amount * _WAD - 1) / holdings + 1;
            // More than 100 % of the holdings used only lengthens the wait; cap it so the field never overflows.
            if (used > _WAD) used = _WAD;
        }
        _flows[asset] = _packState(word, holdings - amount, used);
    }

    /// @dev Records an inflow: adds to the tracked holdings and credits the window back by the inflow's share of the
    /// new holdings, so money that leaves and comes back does not exhaust the limit.
    function _creditInflow(address asset, uint256 amount) internal virtual {
        uint256 word = _flows[asset];
        uint256 holdings = (word & _HOLDINGS_MASK) + amount;
        if (holdings > _HOLDINGS_MASK) revert CircuitBreakerHoldingsOverflow(asset, holdings);
        uint256 used = _decayedUsed(word);
        if (used != 0) {
            uint256 credit = (amount * _WAD) / holdings;
            used = used > credit ? used - credit : 0;
        }
        _flows[asset] = _packState(word, holdings, used);
    }

    /// @dev The holdings the breaker tracks for `asset`: what flowed in minus what flowed out through the hooks.
    function _trackedHoldings(address asset) internal view returns (uint256) {
        return _flows[asset] & _HOLDINGS_MASK;
    }

    /// @dev The outflow of `asset` allowed now (its tracked holdings when unlimited).
    function _availableOutflow(address asset) internal view returns (uint256) {
        uint256 word = _flows[asset];
        return _available(word, word & _HOLDINGS_MASK, _decayedUsed(word));
    }

    /// @dev The action configured for `asset`'s limit, or Revert if it has none.
    function _outflowAction(address asset) internal view returns (OutflowAction) {
        return _action(_flows[asset]);
    }

    // ------------------------------------------------------------------ internal state changes

    /// @dev Trips unless a trip is active (then returns false and changes nothing, whatever the id, so racing
    /// guardians never revert). Reverts if `incidentId` tripped before: ids are single-use.
    function _trip(bytes32 incidentId, address guardian) internal virtual returns (bool) {
        if (incidentId == bytes32(0)) revert CircuitBreakerInvalidIncident();
        TripSlot memory slot = _tripSlot;
        if (block.timestamp < slot.expiresAt) return false;
        if (_incidents[incidentId].trippedAt != 0) revert CircuitBreakerIncidentReused(incidentId);
        uint48 expiresAt = uint48(block.timestamp) + slot.duration;
        _tripSlot = TripSlot({expiresAt: expiresAt, duration: slot.duration, count: slot.count + 1});
        _incidentId = incidentId;
        _incidents[incidentId] = IncidentRecord({guardian: guardian, trippedAt: uint48(block.timestamp)});
        emit Tripped(incidentId, guardian, expiresAt);
        return true;
    }

    /// @dev Sets the current incident's expiry; also re-imposes a lapsed or lifted trip of that incident.
    function _ratify(bytes32 incidentId, uint64 expiresAt) internal virtual {
        _requireCurrentIncident(incidentId);
        uint64 latest = uint64(block.timestamp) + MAX_RATIFIED_DURATION;
        if (expiresAt <= block.timestamp || expiresAt > latest) revert CircuitBreakerInvalidExpiry(expiresAt, latest);
        uint64 previous = _tripSlot.expiresAt;
        _tripSlot.expiresAt = uint48(expiresAt);
        emit Ratified(incidentId, previous, expiresAt);
    }

    /// @dev Ends the current incident's trip now; false if it was not active.
    function _lift(bytes32 incidentId) internal virtual returns (bool) {
        _requireCurrentIncident(incidentId);
        if (!isTripped()) return false;
        _tripSlot.expiresAt = uint48(block.timestamp);
        emit Lifted(incidentId, _msgSender());
        return true;
    }

    function _setTripDuration(uint32 duration) internal virtual {
        if (duration < MIN_TRIP_DURATION || duration > MAX_TRIP_DURATION) {
            revert CircuitBreakerInvalidTripDuration(duration, MIN_TRIP_DURATION, MAX_TRIP_DURATION);
        }
        uint32 previous = _tripSlot.duration;
        _tripSlot.duration = duration;
        emit TripDurationSet(previous, duration);
    }

    function _setOperationExempt(bytes4 op, bool exempt) internal virtual {
        _exempt[op] = exempt;
        emit OperationExemptionSet(op, exempt);
    }

    /// @dev Settles the decay under the old limit before switching to the new one, so a change never refunds or
    /// charges retroactively.
    function _setOutflowLimit(address asset, uint16 bps, uint32 window, OutflowAction action) internal virtual {
        if (asset == address(0)) revert CircuitBreakerInvalidAsset();
        if (bps > _BPS || (bps != 0 && (window < MIN_WINDOW || window > MAX_WINDOW))) {
            revert CircuitBreakerInvalidOutflowLimit(asset, bps, window);
        }
        if (bps == 0) {
            // One canonical "no limit" encoding, so the hot path tests a single field.
            window = 0;
            action = OutflowAction.Revert;
        }
        uint256 word = _flows[asset];
        uint256 state = _packState(0, word & _HOLDINGS_MASK, bps == 0 ? 0 : _decayedUsed(word));
        _flows[asset] =
            state |
            (uint256(bps) << _BPS_SHIFT) |
            (uint256(window) << _WINDOW_SHIFT) |
            (uint256(action) << _ACTION_SHIFT);
        emit OutflowLimitSet(asset, bps, window, action);
    }

    // ------------------------------------------------------------------ private helpers

    function _requireCurrentIncident(bytes32 incidentId) private view {
        if (incidentId == bytes32(0)) revert CircuitBreakerInvalidIncident();
        bytes32 current = _incidentId;
        if (incidentId != current) revert CircuitBreakerIncidentMismatch(incidentId, current);
    }

    /// @dev The id of a trip caused by an over-limit outflow: the trip count makes it unique even for the same asset,
    /// amount and block, and the breaker's address keeps it apart from other breakers' ids.
    function _automaticIncidentId(address asset, uint256 amount) private view returns (bytes32) {
        return keccak256(abi.encode(address(this), asset, amount, block.number, _tripSlot.count));
    }

    /// @dev The used share now: the stored share minus the linear refill since the last write (O(1) in idle time).
    function _decayedUsed(uint256 word) private view returns (uint256) {
        uint256 used = (word >> _USED_SHIFT) & _USED_MASK;
        if (used == 0) return 0;
        uint256 window = (word >> _WINDOW_SHIFT) & _WINDOW_MASK;
        unchecked {
            // uint32 arithmetic wraps correctly across 2106; elapsed * bps * 5e13 < 2^32 * 2^16 * 2^46. Rounded down,
            // so the refill over any interval never exceeds bps/2 per window.
            uint256 elapsed = uint32(uint32(block.timestamp) - uint32(word >> _UPDATED_SHIFT));
            uint256 refill = (elapsed * ((word >> _BPS_SHIFT) & _BPS_MASK) * _HALF_WAD_PER_BPS) / window;
            return used > refill ? used - refill : 0;
        }
    }

    function _available(uint256 word, uint256 holdings, uint256 used) private pure returns (uint256) {
        uint256 capacity = ((word >> _BPS_SHIFT) & _BPS_MASK) * _HALF_WAD_PER_BPS;
        if (capacity == 0) return holdings;
        return used >= capacity ? 0 : ((capacity - used) * holdings) / _WAD;
    }

    function _action(uint256 word) private pure returns (OutflowAction) {
        return OutflowAction(uint8(word >> _ACTION_SHIFT));
    }

    /// @dev Keeps `word`'s configuration bits and replaces its state with (holdings, used, now).
    function _packState(uint256 word, uint256 holdings, uint256 used) private view returns (uint256) {
        return
            (word & _CONFIG_BITS) |
            holdings |
            (used << _USED_SHIFT) |
            ((block.timestamp & _UPDATED_MASK) << _UPDATED_SHIFT);
    }
}
