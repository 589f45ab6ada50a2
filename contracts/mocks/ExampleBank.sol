// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {CircuitBreaker} from "../CircuitBreaker.sol";

/// @notice The example of docs/readme/contracts.md, compiled and tested so the README never shows broken code.
contract ExampleBank is CircuitBreaker {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    mapping(address account => uint256) public balanceOf;

    event WithdrawalDeferred(address indexed account, uint256 amount);

    constructor(IERC20 token_, address timelock, address[] memory guardians) CircuitBreaker(timelock, guardians, 2 days) {
        token = token_;
    }

    function deposit(uint256 amount) external {
        _requireOperationOpen(this.deposit.selector); // reverts while tripped, unless governance exempted it
        token.safeTransferFrom(msg.sender, address(this), amount);
        _creditInflow(address(token), amount); // books the inflow and credits the outflow window back
        balanceOf[msg.sender] += amount;
    }

    function withdraw(uint256 amount) external {
        _requireOperationOpen(this.withdraw.selector);
        if (_checkOutflow(address(token), amount)) {
            balanceOf[msg.sender] -= amount;
            token.safeTransfer(msg.sender, amount);
        } else {
            emit WithdrawalDeferred(msg.sender, amount); // over the limit (Trip/Delay): no revert, or the trip rolls back
        }
    }
}
