// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice Uniswap V3's flash callback interface, signature for signature.
interface IUniswapV3FlashCallback {
    function uniswapV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata data) external;
}

/// @title UniswapV3StylePool
/// @notice The `flash` path of a Uniswap V3 pool: lend both tokens, call `uniswapV3FlashCallback` with the
/// fees owed, check repayment and emit V3's `Flash` event.
contract UniswapV3StylePool {
    using SafeERC20 for IERC20;

    /// @dev The 0.05% fee tier, in hundredths of a basis point as V3 counts it.
    uint256 private constant _FEE_PIPS = 500;

    IERC20 private immutable _token0;
    IERC20 private immutable _token1;

    error UniswapV3StylePoolNotRepaid(uint256 balance0, uint256 required0, uint256 balance1, uint256 required1);

    event Flash(
        address indexed sender,
        address indexed recipient,
        uint256 amount0,
        uint256 amount1,
        uint256 paid0,
        uint256 paid1
    );

    constructor(IERC20 token0, IERC20 token1) {
        _token0 = token0;
        _token1 = token1;
    }

    function flash(address recipient, uint256 amount0, uint256 amount1, bytes calldata data) external {
        uint256 fee0 = _divRoundingUp(amount0 * _FEE_PIPS, 1e6);
        uint256 fee1 = _divRoundingUp(amount1 * _FEE_PIPS, 1e6);
        uint256 balance0Before = _token0.balanceOf(address(this));
        uint256 balance1Before = _token1.balanceOf(address(this));
        if (amount0 > 0) _token0.safeTransfer(recipient, amount0);
        if (amount1 > 0) _token1.safeTransfer(recipient, amount1);
        IUniswapV3FlashCallback(msg.sender).uniswapV3FlashCallback(fee0, fee1, data);
        uint256 balance0After = _token0.balanceOf(address(this));
        uint256 balance1After = _token1.balanceOf(address(this));
        if (balance0After < balance0Before + fee0 || balance1After < balance1Before + fee1) {
            revert UniswapV3StylePoolNotRepaid(balance0After, balance0Before + fee0, balance1After, balance1Before + fee1);
        }
        emit Flash(msg.sender, recipient, amount0, amount1, balance0After - balance0Before, balance1After - balance1Before);
    }

    function _divRoundingUp(uint256 x, uint256 y) private pure returns (uint256) {
        return (x + y - 1) / y;
    }
}
