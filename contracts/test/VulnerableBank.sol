// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title VulnerableBank
/// @notice Test target for the guardian's reentrancy detector: it pays out before it books the withdrawal,
/// the classic bug behind The DAO. Never deploy this anywhere but a local test chain.
contract VulnerableBank {
    mapping(address => uint256) private _balances;

    error VulnerableBankNothingToWithdraw(address account);
    error VulnerableBankPayoutFailed(address account, uint256 amount);

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    function deposit() external payable {
        _balances[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    function withdraw() external {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert VulnerableBankNothingToWithdraw(msg.sender);
        // The bug under test: the external call happens before the balance is cleared.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert VulnerableBankPayoutFailed(msg.sender, amount);
        _balances[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
    }

    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }
}
