// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice Balancer V2's flash-loan recipient interface, signature for signature.
interface IBalancerFlashLoanRecipient {
    function receiveFlashLoan(
        IERC20[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata userData
    ) external;
}

/// @title BalancerStyleVault
/// @notice The flash-loan path of Balancer V2's Vault: `flashLoan`, the `receiveFlashLoan` callback, the
/// balance check after it and one `FlashLoan` event per token, with Balancer's signatures.
contract BalancerStyleVault {
    using SafeERC20 for IERC20;

    error BalancerStyleVaultLengthMismatch(uint256 tokens, uint256 amounts);
    error BalancerStyleVaultNotRepaid(address token, uint256 balance, uint256 required);

    event FlashLoan(address indexed recipient, IERC20 indexed token, uint256 amount, uint256 feeAmount);

    function flashLoan(
        IBalancerFlashLoanRecipient recipient,
        IERC20[] calldata tokens,
        uint256[] calldata amounts,
        bytes calldata userData
    ) external {
        if (tokens.length != amounts.length) revert BalancerStyleVaultLengthMismatch(tokens.length, amounts.length);
        uint256[] memory feeAmounts = new uint256[](tokens.length);
        uint256[] memory balancesBefore = new uint256[](tokens.length);
        for (uint256 i = 0; i < tokens.length; ++i) {
            balancesBefore[i] = tokens[i].balanceOf(address(this));
            tokens[i].safeTransfer(address(recipient), amounts[i]);
        }
        recipient.receiveFlashLoan(tokens, amounts, feeAmounts, userData);
        for (uint256 i = 0; i < tokens.length; ++i) {
            uint256 balanceAfter = tokens[i].balanceOf(address(this));
            if (balanceAfter < balancesBefore[i]) {
                revert BalancerStyleVaultNotRepaid(address(tokens[i]), balanceAfter, balancesBefore[i]);
            }
            emit FlashLoan(address(recipient), tokens[i], amounts[i], balanceAfter - balancesBefore[i]);
        }
    }
}
