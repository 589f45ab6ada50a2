// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Vm} from "./Vm.sol";

/// @dev The base every forge test here extends: the cheatcode handle, `bound` (as forge-std's
/// StdUtils does it, so shrunk counterexamples stay readable), and the hooks forge reads to pick
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

    /// @dev Maps `x` into [min, max] by wrapping, keeping values already inside unchanged.
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (x <= 3 && size > x) return min + x;
        if (x >= type(uint256).max - 3 && size > type(uint256).max - x) return max - (type(uint256).max - x);
        if (x > max) {
            uint256 diff = x - max;
            uint256 rem = diff % size;
            return rem == 0 ? max : min + rem - 1;
        }
        uint256 diffBelow = min - x;
        uint256 remBelow = diffBelow % size;
        return remBelow == 0 ? min : max - remBelow + 1;
    }
}
