// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OutflowFloor} from "../../contracts/utils/OutflowFloor.sol";
import {Test} from "./utils/Test.sol";

/// @dev The floor's 64-bit float: it must never round down (that would loosen the limit) and never round up by more
/// than one part in 2^57.
contract CircuitBreakerFloorTest is Test {
    function testFuzz_floor_encodingRoundsUpTightly(uint256 x) public pure {
        _checkEncoding(_bound(x, 0, (uint256(1) << 113) - 1));
    }

    function test_floor_encodingRoundsUpTightly() public pure {
        _checkEncoding(0);
        _checkEncoding((uint256(1) << 58) - 1); // the largest exact mantissa
        _checkEncoding(uint256(1) << 58);
        _checkEncoding((uint256(1) << 58) + 1); // rounds up by one step
        _checkEncoding((uint256(1) << 59) - 1); // the rounded mantissa overflows: the exponent moves up
        _checkEncoding(900e18); // round amounts are exact
        _checkEncoding((uint256(1) << 113) - 1);
        vm.assertEq(_decoded(900e18), 900e18, "900e18 is stored exactly");
        vm.assertEq(_decoded((uint256(1) << 59) - 1), uint256(1) << 59, "mantissa overflow rounds to the next power");
    }

    function _checkEncoding(uint256 x) internal pure {
        uint256 stored = _decoded(x);
        vm.assertGe(stored, x, "the floor never rounds down");
        vm.assertLe(stored - x, x >> 57, "the floor rounds up by less than one part in 2^57");
    }

    function _decoded(uint256 x) internal pure returns (uint256) {
        return OutflowFloor.floor(OutflowFloor.withFloor(0, x));
    }
}
