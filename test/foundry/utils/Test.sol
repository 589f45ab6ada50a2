// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm} from "./Vm.sol";
import {bound} from "./Bound.sol";

/// @dev The base every forge test here extends: the cheatcode handle, `_bound`, and the hooks forge reads to pick
/// invariant targets. forge only calls these by name, so a test contract declares them itself.
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    FuzzSelector[] private _targetedSelectors;
    address[] private _targetedSenders;

    /// @dev forge's convention for "this is a test contract".
    function IS_TEST() external pure returns (bool) {
        return true;
    }

    function targetContracts() external view returns (address[] memory) {
        return _targetedContracts;
    }

    function targetSelectors() external view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }

    function targetSenders() external view returns (address[] memory) {
        return _targetedSenders;
    }

    function _targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function _targetSelectors(address target, bytes4[] memory selectors) internal {
        _targetedSelectors.push(FuzzSelector({addr: target, selectors: selectors}));
    }

    function _targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return bound(x, min, max);
    }
}
