// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {CorpusGuarded} from "./CorpusGuarded.sol";

/// @title CorpusLiquidityPool
/// @notice An ether pool whose LP token price is balance / supply. `remove` burns the LP tokens, then pays out:
/// while the ether is on its way the price reads high (Curve's remove_liquidity and get_virtual_price behind
/// the dForce, Midas and Market.xyz read-only reentrancy losses of 2022-2023).
contract CorpusLiquidityPool is ERC20, CorpusGuarded {
    uint256 private _lock;

    error CorpusPoolLocked();
    error CorpusPoolPayoutFailed(address to, uint256 amount);

    constructor(address guardian_) ERC20("Corpus LP", "cLP") CorpusGuarded(guardian_) {}

    modifier nonReentrant() {
        if (_lock == 1) revert CorpusPoolLocked();
        _lock = 1;
        _;
        _lock = 0;
    }

    function add() external payable whenNotPaused nonReentrant {
        uint256 supply = totalSupply();
        uint256 before = address(this).balance - msg.value;
        _mint(msg.sender, supply == 0 || before == 0 ? msg.value : (msg.value * supply) / before);
    }

    function remove(uint256 lp) external whenNotPaused nonReentrant {
        uint256 amount = (lp * address(this).balance) / totalSupply();
        _burn(msg.sender, lp);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert CorpusPoolPayoutFailed(msg.sender, amount);
    }

    /// @notice Ether per LP token, 18 decimals.
    function price() external view returns (uint256) {
        uint256 supply = totalSupply();
        return supply == 0 ? 1e18 : (address(this).balance * 1e18) / supply;
    }
}

/// @title ICorpusPriceSource
/// @notice Anything that quotes a price with 18 decimals.
interface ICorpusPriceSource {
    function price() external view returns (uint256);
}

/// @title CorpusCollateralLender
/// @notice Lends ether against a token valued by a price source it trusts at the moment of the call: an LP
/// token (read-only reentrancy), an AMM spot price (flash-loan and multi-block manipulation: Harvest, Mango,
/// Inverse), or a vault's share price (donation: Hundred). Loans are never repaid in the corpus.
contract CorpusCollateralLender is CorpusGuarded {
    IERC20 public immutable collateral;
    ICorpusPriceSource public source;
    mapping(address => uint256) public collateralOf;
    mapping(address => uint256) public debtOf;

    error CorpusLenderUndercollateralized(address account, uint256 limit, uint256 debt);
    error CorpusLenderPayoutFailed(address to, uint256 amount);
    error CorpusLenderHealthy(address account, uint256 debt, uint256 threshold);
    error CorpusLenderWrongRepayment(uint256 sent, uint256 debt);

    event OracleUpdated(address indexed previous, address indexed current);
    event Liquidated(address indexed account, address indexed liquidator, uint256 debt, uint256 seized);

    constructor(address guardian_, IERC20 collateral_, ICorpusPriceSource source_) CorpusGuarded(guardian_) {
        collateral = collateral_;
        source = source_;
    }

    function setSource(ICorpusPriceSource source_) external onlyOwner {
        emit OracleUpdated(address(source), address(source_));
        source = source_;
    }

    function depositAndBorrow(uint256 amount, uint256 borrow) external whenNotPaused {
        if (amount > 0) collateral.transferFrom(msg.sender, address(this), amount);
        collateralOf[msg.sender] += amount;
        uint256 limit = (collateralOf[msg.sender] * source.price() * 75) / 100 / 1e18;
        uint256 debt = debtOf[msg.sender] + borrow;
        if (debt > limit) revert CorpusLenderUndercollateralized(msg.sender, limit, debt);
        debtOf[msg.sender] = debt;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: borrow}("");
        if (!ok) revert CorpusLenderPayoutFailed(msg.sender, borrow);
    }

    function repay() external payable whenNotPaused {
        debtOf[msg.sender] -= msg.value;
    }

    /// @notice A position is liquidatable once its debt exceeds 80 % of its collateral's value.
    function isLiquidatable(address account) public view returns (bool) {
        uint256 debt = debtOf[account];
        return debt > 0 && debt > (collateralOf[account] * source.price() * 80) / 100 / 1e18;
    }

    /// @notice Anyone repays an unhealthy position's whole debt and takes collateral worth it plus 5 %: the
    /// liquidations every lending market depends on, and collateral leaving to an account that never deposited.
    function liquidate(address account) external payable whenNotPaused {
        uint256 debt = debtOf[account];
        uint256 price = source.price();
        if (!isLiquidatable(account)) revert CorpusLenderHealthy(account, debt, (collateralOf[account] * price * 80) / 100 / 1e18);
        if (msg.value != debt) revert CorpusLenderWrongRepayment(msg.value, debt);
        uint256 seized = (debt * 105 * 1e18) / 100 / price;
        if (seized > collateralOf[account]) seized = collateralOf[account];
        collateralOf[account] -= seized;
        debtOf[account] = 0;
        collateral.transfer(msg.sender, seized);
        emit Liquidated(account, msg.sender, debt, seized);
    }

    receive() external payable {}
}
