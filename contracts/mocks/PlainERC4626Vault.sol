// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// @notice The unprotected OpenZeppelin ERC-4626 vault: the gas bench's baseline.
contract PlainERC4626Vault is ERC4626 {
    constructor(IERC20 asset_) ERC4626(asset_) ERC20("Plain Vault", "pVLT") {}
}
