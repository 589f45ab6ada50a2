// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title ReportCollectible
/// @notice Test ERC-721 for the guardian's reports: the owner mints and burns ids, holders transfer them.
contract ReportCollectible is ERC721, Ownable {
    constructor(address initialOwner) ERC721("Report Collectible", "RPC") Ownable(initialOwner) {}

    function mint(address to, uint256 tokenId) external onlyOwner {
        _mint(to, tokenId);
    }

    function burn(uint256 tokenId) external onlyOwner {
        _burn(tokenId);
    }
}
