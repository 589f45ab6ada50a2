// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// ERC-20 views are lowercase constants by the standard's ABI (name, symbol, decimals).
// solhint-disable const-name-snakecase

/// @title LedgerOddTokens
/// @notice Tokens that log or describe themselves in shapes real tokens use and the standard does not
/// allow, for the ledger's tests. Each keeps plain balances so balanceOf and totalSupply stay exact.
abstract contract LedgerPlainBalances {
    mapping(address => uint256) public balanceOf;
    uint256 public totalSupply;

    function _move(address from, address to, uint256 amount) internal {
        if (from != address(0)) balanceOf[from] -= amount;
        else totalSupply += amount;
        balanceOf[to] += amount;
    }
}

/// Mints are logged as Transfer(token, to) instead of Transfer(0, to).
contract LedgerSelfMintToken is LedgerPlainBalances {
    uint8 public constant decimals = 6;
    string public constant name = "Self Mint";
    string public constant symbol = "SLF";

    event Transfer(address indexed from, address indexed to, uint256 value);

    function mint(address to, uint256 amount) external {
        _move(address(0), to, amount);
        emit Transfer(address(this), to, amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        emit Transfer(msg.sender, to, amount);
        return true;
    }
}

/// The value of Transfer is indexed: four topics and no data, the shape of an ERC-721 Transfer.
contract LedgerIndexedValueToken is LedgerPlainBalances {
    uint8 public constant decimals = 18;

    event Transfer(address indexed from, address indexed to, uint256 indexed value);

    function mint(address to, uint256 amount) external {
        _move(address(0), to, amount);
        emit Transfer(address(0), to, amount);
    }
}

/// name() and symbol() return bytes32 (as MKR and SAI do) and decimals() is an absurd 255.
contract LedgerBytes32Token is LedgerPlainBalances {
    bytes32 public constant name = "Maker";
    bytes32 public constant symbol = "MKR";
    uint8 public constant decimals = 255;

    event Transfer(address indexed from, address indexed to, uint256 value);

    function mint(address to, uint256 amount) external {
        _move(address(0), to, amount);
        emit Transfer(address(0), to, amount);
    }
}

/// name(), symbol() and decimals() all revert: nothing about the token is known but its events.
contract LedgerSilentToken is LedgerPlainBalances {
    error LedgerSilentTokenNoMetadata();

    event Transfer(address indexed from, address indexed to, uint256 value);

    function name() external pure returns (string memory) {
        revert LedgerSilentTokenNoMetadata();
    }

    function symbol() external pure returns (string memory) {
        revert LedgerSilentTokenNoMetadata();
    }

    function decimals() external pure returns (uint8) {
        revert LedgerSilentTokenNoMetadata();
    }

    function mint(address to, uint256 amount) external {
        _move(address(0), to, amount);
        emit Transfer(address(0), to, amount);
    }
}
