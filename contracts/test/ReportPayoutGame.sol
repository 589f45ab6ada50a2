// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Amounts are read from event data; indexing them would only cost gas.
// solhint-disable gas-indexed-events

/// @title ReportPayoutGame
/// @notice Test target for the flows report: a "game" that takes ether stakes and pays every other play
/// back double, through an internal call the reports must find in the call trace. Deterministic on
/// purpose; never deploy this anywhere but a local test chain.
contract ReportPayoutGame {
    uint256 private _plays;

    error ReportPayoutGamePayoutFailed(address player, uint256 amount);

    event Played(address indexed player, uint256 stake, uint256 payout);

    receive() external payable {}

    function play() external payable {
        uint256 payout = _plays % 2 == 1 ? msg.value * 2 : 0;
        ++_plays;
        emit Played(msg.sender, msg.value, payout);
        if (payout > 0) {
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, ) = msg.sender.call{value: payout}("");
            if (!ok) revert ReportPayoutGamePayoutFailed(msg.sender, payout);
        }
    }

    function plays() external view returns (uint256) {
        return _plays;
    }
}
