// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CorpusGuarded} from "./CorpusGuarded.sol";

/// @title CorpusSharedLedger
/// @notice Credit shared by two markets (Rari Fuse, April 2022: markets sharing one comptroller's books).
/// Each market has its own reentrancy lock, so neither can see the other is mid-call.
contract CorpusSharedLedger {
    mapping(address => uint256) public creditOf;
    mapping(address => bool) public isMarket;

    error CorpusLedgerNotMarket(address caller);

    constructor(address[] memory markets) {
        for (uint256 i = 0; i < markets.length; ++i) isMarket[markets[i]] = true;
    }

    function setCredit(address account, uint256 amount) external {
        if (!isMarket[msg.sender]) revert CorpusLedgerNotMarket(msg.sender);
        creditOf[account] = amount;
    }
}

/// @title CorpusCreditMarket
/// @notice `withdraw` pays out, then writes back the credit it read before the call (Rari's exitMarket /
/// borrow ordering); `moveCredit` moves credit between accounts. Both are locked, each on its own.
contract CorpusCreditMarket is CorpusGuarded {
    CorpusSharedLedger public ledger;
    uint256 private _lock;

    error CorpusMarketLocked();
    error CorpusMarketInsufficient(address account, uint256 credit, uint256 amount);
    error CorpusMarketPayoutFailed(address to, uint256 amount);

    constructor(address guardian_) CorpusGuarded(guardian_) {}

    modifier nonReentrant() {
        if (_lock == 1) revert CorpusMarketLocked();
        _lock = 1;
        _;
        _lock = 0;
    }

    function setLedger(CorpusSharedLedger ledger_) external onlyOwner {
        ledger = ledger_;
    }

    function deposit() external payable whenNotPaused nonReentrant {
        ledger.setCredit(msg.sender, ledger.creditOf(msg.sender) + msg.value);
    }

    function withdraw(uint256 amount) external whenNotPaused nonReentrant {
        uint256 credit = ledger.creditOf(msg.sender);
        if (credit < amount) revert CorpusMarketInsufficient(msg.sender, credit, amount);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert CorpusMarketPayoutFailed(msg.sender, amount);
        ledger.setCredit(msg.sender, credit - amount);
    }

    function moveCredit(address to, uint256 amount) external whenNotPaused nonReentrant {
        uint256 credit = ledger.creditOf(msg.sender);
        if (credit < amount) revert CorpusMarketInsufficient(msg.sender, credit, amount);
        ledger.setCredit(msg.sender, credit - amount);
        ledger.setCredit(to, ledger.creditOf(to) + amount);
    }

    receive() external payable {}
}
