// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title ReportToken
/// @notice Test token for the guardian's reports: an OpenZeppelin ERC-20 whose owner mints and burns, so a
/// test can move the supply as well as the balances.
contract ReportToken is ERC20, Ownable {
    constructor(address initialOwner) ERC20("Report Token", "RPT") Ownable(initialOwner) {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    function burn(address from, uint256 amount) external onlyOwner {
        _burn(from, amount);
    }
}
