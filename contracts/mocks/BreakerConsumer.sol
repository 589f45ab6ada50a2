// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {CircuitBreaker} from "../CircuitBreaker.sol";

/// @notice A minimal treasury that inherits CircuitBreaker: `fund` (an inflow) and `pay` (an outflow) are protected,
/// `sweep` is a governance outflow and `exit` an emergency exit exempted in the constructor. Tests drive the abstract
/// breaker through it.
contract BreakerConsumer is CircuitBreaker {
    using SafeERC20 for IERC20;

    event Paid(address indexed token, address indexed to, uint256 amount, bool deferred);

    constructor(address governance, address[] memory guardians) CircuitBreaker(governance, guardians, 1 days) {
        _setOperationExempt(BreakerConsumer.exit.selector, true);
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

    /// @dev The emergency exit: open during trips (exempt from construction), still under the outflow limit.
    function exit(IERC20 token, address to, uint256 amount) external {
        _requireOperationOpen(this.exit.selector);
        if (_checkOutflow(address(token), amount)) token.safeTransfer(to, amount);
        else revert CircuitBreakerOutflowExceeded(address(token), amount, _availableOutflow(address(token)));
    }

    /// @dev A payment governance approved: it leaves the books and is never refused. Counted against the limit (a
    /// settling claim) it leaves the floor where it is; not counted (a recovery) it shrinks the floor in proportion.
    function sweep(IERC20 token, address to, uint256 amount, bool countAgainstLimit) external onlyRole(GOVERNOR_ROLE) {
        _recordOutflow(address(token), amount, countAgainstLimit);
        token.safeTransfer(to, amount);
    }

    function holdings(address token) external view returns (uint256) {
        return _trackedHoldings(token);
    }

    /// @dev What an over-limit `pay` of `token` does (Revert when unlimited): consumers read it to choose between
    /// offering an asynchronous exit and reverting.
    function overLimitAction(address token) external view returns (OutflowAction) {
        return _outflowAction(token);
    }
}
