// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 whose transfers can be made to revert (a blocklist, a paused token, a broken upgrade).
contract RevertingToken is ERC20 {
    bool public transfersReverting;

    error RevertingTokenTransfersDisabled();

    constructor() ERC20("Reverting", "REV") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setTransfersReverting(bool reverting) external {
        transfersReverting = reverting;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (transfersReverting && from != address(0) && to != address(0)) revert RevertingTokenTransfersDisabled();
        super._update(from, to, value);
    }
}
