// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SpamTarget
/// @notice What a spammer calls to fill a block cheaply: `fail` always reverts, `ping` does almost nothing. Neither
/// touches a protected contract; they only cost the guardian a trace each. Lab contract for local chains.
contract SpamTarget {
    error SpamTargetNope(uint256 n);

    function fail(uint256 n) external pure {
        revert SpamTargetNope(n);
    }

    /// @notice Succeeds and does nothing: a call at the floor of what a transaction costs.
    function ping() external {}
}
