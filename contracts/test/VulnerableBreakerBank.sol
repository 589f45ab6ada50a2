// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CircuitBreaker} from "../CircuitBreaker.sol";

/// @title VulnerableBreakerBank
/// @notice An ether bank that inherits the circuit breaker but has the reentrancy bug of {VulnerableBank}: it pays
/// out before it books the withdrawal, and has no reentrancy guard. Its deposit/withdraw/balanceOf match
/// VulnerableBank's, so ReentrancyAttacker drains it too. The end-to-end scenarios show that a guardian's trip stops
/// the attacker's later transactions even though the bug itself stays. Never deploy this anywhere but a local chain.
contract VulnerableBreakerBank is CircuitBreaker {
    mapping(address => uint256) private _balances;

    error VulnerableBreakerBankNothingToWithdraw(address account);
    error VulnerableBreakerBankPayoutFailed(address account, uint256 amount);

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    constructor(
        address governance,
        address[] memory guardians,
        uint32 tripDuration_
    ) CircuitBreaker(governance, guardians, tripDuration_) {}

    function deposit() external payable {
        _requireOperationOpen(this.deposit.selector);
        _balances[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    function withdraw() external {
        _requireOperationOpen(this.withdraw.selector);
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert VulnerableBreakerBankNothingToWithdraw(msg.sender);
        // The bug under test: the external call happens before the balance is cleared.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert VulnerableBreakerBankPayoutFailed(msg.sender, amount);
        _balances[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
    }

    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }
}
