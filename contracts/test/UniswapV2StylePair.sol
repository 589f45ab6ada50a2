// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice Uniswap V2's flash-swap callee interface, signature for signature.
interface IUniswapV2Callee {
    function uniswapV2Call(address sender, uint256 amount0, uint256 amount1, bytes calldata data) external;
}

/// @title UniswapV2StylePair
/// @notice The swap path of a Uniswap V2 pair: optimistic transfer out, the `uniswapV2Call` flash-swap
/// callback when `data` is non-empty, then the fee-adjusted constant-product check, with V2's `Swap` event.
contract UniswapV2StylePair {
    using SafeERC20 for IERC20;

    IERC20 private immutable _token0;
    IERC20 private immutable _token1;
    uint256 private _reserve0;
    uint256 private _reserve1;

    error UniswapV2StylePairInsufficientInput(uint256 amount0In, uint256 amount1In);
    error UniswapV2StylePairInvariantBroken(uint256 adjustedProduct, uint256 requiredProduct);

    event Swap(
        address indexed sender,
        uint256 amount0In,
        uint256 amount1In,
        uint256 amount0Out,
        uint256 amount1Out,
        address indexed to
    );
    event Synced(uint256 reserve0, uint256 reserve1);

    constructor(IERC20 token0, IERC20 token1) {
        _token0 = token0;
        _token1 = token1;
    }

    /// @notice Books whatever was transferred in as reserves, like V2's `sync`.
    function sync() external {
        _reserve0 = _token0.balanceOf(address(this));
        _reserve1 = _token1.balanceOf(address(this));
        emit Synced(_reserve0, _reserve1);
    }

    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external {
        if (amount0Out > 0) _token0.safeTransfer(to, amount0Out);
        if (amount1Out > 0) _token1.safeTransfer(to, amount1Out);
        if (data.length > 0) IUniswapV2Callee(to).uniswapV2Call(msg.sender, amount0Out, amount1Out, data);
        uint256 balance0 = _token0.balanceOf(address(this));
        uint256 balance1 = _token1.balanceOf(address(this));
        uint256 amount0In = balance0 > _reserve0 - amount0Out ? balance0 - (_reserve0 - amount0Out) : 0;
        uint256 amount1In = balance1 > _reserve1 - amount1Out ? balance1 - (_reserve1 - amount1Out) : 0;
        if (amount0In == 0 && amount1In == 0) revert UniswapV2StylePairInsufficientInput(amount0In, amount1In);
        // V2's 0.3% fee, in thousandths.
        uint256 adjusted = (balance0 * 1000 - amount0In * 3) * (balance1 * 1000 - amount1In * 3);
        uint256 required = _reserve0 * _reserve1 * 1_000_000;
        if (adjusted < required) revert UniswapV2StylePairInvariantBroken(adjusted, required);
        _reserve0 = balance0;
        _reserve1 = balance1;
        emit Swap(msg.sender, amount0In, amount1In, amount0Out, amount1Out, to);
    }
}
