// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {CircuitBreaker} from "../CircuitBreaker.sol";

/// @title BreakerWrappedEther
/// @notice {BuggyWrappedEther}'s bug (a bridge mint without access check, backed by nothing) in a token that inherits
/// the circuit breaker. An attacker mints unbacked tokens, then redeems them for the ether that honest holders
/// deposited; a guardian watching `totalSupply() <= eth.balance(token)` trips the breaker in between. Never deploy
/// this anywhere but a local chain.
contract BreakerWrappedEther is ERC20, CircuitBreaker {
    error BreakerWrappedEtherPayoutFailed(address account, uint256 amount);

    event BridgeMinted(address indexed to, uint256 amount);

    constructor(
        address governance,
        address[] memory guardians,
        uint32 tripDuration_
    ) ERC20("Breaker Wrapped Ether", "brWETH") CircuitBreaker(governance, guardians, tripDuration_) {}

    function deposit() external payable {
        _requireOperationOpen(this.deposit.selector);
        _mint(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external {
        _requireOperationOpen(this.withdraw.selector);
        _burn(msg.sender, amount);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert BreakerWrappedEtherPayoutFailed(msg.sender, amount);
    }

    /// @dev The bug under test: meant for the bridge only, callable by anyone, and backed by nothing.
    function bridgeMint(address to, uint256 amount) external {
        _mint(to, amount);
        emit BridgeMinted(to, amount);
    }
}
