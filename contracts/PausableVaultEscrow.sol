// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title PausableVaultEscrow
/// @notice Holds the assets of fulfilled (claimable) redeem requests of one {PausableVault}, apart from the assets
/// behind its shares, and pays them only on the vault's instruction.
/// @dev Keeping claimable assets out of the vault's balance means the vault's hot paths compare its balance with its
/// books alone (no second counter to read), and a loss of the vault's balance never touches what was already
/// fulfilled, nor the other way round.
contract PausableVaultEscrow {
    using SafeERC20 for IERC20;

    /// @notice The vault that deployed this escrow and alone can move its funds.
    address public immutable vault;
    /// @notice The asset held.
    IERC20 public immutable asset;

    /// @notice Only the vault can move the escrow's funds.
    /// @param caller The rejected caller.
    error PausableVaultEscrowUnauthorized(address caller);

    /// @param asset_ The vault's asset.
    constructor(IERC20 asset_) {
        vault = msg.sender;
        asset = asset_;
    }

    /// @notice Pays `amount` of the asset to `to`. Only the vault.
    /// @param to The receiver.
    /// @param amount The amount.
    function pay(address to, uint256 amount) external {
        if (msg.sender != vault) revert PausableVaultEscrowUnauthorized(msg.sender);
        asset.safeTransfer(to, amount);
    }
}
