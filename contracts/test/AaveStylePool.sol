// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice Aave V3's simple flash-loan receiver interface, signature for signature.
interface IAaveFlashLoanSimpleReceiver {
    function executeOperation(
        address asset,
        uint256 amount,
        uint256 premium,
        address initiator,
        bytes calldata params
    ) external returns (bool);
}

/// @title AaveStylePool
/// @notice The flash-loan path of an Aave V3 Pool: same entry point (`flashLoanSimple`), same callback and
/// same `FlashLoan` event, so the guardian recognises it exactly as it would recognise Aave on mainnet.
contract AaveStylePool {
    using SafeERC20 for IERC20;

    /// @dev Aave V3's premium: 5 basis points.
    uint256 private constant _PREMIUM_BPS = 5;

    error AaveStylePoolReceiverRejected(address receiver);

    event FlashLoan(
        address indexed target,
        address initiator,
        address indexed asset,
        uint256 amount,
        uint8 interestRateMode,
        uint256 premium,
        uint16 indexed referralCode
    );

    function flashLoanSimple(
        address receiverAddress,
        address asset,
        uint256 amount,
        bytes calldata params,
        uint16 referralCode
    ) external {
        uint256 premium = (amount * _PREMIUM_BPS) / 10_000;
        IERC20(asset).safeTransfer(receiverAddress, amount);
        if (!IAaveFlashLoanSimpleReceiver(receiverAddress).executeOperation(asset, amount, premium, msg.sender, params)) {
            revert AaveStylePoolReceiverRejected(receiverAddress);
        }
        IERC20(asset).safeTransferFrom(receiverAddress, address(this), amount + premium);
        emit FlashLoan(receiverAddress, msg.sender, asset, amount, 0, premium, referralCode);
    }
}
