// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title LedgerDiceGame
/// @notice A dice game for the ledger's payout audit (Gambler Watch). Each round wins with
/// `winChanceBps` and pays `multiplierBps` of the stake, so its real return to player is their product;
/// `advertisedRtpBps` is what it claims. Rolls come from a counter hashed with a fixed seed so that a
/// test sees the same outcomes on every run. Never deploy this anywhere but a local test chain.
contract LedgerDiceGame {
    address public immutable owner;
    uint256 public immutable winChanceBps;
    uint256 public immutable multiplierBps;
    uint256 public immutable advertisedRtpBps;
    bytes32 private immutable _seed;
    uint256 public nextBet;

    error LedgerDiceGameNotOwner(address caller);
    error LedgerDiceGameBadStake(uint256 value, uint256 rounds);
    error LedgerDiceGameSendFailed(address to, uint256 amount);

    event BetPlaced(uint256 indexed betId, address indexed player, uint256 stake);
    event BetPaid(uint256 indexed betId, address indexed player, uint256 payout);
    event BankrollWithdrawn(address indexed to, uint256 amount);

    constructor(uint256 winChanceBps_, uint256 multiplierBps_, uint256 advertisedRtpBps_, bytes32 seed) {
        owner = msg.sender;
        winChanceBps = winChanceBps_;
        multiplierBps = multiplierBps_;
        advertisedRtpBps = advertisedRtpBps_;
        _seed = seed;
    }

    /// Bankroll funding: plain ether sent to the game.
    receive() external payable {}

    /// `rounds` bets of equal stake in one transaction; winnings are sent back in one payment.
    function play(uint256 rounds) external payable {
        if (rounds == 0 || msg.value % rounds != 0) revert LedgerDiceGameBadStake(msg.value, rounds);
        uint256 stake = msg.value / rounds;
        uint256 won;
        for (uint256 i = 0; i < rounds; ++i) {
            uint256 betId = nextBet;
            ++nextBet;
            emit BetPlaced(betId, msg.sender, stake);
            if (uint256(keccak256(abi.encode(_seed, betId))) % 10_000 < winChanceBps) {
                uint256 payout = (stake * multiplierBps) / 10_000;
                won += payout;
                emit BetPaid(betId, msg.sender, payout);
            }
        }
        if (won > 0) {
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, ) = msg.sender.call{value: won}("");
            if (!ok) revert LedgerDiceGameSendFailed(msg.sender, won);
        }
    }

    function withdrawBankroll(uint256 amount) external {
        if (msg.sender != owner) revert LedgerDiceGameNotOwner(msg.sender);
        emit BankrollWithdrawn(msg.sender, amount);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert LedgerDiceGameSendFailed(msg.sender, amount);
    }
}
