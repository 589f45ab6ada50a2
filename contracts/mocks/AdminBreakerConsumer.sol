// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BreakerConsumer} from "./BreakerConsumer.sol";

/// @notice A consumer with roles of its own, administered by its own admin (DEFAULT_ADMIN_ROLE): the tests check that
/// this admin cannot touch the breaker's roles and the breaker's governance cannot touch the consumer's.
contract AdminBreakerConsumer is BreakerConsumer {
    bytes32 public constant TREASURER_ROLE = keccak256("example.treasurer");

    constructor(address governance, address[] memory guardians, address admin) BreakerConsumer(governance, guardians) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }
}
