// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// ERC-20 views are lowercase constants by the standard's ABI (name, symbol, decimals).
// solhint-disable const-name-snakecase

/// @title LedgerWrappedEther
/// @notice WETH9's shape for the ledger's tests: deposit and withdraw log Deposit/Withdrawal and no
/// Transfer, and the supply is the contract's ether. Only the behaviour the ledger decodes is kept.
contract LedgerWrappedEther {
    string public constant name = "Wrapped Ether";
    string public constant symbol = "WETH";
    uint8 public constant decimals = 18;

    mapping(address => uint256) public balanceOf;

    error LedgerWrappedEtherInsufficient(address holder, uint256 balance, uint256 wanted);
    error LedgerWrappedEtherSendFailed(address to, uint256 amount);

    event Transfer(address indexed src, address indexed dst, uint256 wad);
    event Deposit(address indexed dst, uint256 wad);
    event Withdrawal(address indexed src, uint256 wad);

    receive() external payable {
        deposit();
    }

    function deposit() public payable {
        balanceOf[msg.sender] += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    function withdraw(uint256 wad) external {
        uint256 held = balanceOf[msg.sender];
        if (held < wad) revert LedgerWrappedEtherInsufficient(msg.sender, held, wad);
        balanceOf[msg.sender] = held - wad;
        emit Withdrawal(msg.sender, wad);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: wad}("");
        if (!ok) revert LedgerWrappedEtherSendFailed(msg.sender, wad);
    }

    function totalSupply() external view returns (uint256) {
        return address(this).balance;
    }

    function transfer(address dst, uint256 wad) external returns (bool) {
        uint256 held = balanceOf[msg.sender];
        if (held < wad) revert LedgerWrappedEtherInsufficient(msg.sender, held, wad);
        balanceOf[msg.sender] = held - wad;
        balanceOf[dst] += wad;
        emit Transfer(msg.sender, dst, wad);
        return true;
    }
}
