// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICircuitBreaker} from "./interfaces/ICircuitBreaker.sol";
import {CircuitBreakerCore} from "./utils/CircuitBreakerCore.sol";

/// @title CircuitBreaker
/// @notice Inherit it, call {_requireOperationOpen} at the top of every protected operation, {_checkOutflow} before
/// paying out an asset and {_creditInflow} after receiving one. Guardians can only trip (and not again until a cooldown
/// after the trip ends); governance (a timelock holding GOVERNOR_ROLE) ratifies, lifts, configures and rotates
/// guardians. For a contract behind a proxy use {CircuitBreakerUpgradeable}: this one sets up roles in its constructor.
/// @dev All logic is in {CircuitBreakerCore}; this variant only wires OpenZeppelin's AccessControl into it. The breaker
/// does not grant DEFAULT_ADMIN_ROLE: GOVERNOR_ROLE is its own admin and GUARDIAN_ROLE's, so the inheritor keeps its
/// own roles (administered by whoever it grants DEFAULT_ADMIN_ROLE to) apart from the breaker's governance.
/// The limit and its proof are described in {OutflowFloor}.
abstract contract CircuitBreaker is AccessControl, CircuitBreakerCore {
    /// @param governance The timelock: gets GOVERNOR_ROLE (which administers itself and the guardians).
    /// @param guardians The initial guardians.
    /// @param tripDuration_ Seconds a trip lasts unless ratified or lifted. The cooldown starts at DEFAULT_TRIP_COOLDOWN.
    constructor(address governance, address[] memory guardians, uint32 tripDuration_) {
        _initBreaker(governance, guardians, tripDuration_);
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(ICircuitBreaker).interfaceId || super.supportsInterface(interfaceId);
    }

    function _breakerCheckRole(bytes32 role) internal view override {
        _checkRole(role);
    }

    function _breakerSender() internal view override returns (address) {
        return _msgSender();
    }

    function _breakerHasRole(bytes32 role, address account) internal view override returns (bool) {
        return hasRole(role, account);
    }

    function _breakerGrantRole(bytes32 role, address account) internal override {
        _grantRole(role, account);
    }

    function _breakerRevokeRole(bytes32 role, address account) internal override {
        _revokeRole(role, account);
    }

    function _breakerSetRoleAdmin(bytes32 role, bytes32 adminRole) internal override {
        _setRoleAdmin(role, adminRole);
    }
}
