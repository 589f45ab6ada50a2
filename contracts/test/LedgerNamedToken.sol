// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title LedgerNamedToken
/// @notice An ERC-20 whose deployer picks any name and symbol, markup included: the ledger's page must
/// show such text as text. Anyone may mint; test chains only.
contract LedgerNamedToken is ERC20 {
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
