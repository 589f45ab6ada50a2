// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IPausableVault} from "../../../contracts/interfaces/IPausableVault.sol";
import {PausableVault} from "../../../contracts/PausableVault.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {Vm} from "../utils/Vm.sol";
import {bound} from "../utils/Bound.sol";

/// @dev Drives a PausableVault as honest holders, an attacker, a guardian and governance would, and keeps ghost books
/// in asset units for the invariants. The attacker borrows capital for one timestamp (a flash loan: minted, used and
/// burned within the action), splits deposits and exits into many pieces, sends dust, runs its own money through the
/// vault and back, requests redemptions and fulfils anyone's. Expected reverts are caught: only calls that succeed
/// change the ghosts.
contract PausableVaultHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 internal constant USER_FUNDS = 1_000_000e18;
    uint256 public constant ATTACKER_FUNDS = 100_000e18;

    /// @dev One flow that moved the books: an inflow (deposit, mint) or an instant outflow (a synchronous exit or a
    /// fulfilment), with the books just before it.
    struct Flow {
        uint64 at;
        bool out;
        uint256 assets;
        uint256 booksBefore;
    }

    PausableVault public immutable vault;
    MockERC20 public immutable asset;
    address public immutable guardian;
    address public immutable governor;
    address public constant ATTACKER = address(0xA77AC);
    address[] internal _users;

    Flow[] internal _flows;
    uint256[] internal _requestIds;

    /// @dev Assets taken from the vault behind its back (a negative rebase), and the part governance recognised.
    uint256 public ghostLost;
    uint256 public ghostRecognised;
    /// @dev Flash loans the attacker could not repay at the end of the action (it still holds what they bought).
    uint256 public ghostAttackerDebt;
    /// @dev The share price floor: only a recognised loss may lower the price; (books + 1) / (supply + 1) at that time.
    uint256 public ghostPriceAssets = 1;
    uint256 public ghostPriceShares = 1;
    /// @dev A rule broken inside an action (forge ignores reverting handler calls, so actions record, invariants report).
    string public ghostBroken;

    constructor(PausableVault vault_, MockERC20 asset_, address guardian_, address governor_, address[] memory users_) {
        vault = vault_;
        asset = asset_;
        guardian = guardian_;
        governor = governor_;
        _users = users_;
        for (uint256 i = 0; i < users_.length; ++i) _fund(users_[i], USER_FUNDS);
        _fund(ATTACKER, ATTACKER_FUNDS);
    }

    // ------------------------------------------------------------------ honest holders

    function deposit(uint256 userSeed, uint256 assets) external {
        address user = _user(userSeed);
        _deposit(user, _bound(assets, 1, asset.balanceOf(user) / 4));
    }

    /// @dev Half the time exactly the maximum, else anything up to it.
    function withdraw(uint256 userSeed, uint256 assets) external {
        address user = _user(userSeed);
        uint256 max = vault.maxWithdraw(user);
        _withdraw(user, assets % 2 == 0 ? max : _bound(assets, 0, max));
    }

    function redeem(uint256 userSeed, uint256 shares) external {
        address user = _user(userSeed);
        _redeem(user, _bound(shares, 0, vault.maxRedeem(user)));
    }

    function requestRedeem(uint256 userSeed, uint256 shares) external {
        address user = _user(userSeed);
        _request(user, _bound(shares, 1, vault.balanceOf(user)));
    }

    function fulfil(uint256 requestSeed) external {
        if (_requestIds.length == 0) return;
        _fulfil(_requestIds[requestSeed % _requestIds.length]);
    }

    function cancelOwn(uint256 requestSeed) external {
        if (_requestIds.length == 0) return;
        uint256 id = _requestIds[requestSeed % _requestIds.length];
        IPausableVault.Request memory r = vault.redeemRequest(id);
        if (r.owner == address(0)) return;
        vm.prank(r.owner);
        try vault.cancelRedeemRequest(id) {} catch {}
    }

    function donate(uint256 userSeed, uint256 amount) external {
        address user = _user(userSeed);
        amount = _bound(amount, 0, asset.balanceOf(user) / 100);
        vm.prank(user);
        asset.transfer(address(vault), amount);
    }

    /// @dev Mostly steps within one window, sometimes past claim delays and holds.
    function wait(uint256 seconds_) external {
        vm.warp(block.timestamp + _bound(seconds_, 1, seconds_ % 4 == 0 ? 3 days : 2 hours));
    }

    // ------------------------------------------------------------------ the attacker

    /// @dev Flash-loaned capital, split into `pieces` deposits and as many maximal exits, all at one timestamp; the
    /// loan is repaid from whatever the attacker holds at the end (what it cannot repay, it lost).
    function attackSplitRoundTrip(uint256 loan, uint256 pieces) external {
        loan = _bound(loan, 0, 10 * vault.totalAssets() + 1e18);
        pieces = _bound(pieces, 1, 12);
        asset.mint(ATTACKER, loan);
        for (uint256 i = 0; i < pieces; ++i) _deposit(ATTACKER, asset.balanceOf(ATTACKER) / (pieces - i));
        for (uint256 i = 0; i < pieces; ++i) _withdraw(ATTACKER, vault.maxWithdraw(ATTACKER));
        _repay(loan);
    }

    /// @dev Many dust exits and deposits in one timestamp: rounding must never pay the attacker.
    function attackDust(uint256 times) external {
        times = _bound(times, 1, 20);
        for (uint256 i = 0; i < times; ++i) {
            _deposit(ATTACKER, 1 + (i % 3));
            _withdraw(ATTACKER, 1);
            _redeem(ATTACKER, 1);
        }
    }

    /// @dev Its own money in, a request for all of it, and (once ready) fulfilment and claim: a request round trip.
    function attackRequestRoundTrip(uint256 assets) external {
        _deposit(ATTACKER, _bound(assets, 1, asset.balanceOf(ATTACKER)));
        _request(ATTACKER, vault.balanceOf(ATTACKER));
    }

    function attackFulfilAndClaim(uint256 requestSeed) external {
        if (_requestIds.length != 0) _fulfil(_requestIds[requestSeed % _requestIds.length]);
        (uint256 claimableAssets, ) = vault.claimable(ATTACKER);
        _withdraw(ATTACKER, claimableAssets);
    }

    /// @dev Attempts on other holders: exits, claims, requests and cancellations in their name, and a request that
    /// would make them controllers without their consent.
    function attackOthers(uint256 userSeed, uint256 amount) external {
        address victim = _user(userSeed);
        amount = _bound(amount, 1, 1e24);
        uint256 someoneElses = _requestIds.length == 0 ? 0 : _requestIds[amount % _requestIds.length];
        IPausableVault.Request memory r = vault.redeemRequest(someoneElses);
        if (r.owner == ATTACKER || r.controller == ATTACKER) someoneElses = 0;
        bytes[6] memory calls = [
            abi.encodeCall(vault.withdraw, (amount, ATTACKER, victim)),
            abi.encodeCall(vault.redeem, (amount, ATTACKER, victim)),
            abi.encodeCall(vault.requestRedeem, (amount, ATTACKER, victim)),
            abi.encodeCall(vault.cancelRedeemRequest, (someoneElses)),
            abi.encodeCall(vault.recover, (address(asset), amount)),
            // A dust request of its own made claimable by the victim would turn the victim's next exit into a claim.
            abi.encodeCall(vault.requestRedeem, (1, victim, ATTACKER))
        ];
        for (uint256 i = 0; i < calls.length; ++i) {
            vm.prank(ATTACKER);
            (bool ok, ) = address(vault).call(calls[i]);
            if (ok) ghostBroken = "the attacker acted on another holder's shares or requests";
        }
    }

    // ------------------------------------------------------------------ guardian and governance

    function hold(uint256 requestSeed) external {
        if (_requestIds.length == 0) return;
        vm.prank(guardian);
        try vault.holdRedeemRequest(_requestIds[requestSeed % _requestIds.length]) {} catch {}
    }

    function governanceCancelOrRedirect(uint256 requestSeed, bool redirect) external {
        if (_requestIds.length == 0) return;
        uint256 id = _requestIds[requestSeed % _requestIds.length];
        vm.prank(governor);
        if (redirect) {
            try vault.redirectRedeemRequest(id) {} catch {}
        } else {
            try vault.cancelRedeemRequest(id) {} catch {}
        }
    }

    /// @dev A negative rebase: up to 1 % of what the vault holds disappears.
    function loss(uint256 amount) external {
        amount = _bound(amount, 0, asset.balanceOf(address(vault)) / 100);
        asset.burn(address(vault), amount);
        ghostLost += amount;
    }

    function recognizeLoss(uint256 amount) external {
        uint256 missing = vault.shortfall();
        if (missing == 0) return;
        amount = _bound(amount, 1, missing);
        vm.prank(governor);
        vault.recognizeLoss(amount);
        ghostRecognised += amount;
        ghostPriceAssets = vault.totalAssets() + 1;
        ghostPriceShares = vault.totalSupply() + 1;
    }

    // ------------------------------------------------------------------ views for the invariants

    function flowsCount() external view returns (uint256) {
        return _flows.length;
    }

    function flow(uint256 i) external view returns (Flow memory) {
        return _flows[i];
    }

    function requestIdsCount() external view returns (uint256) {
        return _requestIds.length;
    }

    function requestIdAt(uint256 i) external view returns (uint256) {
        return _requestIds[i];
    }

    function usersCount() external view returns (uint256) {
        return _users.length;
    }

    function userAt(uint256 i) external view returns (address) {
        return _users[i];
    }

    // ------------------------------------------------------------------ calls that record flows

    function _deposit(address user, uint256 assets) internal {
        if (assets == 0) return;
        uint256 books = vault.totalAssets();
        vm.prank(user);
        try vault.deposit(assets, user) {
            _flows.push(Flow(uint64(block.timestamp), false, assets, books));
        } catch {}
    }

    function _withdraw(address user, uint256 assets) internal {
        (uint256 claimableAssets, ) = vault.claimable(user);
        uint256 books = vault.totalAssets();
        uint256 before = asset.balanceOf(user);
        vm.prank(user);
        try vault.withdraw(assets, user, user) returns (uint256) {
            uint256 paid = asset.balanceOf(user) - before;
            if (paid != assets) ghostBroken = "withdraw paid other than it was asked";
            if (claimableAssets == 0 && paid != 0) _flows.push(Flow(uint64(block.timestamp), true, paid, books));
        } catch {}
    }

    function _redeem(address user, uint256 shares) internal {
        (uint256 claimableAssets, ) = vault.claimable(user);
        uint256 books = vault.totalAssets();
        uint256 before = asset.balanceOf(user);
        vm.prank(user);
        try vault.redeem(shares, user, user) returns (uint256 assets) {
            uint256 paid = asset.balanceOf(user) - before;
            if (paid != assets) ghostBroken = "redeem paid other than it returned";
            if (claimableAssets == 0 && paid != 0) _flows.push(Flow(uint64(block.timestamp), true, paid, books));
        } catch {}
    }

    function _request(address user, uint256 shares) internal {
        if (shares == 0) return;
        vm.prank(user);
        try vault.requestRedeem(shares, user, user) returns (uint256 id) {
            _requestIds.push(id);
        } catch {}
    }

    function _fulfil(uint256 id) internal {
        uint256 books = vault.totalAssets();
        try vault.fulfilRedeem(id) {
            uint256 out = books - vault.totalAssets();
            if (out != 0) _flows.push(Flow(uint64(block.timestamp), true, out, books));
        } catch {}
    }

    /// @dev Repays a flash loan from the attacker's wallet; what it cannot repay is burned from what it has.
    function _repay(uint256 loan) internal {
        uint256 wallet = asset.balanceOf(ATTACKER);
        asset.burn(ATTACKER, wallet < loan ? wallet : loan);
        if (wallet < loan) ghostAttackerDebt += loan - wallet;
    }

    function _fund(address account, uint256 amount) internal {
        asset.mint(account, amount);
        vm.prank(account);
        asset.approve(address(vault), type(uint256).max);
    }

    function _user(uint256 seed) internal view returns (address) {
        return _users[seed % _users.length];
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        return max <= min ? min : bound(x, min, max);
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
