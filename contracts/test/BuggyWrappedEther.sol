// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BuggyWrappedEther
/// @notice A WETH-like token whose bridge mint forgot its access check, so anyone can mint tokens that no
/// ether backs. Test target for the guardian's invariant `weth.totalSupply() <= eth.balance(weth)`.
contract BuggyWrappedEther is ERC20 {
    error BuggyWrappedEtherPayoutFailed(address account, uint256 amount);

    event BridgeMinted(address indexed to, uint256 amount);

    constructor() ERC20("Buggy Wrapped Ether", "bWETH") {}

    function deposit() external payable {
        _mint(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external {
        _burn(msg.sender, amount);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert BuggyWrappedEtherPayoutFailed(msg.sender, amount);
    }

    /// @dev The bug under test: meant for the bridge only, callable by anyone, and backed by nothing.
    function bridgeMint(address to, uint256 amount) external {
        _mint(to, amount);
        emit BridgeMinted(to, amount);
    }
}
