// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CorpusGuarded} from "./CorpusGuarded.sol";

/// @title CorpusBridge
/// @notice The ether side of a bridge. `release` is the validators' (one key here: Ronin and Harmony were 5 of 9
/// and 2 of 5 keys, all held by the attacker). `process` accepts a message under a confirmed root; the bug:
/// the zero root is confirmed at deployment, so any message passes and anyone can replay a copy (Nomad,
/// August 2022). `relay` executes a cross-chain call as the bridge itself, so it can call the bridge's own
/// keeper setter (Poly Network, August 2021).
contract CorpusBridge is CorpusGuarded {
    address public keeper;
    mapping(bytes32 => bool) public confirmedRoots;
    mapping(bytes32 => bool) public processed;

    error CorpusBridgeNotKeeper(address caller);
    error CorpusBridgeUnconfirmed(bytes32 root);
    error CorpusBridgeProcessed(bytes32 id);
    error CorpusBridgePayoutFailed(address to, uint256 amount);

    event KeeperChanged(address indexed previous, address indexed current);
    event Released(address indexed to, uint256 amount);
    event Locked(address indexed from, uint256 amount);

    constructor(address guardian_, address keeper_) CorpusGuarded(guardian_) {
        keeper = keeper_;
        confirmedRoots[bytes32(0)] = true;
    }

    function lock() external payable whenNotPaused {
        emit Locked(msg.sender, msg.value);
    }

    function release(address to, uint256 amount) external whenNotPaused {
        if (msg.sender != keeper) revert CorpusBridgeNotKeeper(msg.sender);
        _pay(to, amount);
    }

    function process(bytes32 root, address to, uint256 amount, uint256 nonce) external whenNotPaused {
        if (!confirmedRoots[root]) revert CorpusBridgeUnconfirmed(root);
        bytes32 id = keccak256(abi.encode(root, to, amount, nonce));
        if (processed[id]) revert CorpusBridgeProcessed(id);
        processed[id] = true;
        _pay(to, amount);
    }

    function relay(address target, bytes calldata data) external whenNotPaused {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = target.call(data);
        ok;
    }

    function setKeeper(address keeper_) external {
        if (msg.sender != address(this) && msg.sender != owner) revert CorpusBridgeNotKeeper(msg.sender);
        emit KeeperChanged(keeper, keeper_);
        keeper = keeper_;
    }

    function _pay(address to, uint256 amount) private {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert CorpusBridgePayoutFailed(to, amount);
        emit Released(to, amount);
    }
}

/// @title CorpusWrapped
/// @notice Wrapped ether with a bridge mint that checks nothing and is backed by nothing (Wormhole, February
/// 2022: 120,000 wETH minted without a deposit, then redeemed).
contract CorpusWrapped is CorpusGuarded {
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;

    error CorpusWrappedPayoutFailed(address to, uint256 amount);

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(address guardian_) CorpusGuarded(guardian_) {}

    function deposit() external payable whenNotPaused {
        balanceOf[msg.sender] += msg.value;
        totalSupply += msg.value;
        emit Transfer(address(0), msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external whenNotPaused {
        balanceOf[msg.sender] -= amount;
        totalSupply -= amount;
        emit Transfer(msg.sender, address(0), amount);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert CorpusWrappedPayoutFailed(msg.sender, amount);
    }

    function bridgeMint(address to, uint256 amount) external whenNotPaused {
        balanceOf[to] += amount;
        totalSupply += amount;
        emit Transfer(address(0), to, amount);
    }
}
