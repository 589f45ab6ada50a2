// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title OutflowFloor
/// @notice The split-proof outflow limit of one asset, packed in one storage word: the tracked holdings H, a decaying
/// floor F in asset units, and the limit's configuration (L = bps / 10,000 of holdings per window W).
/// @dev The limit is a check on H itself, not on shares of each call, so splitting a flow into many calls cannot help:
///
/// - On the first flow at a new block timestamp, with H the holdings at the start of that timestamp and c = d = L/2:
///   F = max(ceil(H * (1 - c)), F - floor(F * d * elapsed / W)) (and never below 0).
/// - An instant outflow of `a` is allowed iff H - a >= F; what is available now is max(H - F, 0).
/// - An inflow only raises H; F does not move within the timestamp. So within one timestamp inflows and outflows
///   net out exactly: a flash-loaned deposit withdrawn in the same block, or a sandwich, is neutral.
///
/// Why it holds over every interval [s, t] with t - s <= W (out and in counted in asset units, instant outflows only):
/// at the first flow at or after s, F >= (1 - c) H(s) (H did not change between s and that flow). Each later refresh
/// multiplies F by at least (1 - d Δ/W); the Δ add up to at most W, so F >= (1 - c)(1 - d) H(s) >= (1 - L) H(s) up
/// to t. Every allowed outflow leaves H >= F, and inflows only raise H, so H(t) >= (1 - L) H(s), that is
/// out - in = H(s) - H(t) <= L H(s). The burst (at most c H at once) plus the decay (at most d per window) is L.
/// Rounding: the floor is rounded up everywhere (ceil base, floor-rounded decay, a float rounded up), which only
/// makes the check stricter.
///
/// Word layout (least significant bit first):
///   [0, 112)   holdings   what flowed in minus what flowed out, in asset units (so `word - a` books an outflow)
///   [112, 176) floor      F, a float: 58-bit mantissa, 6-bit exponent (F = m << e), rounded up
///   [176, 208) updatedAt  the timestamp of the last refresh (uint32: wraps in 2106, the arithmetic is modular)
///   [208, 224) bps        L in basis points; 0 = no limit (then window and action are 0 too)
///   [224, 248) window     W, seconds
///   [248, 256) action     what an over-limit outflow does (ICircuitBreaker.OutflowAction)
library OutflowFloor {
    uint256 internal constant HOLDINGS_MASK = type(uint112).max;
    uint256 internal constant BPS = 10_000;

    // Literals, not expressions: the compiler evaluates a constant expression such as `(1 << 58) - 1` at each use, with
    // checked arithmetic (about 70 gas each on the hot path at the vault's optimizer settings).
    uint256 private constant _HALF_BPS_DENOMINATOR = 20_000; // 2 * BPS
    uint256 private constant _FLOOR_SHIFT = 112;
    uint256 private constant _FLOOR_MASK = type(uint64).max;
    uint256 private constant _MANTISSA_BITS = 58;
    uint256 private constant _MANTISSA_MASK = 0x3ffffffffffffff; // 2^58 - 1
    uint256 private constant _UPDATED_SHIFT = 176;
    uint256 private constant _UPDATED_MASK = type(uint32).max;
    uint256 private constant _BPS_SHIFT = 208;
    uint256 private constant _BPS_MASK = type(uint16).max;
    uint256 private constant _WINDOW_SHIFT = 224;
    uint256 private constant _WINDOW_MASK = type(uint24).max;
    uint256 private constant _ACTION_SHIFT = 248;
    /// @dev Everything but the floor and updatedAt bits.
    uint256 private constant _NOT_REFRESH_BITS = ~((_FLOOR_MASK << _FLOOR_SHIFT) | (_UPDATED_MASK << _UPDATED_SHIFT));

    function holdings(uint256 word) internal pure returns (uint256) {
        return word & HOLDINGS_MASK;
    }

    /// @dev True if the word carries a limit (bps != 0; the canonical "no limit" word has no configuration bits).
    function isLimited(uint256 word) internal pure returns (bool) {
        return word >> _BPS_SHIFT != 0;
    }

    function bps(uint256 word) internal pure returns (uint16) {
        return uint16((word >> _BPS_SHIFT) & _BPS_MASK);
    }

    function window(uint256 word) internal pure returns (uint32) {
        return uint32((word >> _WINDOW_SHIFT) & _WINDOW_MASK);
    }

    function action(uint256 word) internal pure returns (uint8) {
        return uint8(word >> _ACTION_SHIFT);
    }

    /// @dev The floor stored in the word (not refreshed).
    function floor(uint256 word) internal pure returns (uint256) {
        uint256 bits = (word >> _FLOOR_SHIFT) & _FLOOR_MASK;
        return (bits & _MANTISSA_MASK) << (bits >> _MANTISSA_BITS);
    }

    /// @dev The word as it is at the current timestamp: unchanged if it was refreshed at this timestamp already (so
    /// flows within one timestamp net out), otherwise with the floor decayed since the last refresh and raised to
    /// (1 - c) of the holdings at the start of this timestamp. O(1) whatever the idle time.
    function refresh(uint256 word) internal view returns (uint256 refreshed) {
        (refreshed, ) = refreshWithFloor(word);
    }

    /// @dev {refresh}, also returning the floor it holds (saves decoding it again on the hot path).
    function refreshWithFloor(uint256 word) internal view returns (uint256, uint256) {
        uint256 updatedAt = (word >> _UPDATED_SHIFT) & _UPDATED_MASK;
        uint256 nowBits = block.timestamp & _UPDATED_MASK;
        uint256 f = floor(word);
        if (updatedAt == nowBits) return (word, f);
        uint256 b = (word >> _BPS_SHIFT) & _BPS_MASK;
        unchecked {
            // Modular uint32 arithmetic is right across 2106. f < 2^114, b < 2^14 and elapsed < 2^32: no overflow.
            // Rounded down, so F never decreases faster than d per window.
            uint256 elapsed = (nowBits - updatedAt) & _UPDATED_MASK;
            uint256 decrease = (f * b * elapsed) / (_HALF_BPS_DENOMINATOR * ((word >> _WINDOW_SHIFT) & _WINDOW_MASK));
            f = decrease >= f ? 0 : f - decrease;
            // ceil(H (1 - c)) with c = b / 20,000: H < 2^112, so no overflow.
            uint256 base = ((word & HOLDINGS_MASK) * (_HALF_BPS_DENOMINATOR - b) + _HALF_BPS_DENOMINATOR - 1) /
                _HALF_BPS_DENOMINATOR;
            if (base > f) f = base;
        }
        uint256 bits = encodeFloor(f);
        // The floor as stored (rounded up), so the caller checks against exactly what later calls will read.
        return (
            (word & _NOT_REFRESH_BITS) | (bits << _FLOOR_SHIFT) | (nowBits << _UPDATED_SHIFT),
            (bits & _MANTISSA_MASK) << (bits >> _MANTISSA_BITS)
        );
    }

    /// @dev What may flow out now without breaking the limit (all holdings when unlimited).
    function available(uint256 word) internal view returns (uint256) {
        uint256 h = word & HOLDINGS_MASK;
        if (!isLimited(word)) return h;
        uint256 f = floor(refresh(word));
        unchecked {
            return h > f ? h - f : 0;
        }
    }

    /// @dev Replaces the floor (the caller refreshed the word at this timestamp).
    function withFloor(uint256 word, uint256 f) internal pure returns (uint256) {
        return (word & ~(_FLOOR_MASK << _FLOOR_SHIFT)) | (encodeFloor(f) << _FLOOR_SHIFT);
    }

    /// @dev A word with the given holdings and configuration, refreshed now: the floor is the largest of the current
    /// (decayed) floor and (1 - c_new) of the holdings, so a new limit never refunds usage and a tighter one applies at
    /// once. A word without a limit keeps only the holdings.
    function configure(uint256 word, uint16 bps_, uint32 window_, uint8 action_) internal view returns (uint256) {
        uint256 h = word & HOLDINGS_MASK;
        if (bps_ == 0) return h;
        uint256 current = isLimited(word) ? floor(refresh(word)) : 0;
        uint256 base;
        unchecked {
            base = (h * (_HALF_BPS_DENOMINATOR - bps_) + _HALF_BPS_DENOMINATOR - 1) / _HALF_BPS_DENOMINATOR;
        }
        return
            h |
            (encodeFloor(current > base ? current : base) << _FLOOR_SHIFT) |
            ((block.timestamp & _UPDATED_MASK) << _UPDATED_SHIFT) |
            (uint256(bps_) << _BPS_SHIFT) |
            (uint256(window_) << _WINDOW_SHIFT) |
            (uint256(action_) << _ACTION_SHIFT);
    }

    /// @dev Encodes `x` as a 64-bit float, rounding UP (a larger floor is the conservative error). Exact below 2^58,
    /// and for any multiple of 10^18 whose odd part fits in 58 bits; otherwise off by less than x / 2^57. Branchless
    /// assembly: OpenZeppelin's Math.log2 and checked steps cost about 600 gas more here, on every flow's hot path.
    function encodeFloor(uint256 x) internal pure returns (uint256 bits) {
        if (x <= _MANTISSA_MASK) return x;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // r = floor(log2(x)) by binary search, then e = r - 57 so that x >> e has exactly 58 bits.
            let r := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
            r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, x))))
            r := or(r, shl(5, lt(0xffffffff, shr(r, x))))
            r := or(r, shl(4, lt(0xffff, shr(r, x))))
            r := or(r, shl(3, lt(0xff, shr(r, x))))
            r := or(r, shl(2, lt(0xf, shr(r, x))))
            r := or(r, shl(1, lt(0x3, shr(r, x))))
            r := or(r, lt(0x1, shr(r, x)))
            let e := sub(r, 57)
            // Round up when any dropped bit is set; a mantissa that reaches 2^58 becomes 2^57 with the next exponent.
            let m := add(shr(e, x), iszero(iszero(and(x, sub(shl(e, 1), 1)))))
            let carry := shr(58, m)
            bits := or(shl(58, add(e, carry)), shr(carry, m))
        }
    }
}
