// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice An stETH-style rebasing token: balances are shares of a pooled amount that `rebase` moves up or down, and
/// transfers move shares rounded down, so a receiver can get a wei less than was sent.
contract RebasingToken {
    // ERC-20 names these getters in lower case.
    // solhint-disable const-name-snakecase
    string public constant name = "Rebasing";
    string public constant symbol = "RBT";
    uint8 public constant decimals = 18;
    // solhint-enable const-name-snakecase

    uint256 public totalSupply;
    uint256 public totalShares;
    mapping(address account => uint256) public sharesOf;
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error RebasingTokenInsufficient(uint256 available, uint256 needed);

    function balanceOf(address account) public view returns (uint256) {
        return totalShares == 0 ? 0 : (sharesOf[account] * totalSupply) / totalShares;
    }

    function mint(address to, uint256 amount) external {
        uint256 shares = totalShares == 0 ? amount : (amount * totalShares) / totalSupply;
        sharesOf[to] += shares;
        totalShares += shares;
        totalSupply += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @dev Scales every balance by (10,000 + bps) / 10,000: a negative bps is a slashing or a loss.
    function rebase(int256 bps) external {
        totalSupply = (totalSupply * uint256(10_000 + bps)) / 10_000;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < amount) revert RebasingTokenInsufficient(allowed, amount);
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) private {
        uint256 balance = balanceOf(from);
        if (balance < amount) revert RebasingTokenInsufficient(balance, amount);
        uint256 shares = (amount * totalShares) / totalSupply;
        sharesOf[from] -= shares;
        sharesOf[to] += shares;
        emit Transfer(from, to, amount);
    }
}
