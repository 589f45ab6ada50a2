// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
import {CircuitBreakerUpgradeable} from "../upgradeable/CircuitBreakerUpgradeable.sol";

/// @notice BreakerConsumer behind a proxy: the implementation disables its initializers, the proxy runs `initialize`.
contract UpgradeableBreakerConsumer is CircuitBreakerUpgradeable {
    using SafeERC20 for IERC20;

    event Paid(address indexed token, address indexed to, uint256 amount, bool deferred);

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function initialize(address governance, address[] calldata guardians, uint32 tripDuration_) external initializer {
        __CircuitBreaker_init(governance, guardians, tripDuration_);
        _setOperationExempt(this.exit.selector, true);
    }

    /// @dev A mistake a consumer could make: calling the breaker's initializer outside `initialize`. It must revert.
    function initBreakerAgain(address governance, address[] calldata guardians) external {
        __CircuitBreaker_init(governance, guardians, 1 days);
    }

    function fund(IERC20 token, uint256 amount) external {
        _requireOperationOpen(this.fund.selector);
        token.safeTransferFrom(msg.sender, address(this), amount);
        _creditInflow(address(token), amount);
    }

    function pay(IERC20 token, address to, uint256 amount) external {
        _requireOperationOpen(this.pay.selector);
        bool payNow = _checkOutflow(address(token), amount);
        if (payNow) token.safeTransfer(to, amount);
        emit Paid(address(token), to, amount, !payNow);
    }

    /// @dev The emergency exit: exempt from the pause from initialization on.
    function exit(IERC20 token, address to, uint256 amount) external {
        _requireOperationOpen(this.exit.selector);
        if (_checkOutflow(address(token), amount)) token.safeTransfer(to, amount);
    }
}

/// @dev Makes Hardhat compile OpenZeppelin's ERC1967Proxy so tests can deploy it by name.
contract BreakerProxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) ERC1967Proxy(implementation, data) {}
}
