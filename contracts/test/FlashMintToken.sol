// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20FlashMint} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20FlashMint.sol";

/// @title FlashMintToken
/// @notice An ERC-3156 lender (OpenZeppelin's ERC20FlashMint) with an open faucet, so guardian tests can
/// fund the other test lenders with it. Local test chains only.
contract FlashMintToken is ERC20, ERC20FlashMint {
    constructor() ERC20("Flash Mint Token", "FMT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
