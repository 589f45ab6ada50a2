// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ICircuitBreaker} from "./ICircuitBreaker.sol";

/// @title IPausableVault
/// @notice An ERC-4626 vault whose deposits and withdrawals go through a circuit breaker, which checks after every
/// state-changing call that the assets it holds cover what it owes, defers over-limit withdrawals as claims, and lets
/// only governance sweep funds, only to a recovery address fixed at construction.
interface IPausableVault is IERC4626, ICircuitBreaker {
    /// @notice Deployment settings (a struct keeps the constructor readable and deploy parameter files flat).
    /// @param governance The timelock: receives DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE.
    /// @param recovery The only address funds can ever be swept to (immutable).
    /// @param guardians The initial guardians.
    /// @param tripDuration Seconds a trip lasts unless ratified or lifted.
    /// @param outflowBps Share of holdings that may leave per window, in basis points (0 disables the limit).
    /// @param outflowWindow The rolling window, in seconds.
    /// @param outflowAction What an over-limit withdrawal does (Revert, Trip or Delay).
    /// @param claimDelay Seconds before a deferred withdrawal (claim) can settle.
    struct Settings {
        address governance;
        address recovery;
        address[] guardians;
        uint32 tripDuration;
        uint16 outflowBps;
        uint32 outflowWindow;
        ICircuitBreaker.OutflowAction outflowAction;
        uint32 claimDelay;
    }

    /// @notice A deferred withdrawal: the owner's shares are held in escrow by the vault until settlement.
    /// @param owner The account whose shares are escrowed (gets them back if governance cancels).
    /// @param readyAt When the claim can settle.
    /// @param receiver Who receives the assets on settlement (the recovery address after a redirect).
    /// @param shares The escrowed shares.
    /// @param assets The assets requested; settlement pays at most this (less if the shares are worth less then).
    struct Claim {
        address owner;
        uint64 readyAt;
        address receiver;
        uint128 shares;
        uint128 assets;
    }

    // ------------------------------------------------------------------ events

    /// @notice A withdrawal over the outflow limit was deferred as a claim.
    /// @param claimId The claim's id.
    /// @param owner The owner whose shares are escrowed.
    /// @param receiver Who receives the assets on settlement.
    /// @param assets The assets requested.
    /// @param shares The shares escrowed.
    /// @param readyAt When it can settle.
    event ClaimQueued(
        uint256 indexed claimId,
        address indexed owner,
        address indexed receiver,
        uint256 assets,
        uint256 shares,
        uint64 readyAt
    );

    /// @notice A claim settled: its shares were burned and its assets paid.
    /// @param claimId The claim's id.
    /// @param receiver Who was paid.
    /// @param assets The assets paid.
    /// @param shares The shares burned.
    event ClaimSettled(uint256 indexed claimId, address indexed receiver, uint256 assets, uint256 shares);

    /// @notice Governance cancelled a claim: its escrowed shares went back to the owner.
    /// @param claimId The claim's id.
    /// @param owner The owner who got the shares back.
    /// @param shares The shares returned.
    event ClaimCancelled(uint256 indexed claimId, address indexed owner, uint256 shares);

    /// @notice Governance redirected a claim to the recovery address.
    /// @param claimId The claim's id.
    /// @param previousReceiver The receiver before the redirect.
    /// @param recovery The recovery address, the new receiver.
    event ClaimRedirected(uint256 indexed claimId, address indexed previousReceiver, address indexed recovery);

    /// @notice The delay of future claims changed.
    /// @param previousDelay The former delay, in seconds.
    /// @param delay The new delay, in seconds.
    event ClaimDelaySet(uint32 previousDelay, uint32 delay);

    /// @notice Governance swept funds to the recovery address.
    /// @param token The token swept (the vault's asset or any other token it holds).
    /// @param recovery The recovery address.
    /// @param amount The amount swept.
    event Recovered(address indexed token, address indexed recovery, uint256 amount);

    // ------------------------------------------------------------------ errors

    /// @notice After the call the vault would hold less of its asset than it owes.
    /// @param held The vault's asset balance.
    /// @param owed What the vault's accounting says it holds for shareholders.
    error PausableVaultInsolvent(uint256 held, uint256 owed);

    /// @notice No pending claim has this id.
    /// @param claimId The id.
    error PausableVaultUnknownClaim(uint256 claimId);

    /// @notice The claim cannot settle yet.
    /// @param claimId The id.
    /// @param readyAt When it can settle.
    error PausableVaultClaimNotReady(uint256 claimId, uint64 readyAt);

    /// @notice The claim delay is outside [MIN_CLAIM_DELAY, MAX_CLAIM_DELAY].
    /// @param delay The rejected delay.
    /// @param min The minimum.
    /// @param max The maximum.
    error PausableVaultInvalidClaimDelay(uint32 delay, uint32 min, uint32 max);

    /// @notice The vault's own shares cannot be swept: the shares it holds are escrowed for pending claims.
    /// @param token The rejected token (the vault itself).
    error PausableVaultUnrecoverableToken(address token);

    /// @notice The recovery address is zero or the vault itself.
    /// @param recovery The rejected address.
    error PausableVaultInvalidRecovery(address recovery);

    /// @notice The sweep asks for more than the vault holds of the token.
    /// @param token The token.
    /// @param requested The amount asked for.
    /// @param balance The vault's balance.
    error PausableVaultRecoveryExceedsBalance(address token, uint256 requested, uint256 balance);

    // ------------------------------------------------------------------ claims

    /// @notice Settles a ready claim: burns its escrowed shares and pays its receiver. Anyone can call it.
    /// @dev Paused while tripped unless the settleClaim selector is exempt.
    /// @param claimId The claim's id.
    /// @return assets The assets paid.
    function settleClaim(uint256 claimId) external returns (uint256 assets);

    /// @notice Cancels a pending claim and returns its escrowed shares to the owner. Only GOVERNOR_ROLE.
    /// @param claimId The claim's id.
    function cancelClaim(uint256 claimId) external;

    /// @notice Redirects a pending claim's assets to the recovery address. Only GOVERNOR_ROLE.
    /// @param claimId The claim's id.
    function redirectClaim(uint256 claimId) external;

    /// @notice Sets the delay of future claims. Only GOVERNOR_ROLE.
    /// @param delay Seconds, in [MIN_CLAIM_DELAY, MAX_CLAIM_DELAY].
    function setClaimDelay(uint32 delay) external;

    // ------------------------------------------------------------------ recovery

    /// @notice Sweeps `amount` of `token` to the recovery address, the only possible destination. Only GOVERNOR_ROLE.
    /// @dev Works while tripped. Sweeping the vault's asset takes unaccounted balance (donations) first and then
    /// reduces the accounted holdings, so shareholders' claims shrink accordingly.
    /// @param token The token to sweep (the vault's asset or any other).
    /// @param amount The amount.
    function recover(address token, uint256 amount) external;

    // ------------------------------------------------------------------ views

    /// @notice The address all recovered funds go to, fixed at construction.
    /// @return The recovery address.
    function recoveryAddress() external view returns (address);

    /// @notice The delay of future claims, in seconds.
    /// @return The delay.
    function claimDelay() external view returns (uint32);

    /// @notice A claim (pending if its owner is non-zero; settled or cancelled claims are deleted).
    /// @param claimId The id.
    /// @return The claim.
    function claim(uint256 claimId) external view returns (Claim memory);

    /// @notice The id the next claim will get (claims are numbered from 1).
    /// @return The next id.
    function nextClaimId() external view returns (uint256);
}
