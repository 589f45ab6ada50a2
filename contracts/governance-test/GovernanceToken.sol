// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title GovernanceToken
/// @notice Test only: a DAO's voting token as OpenZeppelin's wizard writes it (ERC20Votes, block-number clock),
/// so the governance tests vote with the same checkpoints a real DAO's Governor reads.
contract GovernanceToken is ERC20, ERC20Permit, ERC20Votes {
    constructor(address[] memory holders, uint256 each) ERC20("Failsafe DAO", "FSDAO") ERC20Permit("Failsafe DAO") {
        for (uint256 i = 0; i < holders.length; ++i) {
            _mint(holders[i], each);
        }
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
