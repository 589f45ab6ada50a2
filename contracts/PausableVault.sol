// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {CircuitBreaker} from "./CircuitBreaker.sol";
import {IPausableVault} from "./interfaces/IPausableVault.sol";

/// @title PausableVault
/// @notice An OpenZeppelin ERC-4626 vault behind a {CircuitBreaker}: deposit, mint, withdraw, redeem and claim
/// settlement are protected operations (keyed by their selectors), withdrawals count against the asset's outflow
/// limit, over-limit withdrawals become delayed claims, and only governance can sweep funds, only to the recovery
/// address fixed at construction.
/// @dev The vault's books are the breaker's tracked holdings of the asset: `totalAssets()` is what flowed in through
/// deposits minus what flowed out, never `balanceOf(this)`. Donations therefore cannot move the share price (no
/// inflation attack), and after every state-changing call the vault checks `balanceOf(this) >= totalAssets()`, so a
/// token that delivers less than it was asked to (fee-on-transfer) or any unaccounted drain reverts with
/// {PausableVaultInsolvent}. Claims escrow the owner's shares rather than reserving assets: the vault owes nothing
/// beyond its shares, so no second counter has to be read on the hot path.
contract PausableVault is ERC4626, CircuitBreaker, IPausableVault {
    using SafeERC20 for IERC20;

    /// @notice Shortest claim delay: the time governance has to notice, cancel or redirect a claim.
    uint32 public constant MIN_CLAIM_DELAY = 1 hours;
    /// @notice Longest claim delay: bounds how long honest over-limit withdrawals can be held.
    uint32 public constant MAX_CLAIM_DELAY = 30 days;

    address private immutable _recovery;

    uint32 private _claimDelay;
    uint224 private _lastClaimId;
    mapping(uint256 claimId => Claim) private _claims;

    /// @param asset_ The vault's asset.
    /// @param name_ The share token's name.
    /// @param symbol_ The share token's symbol.
    /// @param settings Governance, recovery address, guardians, trip duration, outflow limit and claim delay.
    constructor(
        IERC20 asset_,
        string memory name_,
        string memory symbol_,
        Settings memory settings
    ) ERC4626(asset_) ERC20(name_, symbol_) CircuitBreaker(settings.governance, settings.guardians, settings.tripDuration) {
        if (settings.recovery == address(0) || settings.recovery == address(this)) {
            revert PausableVaultInvalidRecovery(settings.recovery);
        }
        _recovery = settings.recovery;
        _setOutflowLimit(address(asset_), settings.outflowBps, settings.outflowWindow, settings.outflowAction);
        _setClaimDelay(settings.claimDelay);
    }

    // ------------------------------------------------------------------ ERC-4626 entry points

    /// @inheritdoc IERC4626
    function deposit(uint256 assets, address receiver) public virtual override(ERC4626, IERC4626) returns (uint256) {
        _requireOperationOpen(IERC4626.deposit.selector);
        return super.deposit(assets, receiver);
    }

    /// @inheritdoc IERC4626
    function mint(uint256 shares, address receiver) public virtual override(ERC4626, IERC4626) returns (uint256) {
        _requireOperationOpen(IERC4626.mint.selector);
        return super.mint(shares, receiver);
    }

    /// @inheritdoc IERC4626
    /// @dev Over the outflow limit (action Delay or Trip) the shares are escrowed as a claim instead of paid out.
    /// Reads the books once for both the owner's maximum and the share amount, where OpenZeppelin's reads them twice
    /// (through {maxWithdraw} and {previewWithdraw}): the gas budget of the hot path. The owner's balance and the
    /// outflow limit are enforced here and in {_withdraw}; a derived vault that adds its own cap to {maxWithdraw}
    /// must enforce it by overriding this function too.
    function withdraw(
        uint256 assets,
        address receiver,
        address owner
    ) public virtual override(ERC4626, IERC4626) returns (uint256 shares) {
        _requireOperationOpen(IERC4626.withdraw.selector);
        uint256 supply = totalSupply() + 10 ** _decimalsOffset();
        uint256 held = totalAssets() + 1;
        uint256 maxAssets = Math.mulDiv(balanceOf(owner), held, supply);
        if (assets > maxAssets) revert ERC4626ExceededMaxWithdraw(owner, assets, maxAssets);
        shares = Math.mulDiv(assets, supply, held, Math.Rounding.Ceil);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc IERC4626
    /// @dev Over the outflow limit (action Delay or Trip) the shares are escrowed as a claim instead of paid out. Like
    /// {withdraw}, checks the owner's balance directly rather than through {maxRedeem}.
    function redeem(
        uint256 shares,
        address receiver,
        address owner
    ) public virtual override(ERC4626, IERC4626) returns (uint256 assets) {
        _requireOperationOpen(IERC4626.redeem.selector);
        uint256 maxShares = balanceOf(owner);
        if (shares > maxShares) revert ERC4626ExceededMaxRedeem(owner, shares, maxShares);
        assets = previewRedeem(shares);
        _withdraw(_msgSender(), receiver, owner, assets, shares);
    }

    /// @inheritdoc IERC4626
    function totalAssets() public view virtual override(ERC4626, IERC4626) returns (uint256) {
        return _trackedHoldings(asset());
    }

    /// @inheritdoc IERC4626
    /// @dev Zero while deposits are paused.
    function maxDeposit(address receiver) public view virtual override(ERC4626, IERC4626) returns (uint256) {
        return isOperationOpen(IERC4626.deposit.selector) ? super.maxDeposit(receiver) : 0;
    }

    /// @inheritdoc IERC4626
    /// @dev Zero while mints are paused.
    function maxMint(address receiver) public view virtual override(ERC4626, IERC4626) returns (uint256) {
        return isOperationOpen(IERC4626.mint.selector) ? super.maxMint(receiver) : 0;
    }

    /// @inheritdoc IERC4626
    /// @dev Zero while withdrawals are paused; capped by the outflow limit when its action is Revert.
    function maxWithdraw(address owner) public view virtual override(ERC4626, IERC4626) returns (uint256) {
        if (!isOperationOpen(IERC4626.withdraw.selector)) return 0;
        uint256 ownerAssets = super.maxWithdraw(owner);
        if (_outflowAction(asset()) != OutflowAction.Revert) return ownerAssets;
        return Math.min(ownerAssets, _availableOutflow(asset()));
    }

    /// @inheritdoc IERC4626
    /// @dev Zero while redemptions are paused; capped by the outflow limit when its action is Revert.
    function maxRedeem(address owner) public view virtual override(ERC4626, IERC4626) returns (uint256) {
        if (!isOperationOpen(IERC4626.redeem.selector)) return 0;
        uint256 ownerShares = super.maxRedeem(owner);
        if (_outflowAction(asset()) != OutflowAction.Revert) return ownerShares;
        return Math.min(ownerShares, _convertToShares(_availableOutflow(asset()), Math.Rounding.Floor));
    }

    /// @inheritdoc ERC4626
    function decimals() public view virtual override(ERC4626, IERC20Metadata) returns (uint8) {
        return super.decimals();
    }

    // ------------------------------------------------------------------ claims

    /// @inheritdoc IPausableVault
    function settleClaim(uint256 claimId) external returns (uint256 assets) {
        _requireOperationOpen(IPausableVault.settleClaim.selector);
        Claim memory pending = _pendingClaim(claimId);
        if (block.timestamp < pending.readyAt) revert PausableVaultClaimNotReady(claimId, pending.readyAt);
        delete _claims[claimId];
        assets = Math.min(pending.assets, previewRedeem(pending.shares));
        _burn(address(this), pending.shares);
        _recordOutflow(asset(), assets, true);
        IERC20(asset()).safeTransfer(pending.receiver, assets);
        _requireSolvent();
        emit ClaimSettled(claimId, pending.receiver, assets, pending.shares);
    }

    /// @inheritdoc IPausableVault
    function cancelClaim(uint256 claimId) external onlyRole(GOVERNOR_ROLE) {
        Claim memory pending = _pendingClaim(claimId);
        delete _claims[claimId];
        _transfer(address(this), pending.owner, pending.shares);
        emit ClaimCancelled(claimId, pending.owner, pending.shares);
    }

    /// @inheritdoc IPausableVault
    function redirectClaim(uint256 claimId) external onlyRole(GOVERNOR_ROLE) {
        address previousReceiver = _pendingClaim(claimId).receiver;
        _claims[claimId].receiver = _recovery;
        emit ClaimRedirected(claimId, previousReceiver, _recovery);
    }

    /// @inheritdoc IPausableVault
    function setClaimDelay(uint32 delay) external onlyRole(GOVERNOR_ROLE) {
        _setClaimDelay(delay);
    }

    // ------------------------------------------------------------------ recovery

    /// @inheritdoc IPausableVault
    /// @dev Recovery must work on a vault that is already short (an exploit, a negative rebase): that is when it
    /// matters most. So the check after it is that the shortfall did not grow, rather than that there is none.
    function recover(address token, uint256 amount) external onlyRole(GOVERNOR_ROLE) {
        if (token == address(this)) revert PausableVaultUnrecoverableToken(token);
        uint256 balance = IERC20(token).balanceOf(address(this));
        if (amount > balance) revert PausableVaultRecoveryExceedsBalance(token, amount, balance);
        uint256 shortfall;
        if (token == asset()) {
            uint256 books = totalAssets();
            if (balance >= books) {
                uint256 unaccounted = balance - books;
                if (amount > unaccounted) _recordOutflow(token, amount - unaccounted, false);
            } else {
                shortfall = books - balance;
                _recordOutflow(token, amount, false);
            }
        }
        IERC20(token).safeTransfer(_recovery, amount);
        // Not _requireSolvent(): the shortfall from before the call is tolerated, any growth of it is not.
        uint256 held = IERC20(asset()).balanceOf(address(this));
        uint256 owed = totalAssets();
        if (held + shortfall < owed) revert PausableVaultInsolvent(held, owed);
        emit Recovered(token, _recovery, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPausableVault
    function recoveryAddress() external view returns (address) {
        return _recovery;
    }

    /// @inheritdoc IPausableVault
    function claimDelay() external view returns (uint32) {
        return _claimDelay;
    }

    /// @inheritdoc IPausableVault
    function claim(uint256 claimId) external view returns (Claim memory) {
        return _claims[claimId];
    }

    /// @inheritdoc IPausableVault
    function nextClaimId() external view returns (uint256) {
        return uint256(_lastClaimId) + 1;
    }

    /// @inheritdoc CircuitBreaker
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return
            interfaceId == type(IPausableVault).interfaceId ||
            interfaceId == type(IERC4626).interfaceId ||
            super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Books the inflow after the transfer, then checks the vault really received it.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal virtual override {
        super._deposit(caller, receiver, assets, shares);
        _creditInflow(asset(), assets);
        _requireSolvent();
    }

    /// @dev Pays out within the limit; over it (Delay/Trip) escrows the owner's shares as a claim instead.
    function _withdraw(
        address caller,
        address receiver,
        address owner,
        uint256 assets,
        uint256 shares
    ) internal virtual override {
        if (_checkOutflow(asset(), assets)) {
            super._withdraw(caller, receiver, owner, assets, shares);
            _requireSolvent();
        } else {
            _queueClaim(caller, receiver, owner, assets, shares);
        }
    }

    function _queueClaim(address caller, address receiver, address owner, uint256 assets, uint256 shares) private {
        if (caller != owner) _spendAllowance(owner, caller, shares);
        _transfer(owner, address(this), shares);
        uint256 claimId = ++_lastClaimId;
        uint64 readyAt = uint64(block.timestamp) + _claimDelay;
        _claims[claimId] = Claim({
            owner: owner,
            readyAt: readyAt,
            receiver: receiver,
            shares: SafeCast.toUint128(shares),
            assets: SafeCast.toUint128(assets)
        });
        emit ClaimQueued(claimId, owner, receiver, assets, shares, readyAt);
    }

    function _setClaimDelay(uint32 delay) private {
        if (delay < MIN_CLAIM_DELAY || delay > MAX_CLAIM_DELAY) {
            revert PausableVaultInvalidClaimDelay(delay, MIN_CLAIM_DELAY, MAX_CLAIM_DELAY);
        }
        uint32 previous = _claimDelay;
        _claimDelay = delay;
        emit ClaimDelaySet(previous, delay);
    }

    function _pendingClaim(uint256 claimId) private view returns (Claim memory pending) {
        pending = _claims[claimId];
        if (pending.owner == address(0)) revert PausableVaultUnknownClaim(claimId);
    }

    /// @dev The accounting invariant: the asset balance covers the books.
    function _requireSolvent() private view {
        uint256 held = IERC20(asset()).balanceOf(address(this));
        uint256 owed = totalAssets();
        if (held < owed) revert PausableVaultInsolvent(held, owed);
    }
}
