// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title CorpusGuarded
/// @notice The pause switch and owner every attack-corpus contract shares: the guardian's trip is `pause()`, and
/// `transferOwnership` emits OpenZeppelin's OwnershipTransferred so privileged changes are visible. Corpus
/// contracts re-enact real exploits on a local chain; never deploy them anywhere else.
abstract contract CorpusGuarded {
    address public guardian;
    address public owner;
    bool public paused;

    error CorpusPaused();
    error CorpusNotGuardian(address caller);
    error CorpusNotOwner(address caller);

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event Paused(address indexed by);

    constructor(address guardian_) {
        guardian = guardian_;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier whenNotPaused() {
        if (paused) revert CorpusPaused();
        _;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert CorpusNotOwner(msg.sender);
        _;
    }

    function pause() external {
        if (msg.sender != guardian) revert CorpusNotGuardian(msg.sender);
        paused = true;
        emit Paused(msg.sender);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        _setOwner(newOwner);
    }

    function _setOwner(address newOwner) internal {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }
}
