// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {ICircuitBreaker} from "./ICircuitBreaker.sol";
import {IERC7540Operator, IERC7540Redeem, IERC7575} from "./IERC7540.sol";

/// @title IPausableVault
/// @notice An ERC-4626 vault behind a circuit breaker. Synchronous exits pay within the outflow limit or revert;
/// larger exits are ERC-7540 redeem requests that wait a claim delay (during which governance can cancel or redirect
/// them and a guardian can hold them once), are fulfilled within the limit by anyone, and are then claimed by their
/// controller. A shortfall (assets held below the books) is reported, not frozen on; governance recognises it as a
/// loss shared pro rata. Only governance sweeps funds, only to a recovery address fixed at construction.
interface IPausableVault is IERC4626, ICircuitBreaker, IERC7540Redeem, IERC7540Operator, IERC7575 {
    /// @notice Deployment settings (a struct keeps the constructor readable and deploy parameter files flat).
    /// @param governance The timelock: receives DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE. If it answers getMinDelay(), the
    /// claim delay must exceed that delay plus CLAIM_ORDER_MARGIN.
    /// @param recovery The only address funds can ever be swept to (immutable).
    /// @param guardians The initial guardians.
    /// @param tripDuration Seconds a trip lasts unless ratified or lifted.
    /// @param outflowBps The outflow limit, in basis points (0 disables the limit).
    /// @param outflowWindow The limit's window, in seconds.
    /// @param outflowAction What an over-limit outflow does in the breaker (the vault reverts either way).
    /// @param claimDelay Seconds a redeem request waits before it can be fulfilled.
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

    /// @notice A pending redeem request: the owner's shares are held in escrow by the vault.
    /// @param owner Whose shares are locked (they go back to it on cancellation).
    /// @param readyAt When the request can be fulfilled.
    /// @param held True once a guardian held it (each request can be held once).
    /// @param controller Who claims the assets (the recovery address after a redirect, which is paid directly).
    /// @param shares The shares still pending.
    /// @param assets The most the pending shares can pay (their value at request time).
    struct Request {
        address owner;
        uint64 readyAt;
        bool held;
        address controller;
        uint128 shares;
        uint128 assets;
    }

    // ------------------------------------------------------------------ events

    /// @notice (Part of) a request was fulfilled: its shares burned and its assets made claimable by the controller,
    /// or paid to the recovery address for a redirected request.
    /// @param requestId The request.
    /// @param controller The controller credited (the recovery address: paid directly).
    /// @param assets The assets made claimable (or paid).
    /// @param shares The shares burned.
    event RedeemFulfilled(uint256 indexed requestId, address indexed controller, uint256 assets, uint256 shares);

    /// @notice Governance cancelled a pending request: its shares went back to the owner.
    /// @param requestId The request.
    /// @param owner The owner who got the shares back.
    /// @param shares The shares returned.
    event RedeemRequestCancelled(uint256 indexed requestId, address indexed owner, uint256 shares);

    /// @notice The owner or controller withdrew its own pending request: the shares went back to the owner.
    /// @param requestId The request.
    /// @param owner The owner who got the shares back.
    /// @param shares The shares returned.
    event RedeemRequestRevoked(uint256 indexed requestId, address indexed owner, uint256 shares);

    /// @notice Governance redirected a pending request: it will be paid to the recovery address.
    /// @param requestId The request.
    /// @param previousController The controller before the redirect.
    /// @param recovery The recovery address.
    event RedeemRequestRedirected(uint256 indexed requestId, address indexed previousController, address indexed recovery);

    /// @notice A guardian held a pending request so that governance can act on it first.
    /// @param requestId The request.
    /// @param guardian The guardian.
    /// @param readyAt The request's new earliest fulfilment.
    event RedeemRequestHeld(uint256 indexed requestId, address indexed guardian, uint64 readyAt);

    /// @notice The claim delay of future requests changed.
    /// @param previousDelay The former delay, in seconds.
    /// @param delay The new delay, in seconds.
    event ClaimDelaySet(uint32 previousDelay, uint32 delay);

    /// @notice An exit found the vault holding less of its asset than its books say.
    /// @param held The vault's asset balance.
    /// @param owed The books (totalAssets).
    event ShortfallObserved(uint256 held, uint256 owed);

    /// @notice Governance wrote the books down by a loss: every share lost the same fraction.
    /// @param amount The loss recognised.
    /// @param totalAssets The books after.
    event LossRecognized(uint256 amount, uint256 totalAssets);

    /// @notice Governance swept funds to the recovery address.
    /// @param token The token swept (the asset, stray vault shares or any other token).
    /// @param recovery The recovery address.
    /// @param amount The amount swept.
    event Recovered(address indexed token, address indexed recovery, uint256 amount);

    // ------------------------------------------------------------------ errors

    /// @notice After the call the vault would hold less of its asset than it owes (a deposit into a vault that is
    /// short, a fee-on-transfer deposit, or a payout that cost the vault more than it paid).
    /// @param held The vault's asset balance.
    /// @param owed What it should hold at least.
    error PausableVaultInsolvent(uint256 held, uint256 owed);

    /// @notice The exit asks for more than the vault (or the escrow, for a claim) holds.
    /// @param requested The assets asked for.
    /// @param covered The assets held.
    error PausableVaultShortfall(uint256 requested, uint256 covered);

    /// @notice No pending request has this id.
    /// @param requestId The id.
    error PausableVaultUnknownRequest(uint256 requestId);

    /// @notice The request cannot be fulfilled yet.
    /// @param requestId The id.
    /// @param readyAt When it can.
    error PausableVaultRequestNotReady(uint256 requestId, uint64 readyAt);

    /// @notice The outflow limit allows nothing of this request now.
    /// @param requestId The id.
    /// @param assets The request's assets due.
    /// @param available The outflow available now.
    error PausableVaultFulfilmentLimited(uint256 requestId, uint256 assets, uint256 available);

    /// @notice The request was already held once.
    /// @param requestId The id.
    error PausableVaultRequestAlreadyHeld(uint256 requestId);

    /// @notice The caller is neither the controller (or owner) nor an operator it approved; or, for a request, the
    /// controller named is neither the owner nor the caller and has not approved the caller.
    /// @param caller The caller.
    /// @param controller The controller.
    error PausableVaultUnauthorizedController(address caller, address controller);

    /// @notice A request of zero shares.
    error PausableVaultZeroShares();

    /// @notice The claim delay is outside [MIN_CLAIM_DELAY, MAX_CLAIM_DELAY].
    /// @param delay The rejected delay.
    /// @param min The minimum.
    /// @param max The maximum.
    error PausableVaultInvalidClaimDelay(uint32 delay, uint32 min, uint32 max);

    /// @notice The claim delay does not exceed the governance timelock's delay plus CLAIM_ORDER_MARGIN, so a request
    /// could be fulfilled before a cancel or redirect scheduled at once could execute.
    /// @param delay The rejected delay.
    /// @param required The value it must exceed.
    error PausableVaultClaimOrderUnsafe(uint32 delay, uint256 required);

    /// @notice The loss to recognise is zero or exceeds the current shortfall.
    /// @param amount The rejected amount.
    /// @param shortfall The shortfall now.
    error PausableVaultLossExceedsShortfall(uint256 amount, uint256 shortfall);

    /// @notice The recovery address is zero or the vault itself.
    /// @param recovery The rejected address.
    error PausableVaultInvalidRecovery(address recovery);

    /// @notice The sweep asks for more than the vault can release of the token.
    /// @param token The token.
    /// @param requested The amount asked for.
    /// @param balance What can be swept (for the vault's shares: those not locked in requests).
    error PausableVaultRecoveryExceedsBalance(address token, uint256 requested, uint256 balance);

    // ------------------------------------------------------------------ requests

    /// @notice Fulfils a ready request as far as the outflow limit allows now: burns that part of its shares and
    /// makes the assets claimable by its controller (or pays the recovery address after a redirect). Anyone can call.
    /// @dev Pays min(assets at request time, value of the shares now), so a loss in between is shared.
    /// @param requestId The request.
    /// @return assets The assets made claimable.
    /// @return shares The shares burned.
    function fulfilRedeem(uint256 requestId) external returns (uint256 assets, uint256 shares);

    /// @notice Cancels a pending request; its shares go back to the owner. GOVERNOR_ROLE for any request; the owner,
    /// the controller or the controller's operator for a request that is neither held nor redirected.
    /// @param requestId The request.
    function cancelRedeemRequest(uint256 requestId) external;

    /// @notice Makes a pending request pay the recovery address. Only GOVERNOR_ROLE.
    /// @param requestId The request.
    function redirectRedeemRequest(uint256 requestId) external;

    /// @notice Pushes a pending request's fulfilment to at least now + holdDuration(), once per request, so that
    /// governance can act on it first. Only GUARDIAN_ROLE.
    /// @param requestId The request.
    function holdRedeemRequest(uint256 requestId) external;

    /// @notice Sets the claim delay of future requests. Only GOVERNOR_ROLE.
    /// @param delay Seconds, in [MIN_CLAIM_DELAY, MAX_CLAIM_DELAY], and above governanceDelay() + CLAIM_ORDER_MARGIN
    /// when governance answers getMinDelay().
    function setClaimDelay(uint32 delay) external;

    // ------------------------------------------------------------------ losses and recovery

    /// @notice Writes the books down by `amount` (at most the shortfall), so every share bears the loss pro rata
    /// and deposits reopen. Only GOVERNOR_ROLE (the timelock).
    /// @param amount The loss.
    function recognizeLoss(uint256 amount) external;

    /// @notice Sweeps `amount` of `token` to the recovery address, the only possible destination. Only GOVERNOR_ROLE.
    /// @dev Works while tripped. The asset: unaccounted balance (donations) first, then the books. The vault's own
    /// shares: only those not locked in requests (sent by mistake).
    /// @param token The token.
    /// @param amount The amount.
    function recover(address token, uint256 amount) external;

    // ------------------------------------------------------------------ views

    /// @notice The address all recovered funds go to, fixed at construction.
    /// @return The recovery address.
    function recoveryAddress() external view returns (address);

    /// @notice The contract holding claimable assets.
    /// @return The escrow.
    function escrow() external view returns (address);

    /// @notice The claim delay of future requests, in seconds.
    /// @return The delay.
    function claimDelay() external view returns (uint32);

    /// @notice The governance timelock's getMinDelay() (0 if governance does not answer it).
    /// @return The delay, in seconds.
    function governanceDelay() external view returns (uint256);

    /// @notice Whether the claim delay exceeds the governance delay plus CLAIM_ORDER_MARGIN now. False after the
    /// timelock's delay was raised without a claim delay update.
    /// @return True if a cancel or redirect scheduled when a request is made executes before it can be fulfilled.
    function isClaimOrderSafe() external view returns (bool);

    /// @notice How far a guardian's hold pushes a request: governanceDelay() + CLAIM_ORDER_MARGIN, at most MAX_HOLD.
    /// @return Seconds.
    function holdDuration() external view returns (uint256);

    /// @notice A pending request (owner zero once fully fulfilled or cancelled).
    /// @param requestId The id.
    /// @return The request.
    function redeemRequest(uint256 requestId) external view returns (Request memory);

    /// @notice The id the next request will get (numbered from 1).
    /// @return The next id.
    function nextRequestId() external view returns (uint256);

    /// @notice What `controller` can claim now.
    /// @param controller The controller.
    /// @return assets The claimable assets.
    /// @return shares The claimable shares.
    function claimable(address controller) external view returns (uint256 assets, uint256 shares);

    /// @notice All claimable assets (held by the escrow).
    /// @return The total.
    function totalClaimableAssets() external view returns (uint256);

    /// @notice Shares locked in pending requests (held by the vault).
    /// @return The total.
    function totalPendingShares() external view returns (uint256);

    /// @notice How much less of its asset the vault holds than its books (0 if none).
    /// @return The shortfall.
    function shortfall() external view returns (uint256);
}
