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
import {PausableVaultEscrow} from "./PausableVaultEscrow.sol";
import {IPausableVault} from "./interfaces/IPausableVault.sol";
import {IERC7540Operator, IERC7540Redeem, IERC7575} from "./interfaces/IERC7540.sol";

/// @title PausableVault
/// @notice An OpenZeppelin ERC-4626 vault behind a {CircuitBreaker}, with ERC-7540 asynchronous redeem requests for
/// exits larger than the outflow limit allows at once.
/// @dev The books are the breaker's tracked holdings of the asset: `totalAssets()` is what flowed in through deposits
/// minus what flowed out, never `balanceOf(this)`, so donations cannot move the share price.
///
/// Two ways out, chosen by the third argument of `withdraw`/`redeem` alone (never by the caller):
/// - that account has a claimable balance (a fulfilled request): the call claims from it, at the price fixed at
///   fulfilment, paid by the escrow; it touches no limit (the outflow was counted at fulfilment);
/// - otherwise it is a synchronous ERC-4626 exit: it pays exactly what it returns, within the outflow limit and within
///   what the vault holds, or reverts. It never queues, whatever the limit's action.
/// Previews and `convertTo*` describe the synchronous path and do not depend on the caller; `claimable()` gives a
/// controller's claim price. `max*` return what would succeed now for the account named.
///
/// Fulfilled assets move to a separate {PausableVaultEscrow}, so the vault's balance backs its books alone: deposits
/// check `balanceOf(this) >= totalAssets()` (refusing fee-on-transfer short deliveries and deposits into a vault that
/// is short) and synchronous exits check they are covered by what the vault holds, each with one balance read and no
/// extra storage read.
contract PausableVault is ERC4626, CircuitBreaker, IPausableVault {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Shortest claim delay.
    uint32 public constant MIN_CLAIM_DELAY = 1 hours;
    /// @notice Longest claim delay: bounds how long an honest request waits.
    uint32 public constant MAX_CLAIM_DELAY = 30 days;
    /// @notice What the claim delay must exceed the governance timelock's delay by: time to notice a request and
    /// schedule a cancel or redirect after it was made.
    uint32 public constant CLAIM_ORDER_MARGIN = 30 minutes;
    /// @notice Longest a guardian's hold can push one request (each request can be held once).
    uint32 public constant MAX_HOLD_DURATION = 7 days;

    /// @dev The breaker keeps holdings in 112 bits: the books never advertise room beyond it.
    uint256 private constant _MAX_BOOKS = type(uint112).max;
    /// @dev Share balances keep a flag in their top bit: "this account has a claimable balance". The synchronous exit
    /// reads the owner's balance anyway, so choosing between a claim and a synchronous exit costs no extra storage read.
    uint256 private constant _BALANCE_MASK = type(uint256).max >> 1;
    uint256 private constant _CLAIMABLE_FLAG = 1 << 255;
    /// @dev The share supply and the breaker's trip expiry share one word (supply in the low 208 bits, expiry above):
    /// every deposit and exit reads and writes the supply, so the trip check costs no cold storage read of its own.
    uint8 private constant _SUPPLY_BITS = 208;
    uint256 private constant _SUPPLY_MASK = type(uint208).max; // a literal: an expression is re-evaluated, checked
    /// @dev 10 ** {_decimalsOffset}, which this vault fixes at 0: a constant on the hot paths instead of a checked
    /// exponentiation per call.
    uint256 private constant _VIRTUAL_SHARES = 1;
    /// @dev ERC-7575's published id: share() with the ERC-4626 functions that are not ERC-20's.
    bytes4 private constant _ERC7575_INTERFACE_ID = 0x2f0a18c5;

    /// @dev What a controller can claim: one slot.
    struct ClaimableBalance {
        uint128 assets;
        uint128 shares;
    }

    address private immutable _recovery;
    address private immutable _governance;
    PausableVaultEscrow private immutable _escrow;

    uint32 private _claimDelay;
    uint224 private _lastRequestId;
    uint256 private _pendingShares;
    uint256 private _supplyAndTrip;
    mapping(address account => uint256 word) private _accounts;
    uint256 private _totalClaimable;
    mapping(uint256 requestId => Request) private _requests;
    mapping(address controller => ClaimableBalance) private _claimable;
    mapping(address controller => mapping(address operator => bool)) private _operators;

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
        _governance = settings.governance;
        _escrow = new PausableVaultEscrow(asset_);
        _setOutflowLimit(address(asset_), settings.outflowBps, settings.outflowWindow, settings.outflowAction);
        _setClaimDelay(settings.claimDelay);
    }

    // ------------------------------------------------------------------ ERC-4626 entry points

    /// @inheritdoc IERC4626
    /// @dev Reverts above the books' 112-bit room, and (after the transfer) if the vault does not hold its books.
    function deposit(uint256 assets, address receiver) public virtual override(ERC4626, IERC4626) returns (uint256 shares) {
        uint256 supplyWord = _openSupplyWord(IERC4626.deposit.selector);
        uint256 books = totalAssets();
        uint256 room;
        uint256 supply;
        unchecked {
            // books <= _MAX_BOOKS (112 bits) and the supply < 2^208: none of these can wrap.
            room = _MAX_BOOKS - books;
            supply = (supplyWord & _SUPPLY_MASK) + _VIRTUAL_SHARES;
            ++books;
        }
        if (assets > room) revert ERC4626ExceededMaxDeposit(receiver, assets, room);
        // _convertToShares(assets, Floor), with the books already read.
        shares = Math.mulDiv(assets, supply, books, Math.Rounding.Floor);
        _deposit(_msgSender(), receiver, assets, shares);
    }

    /// @inheritdoc IERC4626
    function mint(uint256 shares, address receiver) public virtual override(ERC4626, IERC4626) returns (uint256 assets) {
        _requireOperationOpen(IERC4626.mint.selector);
        assets = _convertToAssets(shares, Math.Rounding.Ceil);
        if (assets > _MAX_BOOKS - totalAssets()) revert ERC4626ExceededMaxMint(receiver, shares, maxMint(receiver));
        _deposit(_msgSender(), receiver, assets, shares);
    }

    /// @inheritdoc IERC4626
    /// @dev Claims from `owner`'s claimable balance if it has one (caller: `owner` or its operator), else exits
    /// synchronously within the limit. Reads the books once for the owner's maximum and the share amount.
    function withdraw(
        uint256 assets,
        address receiver,
        address owner
    ) public virtual override(ERC4626, IERC4626) returns (uint256 shares) {
        uint256 supplyWord = _openSupplyWord(IERC4626.withdraw.selector);
        uint256 account = _accounts[owner];
        if (account >= _CLAIMABLE_FLAG) {
            ClaimableBalance memory c = _claimable[owner];
            if (assets > c.assets) revert ERC4626ExceededMaxWithdraw(owner, assets, c.assets);
            shares = assets == c.assets ? c.shares : Math.mulDiv(assets, c.shares, c.assets, Math.Rounding.Ceil);
            _claim(receiver, owner, assets, shares);
            return shares;
        }
        // No claimable flag: the word is the owner's balance.
        uint256 books = totalAssets();
        uint256 supply;
        uint256 held;
        unchecked {
            // books <= _MAX_BOOKS (112 bits) and the supply < 2^208: neither can wrap.
            supply = (supplyWord & _SUPPLY_MASK) + _VIRTUAL_SHARES;
            held = books + 1;
        }
        uint256 maxAssets = Math.mulDiv(account, held, supply);
        if (assets > maxAssets) revert ERC4626ExceededMaxWithdraw(owner, assets, maxAssets);
        shares = Math.mulDiv(assets, supply, held, Math.Rounding.Ceil);
        _payOut(_msgSender(), receiver, owner, assets, shares, books);
    }

    /// @inheritdoc IERC4626
    /// @dev Claims from `owner`'s claimable balance if it has one, else exits synchronously (see {withdraw}).
    function redeem(
        uint256 shares,
        address receiver,
        address owner
    ) public virtual override(ERC4626, IERC4626) returns (uint256 assets) {
        uint256 supplyWord = _openSupplyWord(IERC4626.redeem.selector);
        uint256 account = _accounts[owner];
        if (account >= _CLAIMABLE_FLAG) {
            ClaimableBalance memory c = _claimable[owner];
            if (shares > c.shares) revert ERC4626ExceededMaxRedeem(owner, shares, c.shares);
            assets = shares == c.shares ? c.assets : Math.mulDiv(shares, c.assets, c.shares);
            _claim(receiver, owner, assets, shares);
            return assets;
        }
        // No claimable flag: the word is the owner's balance.
        if (shares > account) revert ERC4626ExceededMaxRedeem(owner, shares, account);
        uint256 books = totalAssets();
        // _convertToAssets(shares, Floor), with the books already read.
        uint256 supply;
        uint256 held;
        unchecked {
            // books <= _MAX_BOOKS (112 bits) and the supply < 2^208: neither can wrap.
            supply = (supplyWord & _SUPPLY_MASK) + _VIRTUAL_SHARES;
            held = books + 1;
        }
        assets = Math.mulDiv(shares, held, supply, Math.Rounding.Floor);
        _payOut(_msgSender(), receiver, owner, assets, shares, books);
    }

    /// @inheritdoc IERC4626
    function totalAssets() public view virtual override(ERC4626, IERC4626) returns (uint256) {
        return _trackedHoldings(asset());
    }

    /// @inheritdoc IERC4626
    /// @dev Zero while deposits are paused or the vault is short; otherwise the room left in the 112-bit books.
    function maxDeposit(address) public view virtual override(ERC4626, IERC4626) returns (uint256) {
        if (!isOperationOpen(IERC4626.deposit.selector)) return 0;
        uint256 books = totalAssets();
        if (IERC20(asset()).balanceOf(address(this)) < books) return 0;
        return _MAX_BOOKS - books;
    }

    /// @inheritdoc IERC4626
    /// @dev The shares {maxDeposit} buys, rounded down (0 in the unreachable state of more than 2^144 shares).
    function maxMint(address receiver) public view virtual override(ERC4626, IERC4626) returns (uint256) {
        if (!isOperationOpen(IERC4626.mint.selector)) return 0;
        uint256 supply = totalSupply() + _VIRTUAL_SHARES;
        if (supply > type(uint144).max) return 0;
        return Math.min(Math.mulDiv(maxDeposit(receiver), supply, totalAssets() + 1), _SUPPLY_MASK - totalSupply());
    }

    /// @inheritdoc IERC4626
    /// @dev Zero while withdrawals are paused. A controller with a claimable balance: that balance (within what the
    /// escrow holds). Otherwise: the owner's assets, within the outflow available now and what the vault holds.
    function maxWithdraw(address owner) public view virtual override(ERC4626, IERC4626) returns (uint256) {
        if (!isOperationOpen(IERC4626.withdraw.selector)) return 0;
        ClaimableBalance memory c = _claimable[owner];
        if (c.shares != 0) return Math.min(c.assets, _escrowHeld());
        return Math.min(_convertToAssets(balanceOf(owner), Math.Rounding.Floor), _exitable());
    }

    /// @inheritdoc IERC4626
    /// @dev Like {maxWithdraw}, in shares.
    function maxRedeem(address owner) public view virtual override(ERC4626, IERC4626) returns (uint256) {
        if (!isOperationOpen(IERC4626.redeem.selector)) return 0;
        ClaimableBalance memory c = _claimable[owner];
        if (c.shares != 0) {
            uint256 escrowHeld = _escrowHeld();
            return escrowHeld >= c.assets ? c.shares : Math.mulDiv(escrowHeld, c.shares, c.assets);
        }
        // Exact: the most shares whose value, rounded down as redeem rounds it, is still within what may leave now.
        uint256 exitableShares = Math.mulDiv(
            _exitable() + 1,
            totalSupply() + _VIRTUAL_SHARES,
            totalAssets() + 1,
            Math.Rounding.Ceil
        ) - 1;
        return Math.min(balanceOf(owner), exitableShares);
    }

    /// @inheritdoc IERC20
    function totalSupply() public view virtual override(ERC20, IERC20) returns (uint256) {
        return _supplyAndTrip & _SUPPLY_MASK;
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) public view virtual override(ERC20, IERC20) returns (uint256) {
        return _accounts[account] & _BALANCE_MASK;
    }

    /// @dev Fixed at 0 (OpenZeppelin's default) and not virtual: the hot paths use {_VIRTUAL_SHARES} = 10 ** it.
    function _decimalsOffset() internal pure override returns (uint8) {
        return 0;
    }

    /// @inheritdoc ERC4626
    function decimals() public view virtual override(ERC4626, IERC20Metadata) returns (uint8) {
        return super.decimals();
    }

    // ------------------------------------------------------------------ ERC-7540 requests

    /// @inheritdoc IERC7540Redeem
    /// @dev The caller is `owner`, its operator, or spends `owner`'s share allowance; the controller is `owner`, the
    /// caller, or has approved the caller as its operator. The request may pay at most the shares' value now, and
    /// less if they are worth less at fulfilment.
    function requestRedeem(uint256 shares, address controller, address owner) external returns (uint256 requestId) {
        _requireOperationOpen(IERC7540Redeem.requestRedeem.selector);
        if (shares == 0) revert PausableVaultZeroShares();
        if (controller == address(0)) revert ERC20InvalidReceiver(controller);
        address caller = _msgSender();
        // The controller consents: otherwise anyone could make a dust request claimable by any account, and that
        // account's next withdraw/redeem would be a claim (the path follows the claimable balance), not its exit.
        if (controller != owner && controller != caller && !_operators[controller][caller]) {
            revert PausableVaultUnauthorizedController(caller, controller);
        }
        if (caller != owner && !_operators[owner][caller]) _spendAllowance(owner, caller, shares);
        uint256 assets = _convertToAssets(shares, Math.Rounding.Floor);
        _transfer(owner, address(this), shares);
        requestId = ++_lastRequestId;
        _requests[requestId] = Request({
            owner: owner,
            readyAt: uint64(block.timestamp) + _claimDelay,
            held: false,
            controller: controller,
            shares: shares.toUint128(),
            assets: assets.toUint128()
        });
        _pendingShares += shares;
        emit RedeemRequest(controller, owner, requestId, caller, shares);
    }

    /// @inheritdoc IPausableVault
    function fulfilRedeem(uint256 requestId) external returns (uint256 assets, uint256 shares) {
        _requireOperationOpen(IPausableVault.fulfilRedeem.selector);
        Request memory r = _pendingRequest(requestId);
        if (block.timestamp < r.readyAt) revert PausableVaultRequestNotReady(requestId, r.readyAt);
        IERC20 token = IERC20(asset());
        uint256 due = Math.min(r.assets, _convertToAssets(r.shares, Math.Rounding.Floor));
        uint256 available = _availableOutflow(address(token));
        if (due <= available) {
            (assets, shares) = (due, r.shares);
        } else {
            // Partial: the share of the request the limit allows now, rounded against the requester.
            shares = Math.mulDiv(r.shares, available, due);
            if (shares == 0) revert PausableVaultFulfilmentLimited(requestId, due, available);
            assets = Math.mulDiv(shares, due, r.shares);
        }
        uint256 held = token.balanceOf(address(this));
        if (assets > held) revert PausableVaultShortfall(assets, held);
        if (!_checkOutflow(address(token), assets)) revert CircuitBreakerOutflowExceeded(address(token), assets, available);
        if (shares == r.shares) {
            delete _requests[requestId];
        } else {
            _requests[requestId].shares = r.shares - uint128(shares);
            _requests[requestId].assets = r.assets - uint128(assets);
        }
        _pendingShares -= shares;
        _burn(address(this), shares);
        if (r.controller == _recovery) {
            token.safeTransfer(_recovery, assets);
            _requireLeft(token, held - assets);
        } else {
            address escrowAddress = address(_escrow);
            uint256 escrowBefore = token.balanceOf(escrowAddress);
            token.safeTransfer(escrowAddress, assets);
            // A fee-on-transfer asset delivers less: the controller can claim what the escrow received, no more.
            uint256 received = token.balanceOf(escrowAddress) - escrowBefore;
            ClaimableBalance storage c = _claimable[r.controller];
            c.assets += received.toUint128();
            c.shares += uint128(shares);
            _accounts[r.controller] |= _CLAIMABLE_FLAG;
            _totalClaimable += received;
            _requireLeft(token, held - assets);
            assets = received;
        }
        emit RedeemFulfilled(requestId, r.controller, assets, shares);
    }

    /// @inheritdoc IPausableVault
    function cancelRedeemRequest(uint256 requestId) external {
        Request memory r = _pendingRequest(requestId);
        address caller = _msgSender();
        bool byGovernance = hasRole(GOVERNOR_ROLE, caller);
        if (!byGovernance) {
            bool own = caller == r.owner || caller == r.controller || _operators[r.controller][caller];
            // A held or redirected request is governance's to decide: its owner cannot pull it out from under it.
            if (!own || r.held || r.controller == _recovery) {
                revert PausableVaultUnauthorizedController(caller, r.controller);
            }
        }
        delete _requests[requestId];
        _pendingShares -= r.shares;
        _transfer(address(this), r.owner, r.shares);
        if (byGovernance) emit RedeemRequestCancelled(requestId, r.owner, r.shares);
        else emit RedeemRequestRevoked(requestId, r.owner, r.shares);
    }

    /// @inheritdoc IPausableVault
    function redirectRedeemRequest(uint256 requestId) external onlyRole(GOVERNOR_ROLE) {
        address previous = _pendingRequest(requestId).controller;
        _requests[requestId].controller = _recovery;
        emit RedeemRequestRedirected(requestId, previous, _recovery);
    }

    /// @inheritdoc IPausableVault
    function holdRedeemRequest(uint256 requestId) external onlyRole(GUARDIAN_ROLE) {
        Request memory r = _pendingRequest(requestId);
        if (r.held) revert PausableVaultRequestAlreadyHeld(requestId);
        uint64 until = uint64(block.timestamp + holdDuration());
        uint64 readyAt = until > r.readyAt ? until : r.readyAt;
        _requests[requestId].held = true;
        _requests[requestId].readyAt = readyAt;
        emit RedeemRequestHeld(requestId, _msgSender(), readyAt);
    }

    /// @inheritdoc IERC7540Operator
    function setOperator(address operator, bool approved) external returns (bool) {
        address controller = _msgSender();
        _operators[controller][operator] = approved;
        emit OperatorSet(controller, operator, approved);
        return true;
    }

    /// @inheritdoc IPausableVault
    function setClaimDelay(uint32 delay) external onlyRole(GOVERNOR_ROLE) {
        _setClaimDelay(delay);
    }

    // ------------------------------------------------------------------ losses and recovery

    /// @inheritdoc IPausableVault
    function recognizeLoss(uint256 amount) external onlyRole(GOVERNOR_ROLE) {
        uint256 missing = shortfall();
        if (amount == 0 || amount > missing) revert PausableVaultLossExceedsShortfall(amount, missing);
        _recordOutflow(asset(), amount, false);
        emit LossRecognized(amount, totalAssets());
    }

    /// @inheritdoc IPausableVault
    /// @dev Recovery must work on a vault that is already short: that is when it matters most. So the check after it
    /// is that the shortfall did not grow, rather than that there is none.
    function recover(address token, uint256 amount) external onlyRole(GOVERNOR_ROLE) {
        if (token == address(this)) {
            uint256 stray = balanceOf(address(this)) - _pendingShares;
            if (amount > stray) revert PausableVaultRecoveryExceedsBalance(token, amount, stray);
            _transfer(address(this), _recovery, amount);
            emit Recovered(token, _recovery, amount);
            return;
        }
        uint256 balance = IERC20(token).balanceOf(address(this));
        if (amount > balance) revert PausableVaultRecoveryExceedsBalance(token, amount, balance);
        uint256 missing;
        if (token == asset()) {
            uint256 books = totalAssets();
            if (balance >= books) {
                uint256 unaccounted = balance - books;
                if (amount > unaccounted) _recordOutflow(token, amount - unaccounted, false);
            } else {
                missing = books - balance;
                _recordOutflow(token, amount, false);
            }
        }
        IERC20(token).safeTransfer(_recovery, amount);
        uint256 held = IERC20(asset()).balanceOf(address(this));
        uint256 owed = totalAssets();
        if (held + missing < owed) revert PausableVaultInsolvent(held, owed);
        emit Recovered(token, _recovery, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IERC7575
    function share() external view returns (address) {
        return address(this);
    }

    /// @inheritdoc IERC7540Redeem
    function pendingRedeemRequest(uint256 requestId, address controller) external view returns (uint256) {
        Request storage r = _requests[requestId];
        return r.controller == controller ? r.shares : 0;
    }

    /// @inheritdoc IERC7540Redeem
    /// @dev Claimable balances are kept per controller, not per request (claims name no request): this returns the
    /// controller's claimable shares whatever `requestId`.
    function claimableRedeemRequest(uint256, address controller) external view returns (uint256) {
        return _claimable[controller].shares;
    }

    /// @inheritdoc IERC7540Operator
    function isOperator(address controller, address operator) external view returns (bool) {
        return _operators[controller][operator];
    }

    /// @inheritdoc IPausableVault
    function recoveryAddress() external view returns (address) {
        return _recovery;
    }

    /// @inheritdoc IPausableVault
    function escrow() external view returns (address) {
        return address(_escrow);
    }

    /// @inheritdoc IPausableVault
    function claimDelay() external view returns (uint32) {
        return _claimDelay;
    }

    /// @inheritdoc IPausableVault
    function governanceDelay() public view returns (uint256 delay) {
        (, delay) = _governanceDelay();
    }

    /// @inheritdoc IPausableVault
    function isClaimOrderSafe() external view returns (bool) {
        (bool answered, uint256 delay) = _governanceDelay();
        return !answered || _claimDelay > delay + CLAIM_ORDER_MARGIN;
    }

    /// @inheritdoc IPausableVault
    function holdDuration() public view returns (uint256) {
        return Math.min(governanceDelay() + CLAIM_ORDER_MARGIN, MAX_HOLD_DURATION);
    }

    /// @inheritdoc IPausableVault
    function redeemRequest(uint256 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @inheritdoc IPausableVault
    function nextRequestId() external view returns (uint256) {
        return uint256(_lastRequestId) + 1;
    }

    /// @inheritdoc IPausableVault
    function claimable(address controller) external view returns (uint256 assets, uint256 shares) {
        ClaimableBalance memory c = _claimable[controller];
        return (c.assets, c.shares);
    }

    /// @inheritdoc IPausableVault
    function totalClaimableAssets() external view returns (uint256) {
        return _totalClaimable;
    }

    /// @inheritdoc IPausableVault
    function totalPendingShares() external view returns (uint256) {
        return _pendingShares;
    }

    /// @inheritdoc IPausableVault
    function shortfall() public view returns (uint256) {
        uint256 held = IERC20(asset()).balanceOf(address(this));
        uint256 books = totalAssets();
        return books > held ? books - held : 0;
    }

    /// @inheritdoc CircuitBreaker
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return
            interfaceId == type(IPausableVault).interfaceId ||
            interfaceId == type(IERC4626).interfaceId ||
            interfaceId == type(IERC7540Redeem).interfaceId ||
            interfaceId == type(IERC7540Operator).interfaceId ||
            interfaceId == _ERC7575_INTERFACE_ID ||
            super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Books the inflow after the transfer, then checks the vault holds its books: refuses a short delivery
    /// (fee-on-transfer) and any deposit while the vault is short (the depositor would pay for others' loss).
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal virtual override {
        super._deposit(caller, receiver, assets, shares);
        uint256 owed = _creditInflow(asset(), assets);
        uint256 held = IERC20(asset()).balanceOf(address(this));
        if (held < owed) revert PausableVaultInsolvent(held, owed);
    }

    /// @dev OpenZeppelin's ERC-20 bookkeeping on this vault's own storage, where each balance carries the
    /// claimable flag in its top bit (balances and the supply stay below 2^208, see {_SUPPLY_BITS}).
    function _update(address from, address to, uint256 value) internal virtual override {
        if (from == address(0)) {
            uint256 word = _supplyAndTrip;
            uint256 supply = (word & _SUPPLY_MASK) + value;
            if (supply > _SUPPLY_MASK) revert SafeCast.SafeCastOverflowedUintDowncast(_SUPPLY_BITS, supply);
            unchecked {
                _supplyAndTrip = word + value; // the supply bits do not carry into the expiry
            }
        } else {
            uint256 word = _accounts[from];
            uint256 fromBalance = word & _BALANCE_MASK;
            if (fromBalance < value) revert ERC20InsufficientBalance(from, fromBalance, value);
            unchecked {
                _accounts[from] = word - value;
            }
        }
        if (to == address(0)) {
            unchecked {
                _supplyAndTrip -= value; // value <= the burner's balance <= the supply
            }
        } else {
            unchecked {
                // value <= supply < 2^208: the balance never reaches the flag bit.
                _accounts[to] += value;
            }
        }
        emit Transfer(from, to, value);
    }

    /// @dev The trip expiry lives above the share supply (see {_SUPPLY_BITS}).
    function _loadTripExpiry() internal view virtual override returns (uint48) {
        return uint48(_supplyAndTrip >> _SUPPLY_BITS);
    }

    function _storeTripExpiry(uint48 expiresAt) internal virtual override {
        _supplyAndTrip = (_supplyAndTrip & _SUPPLY_MASK) | (uint256(expiresAt) << _SUPPLY_BITS);
    }

    /// @dev {_requireOperationOpen} for `op`, returning the supply-and-trip word it read (the hot paths need the supply
    /// too: one read for both).
    function _openSupplyWord(bytes4 op) private view returns (uint256 word) {
        word = _supplyAndTrip;
        _requireOperationOpenUntil(op, uint48(word >> _SUPPLY_BITS));
    }

    /// @dev A synchronous exit: within the limit (whatever its action: over it, this reverts rather than queue) and
    /// within what the vault holds, paying exactly `assets` or reverting. `books`: {totalAssets} before it.
    function _payOut(
        address caller,
        address receiver,
        address owner,
        uint256 assets,
        uint256 shares,
        uint256 books
    ) private {
        IERC20 token = IERC20(asset());
        if (!_checkOutflow(address(token), assets)) {
            revert CircuitBreakerOutflowExceeded(address(token), assets, _availableOutflow(address(token)));
        }
        if (caller != owner) _spendAllowance(owner, caller, shares);
        _burn(owner, shares);
        // One balance read, before the payout (the hot path's budget): a token that charged the vault more than it
        // paid would show as a shortfall afterwards (reported by the next exit, recognised by governance), not pass
        // unseen; fulfilments and recoveries, off the hot path, check the balance after as well.
        uint256 held = token.balanceOf(address(this));
        if (held < books) emit ShortfallObserved(held, books);
        if (assets > held) revert PausableVaultShortfall(assets, held);
        token.safeTransfer(receiver, assets);
        emit Withdraw(caller, receiver, owner, assets, shares);
    }

    /// @dev A claim from a fulfilled request: the controller or its operator, paid by the escrow, no limit touched.
    function _claim(address receiver, address controller, uint256 assets, uint256 shares) private {
        address caller = _msgSender();
        if (caller != controller && !_operators[controller][caller]) {
            revert PausableVaultUnauthorizedController(caller, controller);
        }
        uint256 escrowHeld = _escrowHeld();
        if (assets > escrowHeld) revert PausableVaultShortfall(assets, escrowHeld);
        ClaimableBalance storage c = _claimable[controller];
        uint128 sharesLeft = c.shares - uint128(shares);
        uint128 assetsLeft = c.assets - uint128(assets);
        if (sharesLeft == 0) {
            // Rounding can leave a few wei of assets with no share: they stay in the escrow, owned by no one.
            _totalClaimable -= assets + assetsLeft;
            assetsLeft = 0;
            _accounts[controller] &= _BALANCE_MASK;
        } else {
            _totalClaimable -= assets;
        }
        (c.assets, c.shares) = (assetsLeft, sharesLeft);
        _escrow.pay(receiver, assets);
        emit Withdraw(caller, receiver, controller, assets, shares);
    }

    /// @dev A payout must cost the vault what it paid: a token that charges the sender on top would make it short.
    function _requireLeft(IERC20 token, uint256 expected) private view {
        uint256 left = token.balanceOf(address(this));
        if (left < expected) revert PausableVaultInsolvent(left, expected);
    }

    function _exitable() private view returns (uint256) {
        return Math.min(_availableOutflow(asset()), IERC20(asset()).balanceOf(address(this)));
    }

    function _escrowHeld() private view returns (uint256) {
        return IERC20(asset()).balanceOf(address(_escrow));
    }

    function _setClaimDelay(uint32 delay) private {
        if (delay < MIN_CLAIM_DELAY || delay > MAX_CLAIM_DELAY) {
            revert PausableVaultInvalidClaimDelay(delay, MIN_CLAIM_DELAY, MAX_CLAIM_DELAY);
        }
        (bool answered, uint256 governanceDelay_) = _governanceDelay();
        if (answered && delay <= governanceDelay_ + CLAIM_ORDER_MARGIN) {
            revert PausableVaultClaimOrderUnsafe(delay, governanceDelay_ + CLAIM_ORDER_MARGIN);
        }
        uint32 previous = _claimDelay;
        _claimDelay = delay;
        emit ClaimDelaySet(previous, delay);
    }

    /// @dev The governance timelock's getMinDelay(), if it answers one (an EOA or a contract without it does not).
    /// Capped at 2^64 so that adding the margin never overflows.
    function _governanceDelay() private view returns (bool answered, uint256 delay) {
        (bool ok, bytes memory data) = _governance.staticcall(abi.encodeWithSignature("getMinDelay()"));
        if (!ok || data.length < 32) return (false, 0);
        return (true, Math.min(abi.decode(data, (uint256)), type(uint64).max));
    }

    function _pendingRequest(uint256 requestId) private view returns (Request memory r) {
        r = _requests[requestId];
        if (r.owner == address(0)) revert PausableVaultUnknownRequest(requestId);
    }
}
