// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A USDT-style token whose transfer, transferFrom and approve return nothing, so callers that decode a bool
/// revert; SafeERC20 handles it.
contract NoReturnToken {
    // ERC-20 names these getters in lower case.
    // solhint-disable const-name-snakecase
    string public constant name = "No Return";
    string public constant symbol = "NRT";
    uint8 public constant decimals = 6;
    // solhint-enable const-name-snakecase

    uint256 public totalSupply;
    mapping(address account => uint256) public balanceOf;
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error NoReturnTokenInsufficient(uint256 available, uint256 needed);

    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) external {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < amount) revert NoReturnTokenInsufficient(allowed, amount);
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
    }

    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
    }

    function _move(address from, address to, uint256 amount) private {
        uint256 balance = balanceOf[from];
        if (balance < amount) revert NoReturnTokenInsufficient(balance, amount);
        balanceOf[from] = balance - amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}
