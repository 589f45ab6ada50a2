// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {CorpusGuarded} from "./CorpusGuarded.sol";

/// @title CorpusGovernor
/// @notice A treasury governed by token votes counted at the moment of the call, with an emergency path that
/// executes at once with two thirds of the supply (Beanstalk, April 2022: a flash loan bought the votes).
contract CorpusGovernor is CorpusGuarded {
    struct Proposal {
        address target;
        uint256 value;
        bytes data;
        bool executed;
    }

    IERC20 public immutable votes;
    Proposal[] public proposals;

    error CorpusGovernorTooFewVotes(uint256 held, uint256 needed);
    error CorpusGovernorCallFailed(bytes reason);

    event Proposed(uint256 indexed id, address indexed proposer, address target, uint256 value);
    event Executed(uint256 indexed id);

    constructor(address guardian_, IERC20 votes_) CorpusGuarded(guardian_) {
        votes = votes_;
    }

    function propose(address target, uint256 value, bytes calldata data) external whenNotPaused returns (uint256 id) {
        id = proposals.length;
        proposals.push(Proposal(target, value, data, false));
        emit Proposed(id, msg.sender, target, value);
    }

    function emergencyCommit(uint256 id) external whenNotPaused {
        uint256 held = votes.balanceOf(msg.sender);
        uint256 needed = (votes.totalSupply() * 2) / 3;
        if (held <= needed) revert CorpusGovernorTooFewVotes(held, needed);
        Proposal storage p = proposals[id];
        p.executed = true;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory reason) = p.target.call{value: p.value}(p.data);
        if (!ok) revert CorpusGovernorCallFailed(reason);
        emit Executed(id);
    }

    receive() external payable {}
}

/// @title CorpusProxy
/// @notice An ERC-1967 proxy with the breaker at the proxy, so a trip holds even against a malicious
/// implementation. The admin key upgrades at will (PAID Network, March 2021; Ankr, December 2022).
contract CorpusProxy is CorpusGuarded {
    bytes32 private constant _IMPLEMENTATION_SLOT = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;

    event Upgraded(address indexed implementation);

    constructor(address guardian_, address implementation) CorpusGuarded(guardian_) {
        _setImplementation(implementation);
    }

    function upgradeTo(address implementation) external onlyOwner {
        _setImplementation(implementation);
    }

    function _setImplementation(address implementation) private {
        // solhint-disable-next-line no-inline-assembly
        assembly {
            sstore(_IMPLEMENTATION_SLOT, implementation)
        }
        emit Upgraded(implementation);
    }

    fallback() external payable whenNotPaused {
        // solhint-disable-next-line no-inline-assembly
        assembly {
            let impl := sload(_IMPLEMENTATION_SLOT)
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), impl, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 {
                revert(0, returndatasize())
            }
            default {
                return(0, returndatasize())
            }
        }
    }

    receive() external payable {}
}

/// @title CorpusVaultLogic
/// @notice The honest implementation behind CorpusProxy: an ether vault. Its first three slots mirror the
/// proxy's CorpusGuarded layout.
contract CorpusVaultLogic {
    address private _guardian;
    address private _owner;
    bool private _paused;
    mapping(address => uint256) public balanceOf;

    error CorpusVaultPayoutFailed(address to, uint256 amount);

    function deposit() external payable {
        balanceOf[msg.sender] += msg.value;
    }

    function withdraw(uint256 amount) external {
        balanceOf[msg.sender] -= amount;
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert CorpusVaultPayoutFailed(msg.sender, amount);
    }
}

/// @title CorpusDrainLogic
/// @notice The attacker's implementation: anyone may take anything.
contract CorpusDrainLogic {
    function take(address to, uint256 amount) external {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = to.call{value: amount}("");
        ok;
    }
}
