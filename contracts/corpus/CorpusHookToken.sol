// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {CorpusGuarded} from "./CorpusGuarded.sol";

interface ICorpusTokenSender {
    function tokensToSend(address operator, address from, address to, uint256 amount, bytes calldata data, bytes calldata operatorData) external;
}

/// @title CorpusHookToken
/// @notice An ERC-20 with ERC-777's tokensToSend hook: a sender that registered is called before its tokens
/// move (imBTC, the token behind the Lendf.Me and Uniswap V1 losses of April 2020).
contract CorpusHookToken is ERC20 {
    mapping(address => bool) public hooked;

    constructor() ERC20("Corpus Hook Token", "cHOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function registerHook() external {
        hooked[msg.sender] = true;
    }

    function _update(address from, address to, uint256 amount) internal override {
        if (from != address(0) && hooked[from]) ICorpusTokenSender(from).tokensToSend(msg.sender, from, to, amount, "", "");
        super._update(from, to, amount);
    }
}

/// @title CorpusTokenBank
/// @notice Lendf.Me's supply(): reads the balance, pulls the tokens (the hook runs here), then writes back the
/// balance read before the pull plus the amount, erasing a withdrawal made from the hook.
contract CorpusTokenBank is CorpusGuarded {
    IERC20 public immutable token;
    mapping(address => uint256) public balanceOf;

    error CorpusTokenBankInsufficient(address account, uint256 balance, uint256 amount);

    constructor(address guardian_, IERC20 token_) CorpusGuarded(guardian_) {
        token = token_;
    }

    function supply(uint256 amount) external whenNotPaused {
        uint256 balance = balanceOf[msg.sender];
        token.transferFrom(msg.sender, address(this), amount);
        balanceOf[msg.sender] = balance + amount;
    }

    function withdraw(uint256 amount) external whenNotPaused {
        uint256 balance = balanceOf[msg.sender];
        if (balance < amount) revert CorpusTokenBankInsufficient(msg.sender, balance, amount);
        balanceOf[msg.sender] = balance - amount;
        token.transfer(msg.sender, amount);
    }
}
