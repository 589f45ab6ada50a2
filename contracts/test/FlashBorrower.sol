// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {AaveStylePool, IAaveFlashLoanSimpleReceiver} from "./AaveStylePool.sol";
import {BalancerStyleVault, IBalancerFlashLoanRecipient} from "./BalancerStyleVault.sol";
import {UniswapV2StylePair, IUniswapV2Callee} from "./UniswapV2StylePair.sol";
import {UniswapV3StylePool, IUniswapV3FlashCallback} from "./UniswapV3StylePool.sol";

/// @title FlashBorrower
/// @notice Borrows from each kind of flash lender (ERC-3156, Aave, Balancer, Uniswap V2 and V3), performs
/// one configured call while it holds the loan, as an attacker would against a protected contract, and
/// repays within the same transaction. Fees are paid from tokens the test gives it beforehand.
contract FlashBorrower is IERC3156FlashBorrower, IAaveFlashLoanSimpleReceiver, IBalancerFlashLoanRecipient,
    IUniswapV2Callee, IUniswapV3FlashCallback
{
    using SafeERC20 for IERC20;

    bytes32 private constant _ERC3156_CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");

    address private _target;
    bytes private _action;

    error FlashBorrowerUntrustedInitiator(address initiator);
    error FlashBorrowerActionFailed(address target, bytes returnData);

    event ActionPerformed(address indexed target, bytes data);

    /// @notice The call to make while holding a loan.
    function setAction(address target, bytes calldata data) external {
        _target = target;
        _action = data;
    }

    function borrowErc3156(IERC3156FlashLender lender, address token, uint256 amount) external {
        lender.flashLoan(this, token, amount, "");
    }

    function borrowAave(AaveStylePool pool, address asset, uint256 amount) external {
        pool.flashLoanSimple(address(this), asset, amount, "", 0);
    }

    function borrowBalancer(BalancerStyleVault vault, IERC20 token, uint256 amount) external {
        IERC20[] memory tokens = new IERC20[](1);
        tokens[0] = token;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        vault.flashLoan(this, tokens, amounts, abi.encode(address(vault)));
    }

    function borrowUniswapV2(UniswapV2StylePair pair, IERC20 token0, IERC20 token1, uint256 amount0, uint256 amount1)
        external
    {
        pair.swap(amount0, amount1, address(this), abi.encode(token0, token1));
    }

    function borrowUniswapV3(UniswapV3StylePool pool, IERC20 token0, IERC20 token1, uint256 amount0, uint256 amount1)
        external
    {
        pool.flash(address(this), amount0, amount1, abi.encode(token0, token1, amount0, amount1));
    }

    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata)
        external
        returns (bytes32)
    {
        if (initiator != address(this)) revert FlashBorrowerUntrustedInitiator(initiator);
        _act();
        IERC20(token).forceApprove(msg.sender, amount + fee);
        return _ERC3156_CALLBACK_SUCCESS;
    }

    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata)
        external
        returns (bool)
    {
        if (initiator != address(this)) revert FlashBorrowerUntrustedInitiator(initiator);
        _act();
        IERC20(asset).forceApprove(msg.sender, amount + premium);
        return true;
    }

    function receiveFlashLoan(
        IERC20[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata
    ) external {
        _act();
        for (uint256 i = 0; i < tokens.length; ++i) {
            tokens[i].safeTransfer(msg.sender, amounts[i] + feeAmounts[i]);
        }
    }

    function uniswapV2Call(address sender, uint256 amount0, uint256 amount1, bytes calldata data) external {
        if (sender != address(this)) revert FlashBorrowerUntrustedInitiator(sender);
        (IERC20 token0, IERC20 token1) = abi.decode(data, (IERC20, IERC20));
        _act();
        // V2 keeps 0.3% of what comes in, so repaying `x` needs x * 1000 / 997, rounded up.
        if (amount0 > 0) token0.safeTransfer(msg.sender, (amount0 * 1000) / 997 + 1);
        if (amount1 > 0) token1.safeTransfer(msg.sender, (amount1 * 1000) / 997 + 1);
    }

    function uniswapV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata data) external {
        (IERC20 token0, IERC20 token1, uint256 amount0, uint256 amount1) =
            abi.decode(data, (IERC20, IERC20, uint256, uint256));
        _act();
        if (amount0 + fee0 > 0) token0.safeTransfer(msg.sender, amount0 + fee0);
        if (amount1 + fee1 > 0) token1.safeTransfer(msg.sender, amount1 + fee1);
    }

    function _act() private {
        if (_target == address(0)) return;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory returnData) = _target.call(_action);
        if (!ok) revert FlashBorrowerActionFailed(_target, returnData);
        emit ActionPerformed(_target, _action);
    }
}
