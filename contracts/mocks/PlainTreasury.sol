// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice BreakerConsumer's `fund` and `pay` without the breaker: the baseline its hooks' gas overhead is measured
/// against.
contract PlainTreasury {
    using SafeERC20 for IERC20;

    event Paid(address indexed token, address indexed to, uint256 amount, bool deferred);

    function fund(IERC20 token, uint256 amount) external {
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    function pay(IERC20 token, address to, uint256 amount) external {
        token.safeTransfer(to, amount);
        emit Paid(address(token), to, amount, false);
    }
}
