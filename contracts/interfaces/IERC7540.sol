// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IERC7575
/// @notice The part of ERC-7575 every ERC-7540 vault implements: the address of its share token.
interface IERC7575 {
    /// @notice The share token (the vault itself when shares are the vault's own ERC-20).
    /// @return shareTokenAddress The share token.
    function share() external view returns (address shareTokenAddress);
}

/// @title IERC7540Operator
/// @notice ERC-7540 operators: accounts a controller lets manage its requests and claims.
interface IERC7540Operator {
    /// @notice `controller` approved or revoked `operator`.
    /// @param controller The account granting the approval.
    /// @param operator The operator.
    /// @param approved True if approved.
    event OperatorSet(address indexed controller, address indexed operator, bool approved);

    /// @notice Approves or revokes `operator` for the caller's requests and claims.
    /// @param operator The operator.
    /// @param approved True to approve.
    /// @return success Always true.
    function setOperator(address operator, bool approved) external returns (bool success);

    /// @notice Whether `operator` may act for `controller`.
    /// @param controller The controller.
    /// @param operator The operator.
    /// @return status True if approved.
    function isOperator(address controller, address operator) external view returns (bool status);
}

/// @title IERC7540Redeem
/// @notice ERC-7540 asynchronous redemption requests.
interface IERC7540Redeem {
    /// @notice `owner` locked `shares` in a request that `controller` controls.
    /// @param controller Who controls (and later claims) the request.
    /// @param owner Whose shares were locked.
    /// @param requestId The request's id.
    /// @param sender The caller.
    /// @param shares The shares locked.
    event RedeemRequest(
        address indexed controller,
        address indexed owner,
        uint256 indexed requestId,
        address sender,
        uint256 shares
    );

    /// @notice Locks `shares` of `owner` in a redeem request controlled by `controller`.
    /// @param shares The shares to redeem.
    /// @param controller Who controls the request.
    /// @param owner Whose shares are locked.
    /// @return requestId The request's id.
    function requestRedeem(uint256 shares, address controller, address owner) external returns (uint256 requestId);

    /// @notice Shares of a request still pending (not yet claimable).
    /// @param requestId The request.
    /// @param controller Its controller.
    /// @return pendingShares The pending shares.
    function pendingRedeemRequest(uint256 requestId, address controller) external view returns (uint256 pendingShares);

    /// @notice Shares claimable by `controller`.
    /// @param requestId The request.
    /// @param controller Its controller.
    /// @return claimableShares The claimable shares.
    function claimableRedeemRequest(
        uint256 requestId,
        address controller
    ) external view returns (uint256 claimableShares);
}
