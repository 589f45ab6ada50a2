import { JsonRpcProvider, NonceManager, Wallet, ZeroHash, id as keccakText, parseEther, type ContractTransactionResponse } from "ethers";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import {
  AaveStylePool__factory,
  MockERC20__factory,
  PausableVault__factory,
  TimelockedRecovery__factory,
  BalancerStyleVault__factory,
  BuggyWrappedEther__factory,
  FlashBorrower__factory,
  FlashMintToken__factory,
  ReentrancyAttacker__factory,
  UniswapV2StylePair__factory,
  UniswapV3StylePool__factory,
  VulnerableBank__factory,
} from "../../../typechain-types";

/**
 * Attack scenarios on a fresh anvil, shared by the anvil integration tests and by `fixtures/record.ts`,
 * which records the resulting block contexts for the unit tests.
 */
export interface TestChain {
  anvil: AnvilInstance;
  rpc: HttpRpcClient;
  provider: JsonRpcProvider;
  /** anvil's default account `i`, with a nonce manager so several transactions can wait in one block. */
  account(i: number): NonceManager;
  stop(): Promise<void>;
}

export async function openTestChain(): Promise<TestChain> {
  const anvil = await startAnvil();
  const provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  provider.pollingInterval = 20;
  const accounts = new Map<number, NonceManager>();
  return {
    anvil,
    rpc: new HttpRpcClient({ chainId: 31337, urls: [anvil.url] }),
    provider,
    account(i: number): NonceManager {
      let a = accounts.get(i);
      if (!a) accounts.set(i, (a = new NonceManager(new Wallet(anvilKey(i), provider))));
      return a;
    },
    async stop(): Promise<void> {
      provider.destroy();
      await anvil.stop();
    },
  };
}

/** Mined transaction: its hash and block. Reverted ones included, which is why it does not use wait(). */
export interface Mined {
  hash: string;
  block: number;
  status: number;
}

export async function mined(chain: TestChain, sent: Promise<{ hash: string }>): Promise<Mined> {
  const tx = await sent;
  const receipt = await chain.provider.waitForTransaction(tx.hash);
  if (!receipt) throw new Error(`transaction ${tx.hash} was not mined`);
  return { hash: tx.hash.toLowerCase(), block: receipt.blockNumber, status: receipt.status ?? 0 };
}

/** Gas limit for transactions meant to revert: skips estimateGas, which would refuse to send them. */
const REVERTING = { gasLimit: 3_000_000n };

export async function reentrancyScenario(chain: TestChain) {
  const deployer = chain.account(0);
  const bank = await new VulnerableBank__factory(deployer).deploy();
  await bank.waitForDeployment();
  const attackerEoa = chain.account(5);
  const attacker = await new ReentrancyAttacker__factory(attackerEoa).deploy(await bank.getAddress());
  await attacker.waitForDeployment();
  const deposit1 = await mined(chain, bank.connect(chain.account(1)).deposit({ value: parseEther("10") }));
  const deposit2 = await mined(chain, bank.connect(chain.account(2)).deposit({ value: parseEther("10") }));
  const benignDeposit = await mined(chain, bank.connect(chain.account(3)).deposit({ value: parseEther("1") }));
  const benignWithdraw = await mined(chain, bank.connect(chain.account(3)).withdraw());
  // Stake 2 ETH, re-enter 5 times: 12 ETH out for 2 in.
  const attack = await mined(chain, attacker.attack(5, 0, { value: parseEther("2") }));
  // The same attack with a profit floor it cannot reach: the transaction reverts, the trace still shows it.
  const revertedAttack = await mined(chain, attacker.attack(1, parseEther("100"), { value: parseEther("1"), ...REVERTING }));
  return {
    bank: (await bank.getAddress()).toLowerCase(),
    attacker: (await attacker.getAddress()).toLowerCase(),
    attackerEoa: (await attackerEoa.getAddress()).toLowerCase(),
    txs: { deposit1, deposit2, benignDeposit, benignWithdraw, attack, revertedAttack },
  };
}

export async function unbackedMintScenario(chain: TestChain) {
  const weth = await new BuggyWrappedEther__factory(chain.account(0)).deploy();
  await weth.waitForDeployment();
  const deposit = await mined(chain, weth.connect(chain.account(1)).deposit({ value: parseEther("5") }));
  const withdraw = await mined(chain, weth.connect(chain.account(1)).withdraw(parseEther("1")));
  const minter = chain.account(6);
  const unbackedMint = await mined(chain, weth.connect(minter).bridgeMint(await minter.getAddress(), parseEther("1000")));
  const laterDeposit = await mined(chain, weth.connect(chain.account(2)).deposit({ value: parseEther("1") }));
  return {
    weth: (await weth.getAddress()).toLowerCase(),
    minter: (await minter.getAddress()).toLowerCase(),
    txs: { deposit, withdraw, unbackedMint, laterDeposit },
  };
}

export async function flashLoanScenario(chain: TestChain) {
  const deployer = chain.account(0);
  const addr = async (c: { getAddress(): Promise<string> }) => (await c.getAddress()).toLowerCase();
  const tokenA = await new FlashMintToken__factory(deployer).deploy();
  const tokenB = await new FlashMintToken__factory(deployer).deploy();
  const bank = await new VulnerableBank__factory(deployer).deploy();
  const aave = await new AaveStylePool__factory(deployer).deploy();
  const balancer = await new BalancerStyleVault__factory(deployer).deploy();
  const pairV2 = await new UniswapV2StylePair__factory(deployer).deploy(await tokenA.getAddress(), await tokenB.getAddress());
  const poolV3 = await new UniswapV3StylePool__factory(deployer).deploy(await tokenA.getAddress(), await tokenB.getAddress());
  const attacker = chain.account(7);
  const borrower = await new FlashBorrower__factory(attacker).deploy();
  for (const c of [tokenA, tokenB, bank, aave, balancer, pairV2, poolV3, borrower]) await c.waitForDeployment();

  const liquidity = parseEther("1000");
  for (const lender of [aave, balancer, pairV2, poolV3]) {
    await mined(chain, tokenA.mint(await lender.getAddress(), liquidity));
    await mined(chain, tokenB.mint(await lender.getAddress(), liquidity));
  }
  await mined(chain, pairV2.sync());
  // Fees come out of the borrower's own pocket.
  await mined(chain, tokenA.mint(await borrower.getAddress(), parseEther("10")));
  await mined(chain, tokenB.mint(await borrower.getAddress(), parseEther("10")));

  // While it holds each loan, the borrower pokes the protected bank.
  const poke = bank.interface.encodeFunctionData("deposit");
  await mined(chain, borrower.setAction(await bank.getAddress(), poke));
  const loan = parseEther("100");
  const erc3156 = await mined(chain, borrower.borrowErc3156(await tokenA.getAddress(), await tokenA.getAddress(), loan));
  const aaveLoan = await mined(chain, borrower.borrowAave(await aave.getAddress(), await tokenA.getAddress(), loan));
  const balancerLoan = await mined(chain, borrower.borrowBalancer(await balancer.getAddress(), await tokenB.getAddress(), loan));
  const uniswapV2 = await mined(
    chain,
    borrower.borrowUniswapV2(await pairV2.getAddress(), await tokenA.getAddress(), await tokenB.getAddress(), loan, 0),
  );
  const uniswapV3 = await mined(
    chain,
    borrower.borrowUniswapV3(await poolV3.getAddress(), await tokenA.getAddress(), await tokenB.getAddress(), loan, loan),
  );
  const plainDeposit = await mined(chain, bank.connect(chain.account(1)).deposit({ value: parseEther("1") }));
  // A loan whose use of the bank fails (nothing to withdraw): the whole transaction reverts.
  await mined(chain, borrower.setAction(await bank.getAddress(), bank.interface.encodeFunctionData("withdraw")));
  const revertedLoan = await mined(chain, borrower.borrowAave(await aave.getAddress(), await tokenA.getAddress(), loan, REVERTING));
  // A loan that never touches the bank: only the lender (protected too) sees it.
  await mined(chain, borrower.setAction("0x0000000000000000000000000000000000000000", "0x"));
  const untouchedLoan = await mined(chain, borrower.borrowAave(await aave.getAddress(), await tokenA.getAddress(), loan));

  return {
    bank: await addr(bank),
    aave: await addr(aave),
    balancer: await addr(balancer),
    pairV2: await addr(pairV2),
    poolV3: await addr(poolV3),
    tokenA: await addr(tokenA),
    tokenB: await addr(tokenB),
    borrower: await addr(borrower),
    txs: { erc3156, aaveLoan, balancerLoan, uniswapV2, uniswapV3, plainDeposit, revertedLoan, untouchedLoan },
  };
}

/**
 * Steady use of the bank by two regular users over many blocks, then a burst from a new account.
 * Automine is off so the burst can put several transactions into one block.
 */
export async function activityScenario(chain: TestChain) {
  const bank = await new VulnerableBank__factory(chain.account(0)).deploy();
  await bank.waitForDeployment();
  const bankAddress = (await bank.getAddress()).toLowerCase();
  await chain.provider.send("evm_setAutomine", [false]);
  const first = (await chain.provider.getBlockNumber()) + 1;
  const regular1 = chain.account(1);
  const regular2 = chain.account(2);
  const burster = chain.account(8);
  const burstTxs: string[] = [];
  const blocks = 70;
  for (let i = 0; i < blocks; i++) {
    const pending: Promise<ContractTransactionResponse>[] = [];
    if (i % 2 === 0) pending.push(bank.connect(regular1).deposit({ value: 1n }));
    if (i % 5 === 0) pending.push(bank.connect(regular2).deposit({ value: 1n }));
    if (i >= 60 && i < 63) for (let k = 0; k < 3; k++) pending.push(bank.connect(burster).deposit({ value: 1n }));
    const sent = await Promise.all(pending);
    if (i >= 60 && i < 63) burstTxs.push(...sent.slice(-3).map((t) => t.hash.toLowerCase()));
    await chain.provider.send("evm_mine", []);
  }
  await chain.provider.send("evm_setAutomine", [true]);
  return {
    bank: bankAddress,
    regular1: (await regular1.getAddress()).toLowerCase(),
    regular2: (await regular2.getAddress()).toLowerCase(),
    burster: (await burster.getAddress()).toLowerCase(),
    firstBlock: first,
    lastBlock: first + blocks - 1,
    burstTxs,
  };
}

/**
 * A PausableVault governed by a TimelockedRecovery: a guardian trips it, governance lifts the trip and
 * changes a limit through the timelock, and then two changes bypass it: the timelock's admin (the
 * deployer, who never renounced) grants a proposer directly, and an EOA that governance made a governor
 * changes the trip duration by itself.
 */
export async function failsafeScenario(chain: TestChain) {
  const deployer = chain.account(0);
  const governor = chain.account(1);
  const guardian = chain.account(2);
  const rogue = chain.account(3);
  const addressOf = async (s: NonceManager) => (await s.getAddress()).toLowerCase();
  const asset = await new MockERC20__factory(deployer).deploy("Asset", "AST", 18);
  await asset.waitForDeployment();
  const minDelay = 60;
  const timelockDeploy = await new TimelockedRecovery__factory(deployer).deploy(minDelay, [await governor.getAddress()], [await governor.getAddress()], await deployer.getAddress());
  await timelockDeploy.waitForDeployment();
  const timelock = timelockDeploy.connect(governor);
  const vaultDeploy = await new PausableVault__factory(deployer).deploy(await asset.getAddress(), "Failsafe Vault", "fVLT", {
    governance: await timelock.getAddress(),
    recovery: await chain.account(4).getAddress(),
    guardians: [await guardian.getAddress()],
    tripDuration: 86_400,
    outflowBps: 2_000,
    outflowWindow: 21_600,
    outflowAction: 0,
    claimDelay: 3_600,
  });
  const vaultDeployment = await mined(chain, Promise.resolve(vaultDeploy.deploymentTransaction()!));
  const vault = await vaultDeploy.waitForDeployment();
  const vaultAddress = (await vault.getAddress()).toLowerCase();
  const timelockAddress = (await timelock.getAddress()).toLowerCase();

  const incident = keccakText("incident-1");
  const trip = await mined(chain, vault.connect(guardian).trip(incident));

  const later = async () => {
    await chain.provider.send("evm_increaseTime", [minDelay + 1]);
    await chain.provider.send("evm_mine", []);
  };
  const liftSalt = keccakText("lift-1");
  const scheduleLift = await mined(chain, timelock.scheduleLift(vaultAddress, incident, liftSalt));
  await later();
  const liftData = vault.interface.encodeFunctionData("lift", [incident]);
  const executeLift = await mined(chain, timelock.execute(vaultAddress, 0, liftData, ZeroHash, liftSalt));

  const limitSalt = keccakText("limit-1");
  await mined(chain, timelock.scheduleOutflowLimit(vaultAddress, await asset.getAddress(), 1_000, 21_600, 0, limitSalt));
  await later();
  const limitData = vault.interface.encodeFunctionData("setOutflowLimit", [await asset.getAddress(), 1_000, 21_600, 0]);
  const executeLimit = await mined(chain, timelock.execute(vaultAddress, 0, limitData, ZeroHash, limitSalt));

  const proposerRole = await timelock.PROPOSER_ROLE();
  const directGrant = await mined(chain, timelockDeploy.connect(deployer).grantRole(proposerRole, await rogue.getAddress()));

  const governorRole = await vault.GOVERNOR_ROLE();
  const grantSalt = keccakText("grant-governor");
  const grantData = vault.interface.encodeFunctionData("grantRole", [governorRole, await rogue.getAddress()]);
  await mined(chain, timelock.schedule(vaultAddress, 0, grantData, ZeroHash, grantSalt, minDelay));
  await later();
  const executeGrant = await mined(chain, timelock.execute(vaultAddress, 0, grantData, ZeroHash, grantSalt));
  const rogueChange = await mined(chain, vault.connect(rogue).setTripDuration(3_600));

  return {
    vault: vaultAddress,
    timelock: timelockAddress,
    guardian: await addressOf(guardian),
    rogue: await addressOf(rogue),
    incident,
    txs: { vaultDeployment, trip, scheduleLift, executeLift, executeLimit, directGrant, executeGrant, rogueChange },
  };
}
