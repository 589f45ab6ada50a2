// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {CorpusGuarded} from "./CorpusGuarded.sol";

/// @title CorpusAMM
/// @notice A constant-product pool of a collateral token and a quote token, without fees. Its spot price is
/// what a naive lender trusts (Harvest, Mango Markets, Inverse Finance).
contract CorpusAMM is CorpusGuarded {
    IERC20 public immutable base;
    IERC20 public immutable quote;

    constructor(address guardian_, IERC20 base_, IERC20 quote_) CorpusGuarded(guardian_) {
        base = base_;
        quote = quote_;
    }

    function swap(IERC20 tokenIn, uint256 amountIn) external whenNotPaused returns (uint256 out) {
        IERC20 tokenOut = tokenIn == base ? quote : base;
        uint256 rIn = tokenIn.balanceOf(address(this));
        uint256 rOut = tokenOut.balanceOf(address(this));
        tokenIn.transferFrom(msg.sender, address(this), amountIn);
        out = (amountIn * rOut) / (rIn + amountIn);
        tokenOut.transfer(msg.sender, out);
    }

    /// @notice Quote per base, 18 decimals.
    function price() external view returns (uint256) {
        return (quote.balanceOf(address(this)) * 1e18) / base.balanceOf(address(this));
    }
}

/// @title CorpusShareVault
/// @notice Shares over a token, priced at balance / supply: a direct transfer (a donation) moves the price
/// (Hundred Finance and the empty-market exchange-rate attacks of 2023).
contract CorpusShareVault is ERC20, CorpusGuarded {
    IERC20 public immutable asset;

    constructor(address guardian_, IERC20 asset_) ERC20("Corpus Shares", "cSHR") CorpusGuarded(guardian_) {
        asset = asset_;
    }

    function deposit(uint256 assets) external whenNotPaused {
        uint256 supply = totalSupply();
        uint256 held = asset.balanceOf(address(this));
        asset.transferFrom(msg.sender, address(this), assets);
        _mint(msg.sender, supply == 0 || held == 0 ? assets : (assets * supply) / held);
    }

    function redeem(uint256 shares) external whenNotPaused {
        uint256 assets = (shares * asset.balanceOf(address(this))) / totalSupply();
        _burn(msg.sender, shares);
        asset.transfer(msg.sender, assets);
    }

    function price() external view returns (uint256) {
        uint256 supply = totalSupply();
        return supply == 0 ? 1e18 : (asset.balanceOf(address(this)) * 1e18) / supply;
    }
}

/// @title CorpusScaledPool
/// @notice Swaps an 18-decimal token 1:1 with a 2-decimal one, scaling amounts. The bug: scaling down rounds
/// up, so a swap of one wei buys a whole unit; thousands of tiny swaps in a batch drain it (Balancer V2's
/// composable stable pools, November 2025).
contract CorpusScaledPool is CorpusGuarded {
    IERC20 public immutable fine;
    IERC20 public immutable coarse;
    uint256 private constant _SCALE = 1e16;

    constructor(address guardian_, IERC20 fine_, IERC20 coarse_) CorpusGuarded(guardian_) {
        fine = fine_;
        coarse = coarse_;
    }

    function sellFine(uint256 amount) external whenNotPaused {
        fine.transferFrom(msg.sender, address(this), amount);
        coarse.transfer(msg.sender, Math.ceilDiv(amount, _SCALE));
    }

    function sellCoarse(uint256 amount) external whenNotPaused {
        coarse.transferFrom(msg.sender, address(this), amount);
        fine.transfer(msg.sender, amount * _SCALE);
    }
}

/// @title CorpusRouter
/// @notice A swap router users and treasuries approve. The bug: `route` performs any call the caller asks for,
/// as the router, so it can spend every allowance given to it (Socket, January 2024; LI.FI, July 2024).
contract CorpusRouter {
    error CorpusRouterCallFailed(bytes reason);

    function route(address target, bytes calldata data) external {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory reason) = target.call(data);
        if (!ok) revert CorpusRouterCallFailed(reason);
    }
}

/// @title CorpusDistributor
/// @notice Pays a reward to each account once. The bug: nobody is checked for entitlement, so each new account
/// takes 0.09 % of what is left (Compound's Proposal 62 over-distribution, September 2021, claimed by many
/// accounts over days).
contract CorpusDistributor is CorpusGuarded {
    IERC20 public immutable token;
    mapping(address => bool) public claimed;

    error CorpusDistributorClaimed(address account);

    constructor(address guardian_, IERC20 token_) CorpusGuarded(guardian_) {
        token = token_;
    }

    function claim() external whenNotPaused {
        if (claimed[msg.sender]) revert CorpusDistributorClaimed(msg.sender);
        claimed[msg.sender] = true;
        token.transfer(msg.sender, (token.balanceOf(address(this)) * 9) / 10_000);
    }

    /// @notice What an entitled user gets: a fixed small reward from the owner's list (benign traffic).
    function grant(address to, uint256 amount) external onlyOwner whenNotPaused {
        token.transfer(to, amount);
    }
}
