// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev Maps `x` into [min, max] as forge-std's StdUtils does: values already inside stay unchanged (so pinned
/// inputs and shrunk counterexamples stay readable) and the rest wrap around.
function bound(uint256 x, uint256 min, uint256 max) pure returns (uint256) {
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
