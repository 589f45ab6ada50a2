// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {CircuitBreaker} from "../CircuitBreaker.sol";

/// @notice The example of docs/contracts.md, compiled and tested so the guide never shows broken code: two protected
/// operations (deposit, withdraw) and one emergency exit that stays open during a trip, exempted in the constructor.
contract ExampleBank is CircuitBreaker {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    mapping(address account => uint256) public balanceOf;

    event WithdrawalDeferred(address indexed account, uint256 amount);

    error ExampleBankInsufficientBalance(address account, uint256 balance, uint256 requested);
    error ExampleBankExitOverLimit(uint256 requested, uint256 available);

    constructor(IERC20 token_, address timelock, address[] memory guardians) CircuitBreaker(timelock, guardians, 2 days) {
        token = token_;
        // Open during trips from day one, through the breaker's public internal path (no governance action needed).
        _setOperationExempt(ExampleBank.emergencyExit.selector, true);
    }

    function deposit(uint256 amount) external {
        _requireOperationOpen(this.deposit.selector); // reverts while tripped
        token.safeTransferFrom(msg.sender, address(this), amount);
        _creditInflow(address(token), amount); // books the inflow
        balanceOf[msg.sender] += amount;
    }

    function withdraw(uint256 amount) external {
        _requireOperationOpen(this.withdraw.selector);
        _requireBalance(amount); // before the limit: a caller with nothing can neither use nor probe it
        if (_checkOutflow(address(token), amount)) {
            balanceOf[msg.sender] -= amount;
            token.safeTransfer(msg.sender, amount);
        } else {
            emit WithdrawalDeferred(msg.sender, amount); // over the limit (Delay): nothing moved, try again later
        }
    }

    /// @notice Exempt from the pause, still under the outflow limit: users can leave during an incident, but at most
    /// the limit's share per window, so an attacker cannot use the exit to drain.
    function emergencyExit(uint256 amount) external {
        _requireOperationOpen(this.emergencyExit.selector); // exempt in the constructor; governance may revoke it
        _requireBalance(amount);
        if (!_checkOutflow(address(token), amount)) {
            revert ExampleBankExitOverLimit(amount, _availableOutflow(address(token)));
        }
        balanceOf[msg.sender] -= amount;
        token.safeTransfer(msg.sender, amount);
    }

    function _requireBalance(uint256 amount) private view {
        uint256 balance = balanceOf[msg.sender];
        if (amount > balance) revert ExampleBankInsufficientBalance(msg.sender, balance, amount);
    }
}
