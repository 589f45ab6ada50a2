// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Burns a fee (in basis points) from every transfer, so the receiver gets less than was sent; or, with
/// `senderPays`, burns it on top from the sender, so the sender loses more than it sent.
contract FeeOnTransferToken is ERC20 {
    uint256 public feeBps;
    bool public senderPays;

    constructor(uint256 feeBps_) ERC20("Fee On Transfer", "FOT") {
        feeBps = feeBps_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @dev Real fee tokens (USDT among them) can switch their fee on after a vault accepted them.
    function setFeeBps(uint256 feeBps_) external {
        feeBps = feeBps_;
    }

    function setSenderPays(bool senderPays_) external {
        senderPays = senderPays_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, senderPays ? value : value - fee);
    }
}
