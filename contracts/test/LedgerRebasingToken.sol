// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// ERC-20 views are lowercase constants by the standard's ABI (name, symbol, decimals).
// solhint-disable const-name-snakecase

/// @title LedgerRebasingToken
/// @notice A share-based token for the ledger's tests: balances are shares times a multiplier the owner
/// changes (a rebase), which moves every balance without a single Transfer event. Amounts moved must be
/// whole multiples of the multiplier so that every balance stays exact.
contract LedgerRebasingToken {
    string public constant name = "Rebasing Token";
    string public constant symbol = "RBT";
    uint8 public constant decimals = 18;

    address public immutable owner;
    uint256 public multiplier = 1;
    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;

    error LedgerRebasingTokenNotOwner(address caller);
    error LedgerRebasingTokenInexact(uint256 amount, uint256 multiplier);

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Rebased(uint256 multiplier);

    constructor() {
        owner = msg.sender;
    }

    function balanceOf(address holder) external view returns (uint256) {
        return sharesOf[holder] * multiplier;
    }

    function totalSupply() external view returns (uint256) {
        return totalShares * multiplier;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != owner) revert LedgerRebasingTokenNotOwner(msg.sender);
        uint256 shares = _shares(amount);
        totalShares += shares;
        sharesOf[to] += shares;
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        uint256 shares = _shares(amount);
        sharesOf[msg.sender] -= shares;
        sharesOf[to] += shares;
        emit Transfer(msg.sender, to, amount);
        return true;
    }

    function rebase(uint256 newMultiplier) external {
        if (msg.sender != owner) revert LedgerRebasingTokenNotOwner(msg.sender);
        multiplier = newMultiplier;
        emit Rebased(newMultiplier);
    }

    function _shares(uint256 amount) private view returns (uint256) {
        if (amount % multiplier != 0) revert LedgerRebasingTokenInexact(amount, multiplier);
        return amount / multiplier;
    }
}
