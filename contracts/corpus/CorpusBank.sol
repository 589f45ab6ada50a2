// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CorpusGuarded} from "./CorpusGuarded.sol";

/// @title CorpusBank
/// @notice An ether bank in three builds. `Lock.None`: pays out before booking (The DAO). `Lock.Full`: one
/// reentrancy lock over every entry point, a correct bank. `Lock.PerFunction`: a lock per function, so
/// `withdraw` re-entered through `transferBalance` goes through (the Vyper 0.2.15-0.3.0 lock bug behind
/// the July 2023 Curve pools). `sweep` has no access check (the missing-check bug of the deploy-first case).
contract CorpusBank is CorpusGuarded {
    enum Lock {
        None,
        Full,
        PerFunction
    }

    Lock public immutable lock;
    mapping(address => uint256) public balanceOf;
    uint256 private _withdrawLock;
    uint256 private _transferLock;

    error CorpusBankLocked();
    error CorpusBankPayoutFailed(address account, uint256 amount);
    error CorpusBankInsufficient(address account, uint256 balance, uint256 amount);

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    constructor(address guardian_, Lock lock_) CorpusGuarded(guardian_) {
        lock = lock_;
    }

    modifier locked(bool forWithdraw) {
        if (lock == Lock.Full || (lock == Lock.PerFunction && forWithdraw)) {
            if (_withdrawLock == 1) revert CorpusBankLocked();
            _withdrawLock = 1;
        } else if (lock == Lock.PerFunction) {
            if (_transferLock == 1) revert CorpusBankLocked();
            _transferLock = 1;
        }
        _;
        _withdrawLock = 0;
        _transferLock = 0;
    }

    function deposit() external payable whenNotPaused {
        balanceOf[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @dev The bug under test when unguarded: the external call happens before the balance is cleared.
    function withdraw() external whenNotPaused locked(true) {
        uint256 amount = balanceOf[msg.sender];
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert CorpusBankPayoutFailed(msg.sender, amount);
        balanceOf[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
    }

    function transferBalance(address to, uint256 amount) external whenNotPaused locked(false) {
        uint256 balance = balanceOf[msg.sender];
        if (balance < amount) revert CorpusBankInsufficient(msg.sender, balance, amount);
        balanceOf[msg.sender] = balance - amount;
        balanceOf[to] += amount;
    }

    /// @dev Missing access check: meant for the owner's migration, callable by anyone.
    function sweep(address to, uint256 amount) external whenNotPaused {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert CorpusBankPayoutFailed(to, amount);
    }

    function ownerWithdraw(address to, uint256 amount) external onlyOwner whenNotPaused {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert CorpusBankPayoutFailed(to, amount);
    }

    /// @dev Parity-wallet bug: an initializer anyone can call again.
    function initOwner(address newOwner) external {
        _setOwner(newOwner);
    }
}
