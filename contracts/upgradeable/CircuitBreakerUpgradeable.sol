// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {ICircuitBreaker} from "../interfaces/ICircuitBreaker.sol";
import {CircuitBreakerCore} from "../utils/CircuitBreakerCore.sol";

/// @title CircuitBreakerUpgradeable
/// @notice {CircuitBreaker} for contracts behind a proxy (ERC-1967, UUPS, transparent, beacon): the same logic, with
/// roles set up by {__CircuitBreaker_init} instead of a constructor. Call it from your `initialize` (which must carry
/// `initializer`), and call `_disableInitializers()` in the implementation's constructor.
/// @dev State lives in ERC-7201 namespaces: the breaker's in `failsafe.storage.CircuitBreaker` (see
/// {CircuitBreakerCore}) and the roles in OpenZeppelin's AccessControl namespace, so the inheritor's own storage
/// layout is free and upgrades can add fields without collisions.
abstract contract CircuitBreakerUpgradeable is AccessControlUpgradeable, CircuitBreakerCore {
    /// @param governance The timelock: gets GOVERNOR_ROLE (which administers itself and the guardians).
    /// @param guardians The initial guardians.
    /// @param tripDuration_ Seconds a trip lasts unless ratified or lifted. The cooldown starts at DEFAULT_TRIP_COOLDOWN.
    // solhint-disable-next-line func-name-mixedcase
    function __CircuitBreaker_init(
        address governance,
        address[] memory guardians,
        uint32 tripDuration_
    ) internal onlyInitializing {
        __AccessControl_init();
        _initBreaker(governance, guardians, tripDuration_);
    }

    /// @inheritdoc AccessControlUpgradeable
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
