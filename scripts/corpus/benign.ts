import { AbiCoder, MaxUint256, ZeroHash, id as keccakText, parseEther, type ContractTransactionResponse, type NonceManager } from "ethers";
import {
  AaveStylePool__factory,
  CorpusAMM__factory,
  CorpusBank__factory,
  CorpusBridge__factory,
  CorpusCollateralLender__factory,
  CorpusCreditMarket__factory,
  CorpusDistributor__factory,
  CorpusExploit__factory,
  CorpusHookToken__factory,
  CorpusLiquidityPool__factory,
  CorpusProxy__factory,
  CorpusRouter__factory,
  CorpusScaledPool__factory,
  CorpusShareVault__factory,
  CorpusSharedLedger__factory,
  CorpusTokenBank__factory,
  CorpusVaultLogic__factory,
  CorpusWrapped__factory,
  MockERC20__factory,
  TimelockController__factory,
} from "../../typechain-types";
import type { Finding, Severity } from "../../guardian/detectors/types";
import { AMM_WINDOWS } from "./attacks";
import { CorpusGuardian, GUARDIAN_INDEX, corpusConfig, type CorpusChain, type CorpusContract } from "./env";
import { prng } from "../../test/support/prng";

export interface BenignResult {
  blocks: number;
  txs: number;
  reverted: number;
  /** Positions liquidated (the transaction succeeded) after market sell-offs. */
  liquidations: number;
  findingsBySeverity: Record<Severity, number>;
  findingsByDetector: Record<string, Record<string, number>>;
  trips: { contract: string; block: number; detector: string; title: string }[];
  criticals: { block: number; detector: string; title: string }[];
}


const GAS = { gasLimit: 3_000_000n, maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 100_000_000_000n };
const addr = async (c: { getAddress(): Promise<string> }) => (await c.getAddress()).toLowerCase();

/**
 * Realistic traffic on every corpus contract type at once, watched by the same detector suite as the
 * attacks: deposits and withdrawals (whales' round trips and exits of their own money included), swaps,
 * MEV sandwiches, benign flash-loan arbitrage, borrows and repayments, bridge locks and keeper releases,
 * reward grants, treasury payments through its router, griefing re-entries that a guarded bank refuses,
 * integrators deploying contracts that reference protected ones, leveraged borrowers liquidated after a market
 * sell-off (collateral leaving to liquidators who never deposited), and governance changes (oracle source,
 * proxy upgrade) scheduled through a TimelockController, singly and batched.
 */
export async function runBenign(chain: CorpusChain, blocks: number, seed = 1): Promise<BenignResult> {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const deployer = chain.account(0);
  const g = await chain.account(GUARDIAN_INDEX).getAddress();
  const d = chain.deploy;

  const timelock = await d(new TimelockController__factory(deployer).deploy(60, [await deployer.getAddress()], [await deployer.getAddress()], await deployer.getAddress()));
  const tl = await addr(timelock);
  const bank = await d(new CorpusBank__factory(deployer).deploy(g, 1));
  const marketA = await d(new CorpusCreditMarket__factory(deployer).deploy(g));
  const marketB = await d(new CorpusCreditMarket__factory(deployer).deploy(g));
  const ledger = await d(new CorpusSharedLedger__factory(deployer).deploy([await marketA.getAddress(), await marketB.getAddress()]));
  await chain.setup(marketA.setLedger(await ledger.getAddress()));
  await chain.setup(marketB.setLedger(await ledger.getAddress()));
  const pool = await d(new CorpusLiquidityPool__factory(deployer).deploy(g));
  const lpLender = await d(new CorpusCollateralLender__factory(deployer).deploy(g, await pool.getAddress(), await pool.getAddress()));
  const col = await d(new MockERC20__factory(deployer).deploy("Collateral", "COL", 18));
  const quo = await d(new MockERC20__factory(deployer).deploy("Quote", "QUO", 18));
  const amm = await d(new CorpusAMM__factory(deployer).deploy(g, await col.getAddress(), await quo.getAddress()));
  const lender = await d(new CorpusCollateralLender__factory(deployer).deploy(g, await col.getAddress(), await amm.getAddress()));
  const vault = await d(new CorpusShareVault__factory(deployer).deploy(g, await quo.getAddress()));
  const coarse = await d(new MockERC20__factory(deployer).deploy("Coarse", "CRS", 2));
  const scaled = await d(new CorpusScaledPool__factory(deployer).deploy(g, await quo.getAddress(), await coarse.getAddress()));
  const rwd = await d(new MockERC20__factory(deployer).deploy("Reward", "RWD", 18));
  const dist = await d(new CorpusDistributor__factory(deployer).deploy(g, await rwd.getAddress()));
  const bridge = await d(new CorpusBridge__factory(deployer).deploy(g, await chain.account(6).getAddress()));
  const wrapped = await d(new CorpusWrapped__factory(deployer).deploy(g));
  const hook = await d(new CorpusHookToken__factory(deployer).deploy());
  const tokenBank = await d(new CorpusTokenBank__factory(deployer).deploy(g, await hook.getAddress()));
  const logic = await d(new CorpusVaultLogic__factory(deployer).deploy());
  const proxy = await d(new CorpusProxy__factory(deployer).deploy(g, await logic.getAddress()));
  const proxied = CorpusVaultLogic__factory.connect(await proxy.getAddress(), deployer);
  const router = await d(new CorpusRouter__factory(deployer).deploy());
  const aave = await d(new AaveStylePool__factory(deployer).deploy());
  const treasury = chain.account(7);
  const treasuryAddress = (await treasury.getAddress()).toLowerCase();

  // Liquidity, before the guardian starts (as an operator would start it on a live protocol).
  await chain.setup(col.mint(await amm.getAddress(), parseEther("10000")));
  await chain.setup(quo.mint(await amm.getAddress(), parseEther("10000")));
  await chain.setup(quo.mint(await aave.getAddress(), parseEther("50000")));
  await chain.setup(quo.mint(await scaled.getAddress(), parseEther("1000")));
  await chain.setup(coarse.mint(await scaled.getAddress(), 100_000n));
  await chain.setup(rwd.mint(await dist.getAddress(), parseEther("100000")));
  await chain.setup(quo.mint(treasuryAddress, parseEther("100000")));
  // The lender's liquidity: 2,000 ether, so that its busiest hour of borrowing (everyday and leveraged borrowers
  // together, about 60 ether) is 3 % of it, as on a real market, not the 12 % a 500-ether pool would make it.
  await chain.setup(deployer.sendTransaction({ to: await lender.getAddress(), value: parseEther("2000") }));
  await chain.setup(deployer.sendTransaction({ to: await lpLender.getAddress(), value: parseEther("500") }));
  // Governance owns the lender and the proxy: changes go through the timelock.
  await chain.setup(lender.transferOwnership(tl));
  await chain.setup(proxy.transferOwnership(tl));

  const contracts: CorpusContract[] = [
    { name: "bank", address: await addr(bank), abi: "CorpusBank", pausable: true },
    { name: "marketA", address: await addr(marketA), abi: "CorpusCreditMarket", pausable: true },
    { name: "marketB", address: await addr(marketB), abi: "CorpusCreditMarket", pausable: true },
    { name: "ledger", address: await addr(ledger), abi: "CorpusSharedLedger", pausable: false },
    { name: "pool", address: await addr(pool), abi: "CorpusLiquidityPool", pausable: true },
    { name: "lpLender", address: await addr(lpLender), abi: "CorpusCollateralLender", pausable: true },
    { name: "amm", address: await addr(amm), abi: "CorpusAMM", pausable: true, detectors: { "outflow-window": AMM_WINDOWS } },
    { name: "lender", address: await addr(lender), abi: "CorpusCollateralLender", pausable: true },
    { name: "vault", address: await addr(vault), abi: "CorpusShareVault", pausable: true },
    { name: "scaledPool", address: await addr(scaled), abi: "CorpusScaledPool", pausable: true, detectors: { "outflow-window": AMM_WINDOWS } },
    { name: "distributor", address: await addr(dist), abi: "CorpusDistributor", pausable: true },
    { name: "bridge", address: await addr(bridge), abi: "CorpusBridge", pausable: true },
    { name: "wrapped", address: await addr(wrapped), abi: "CorpusWrapped", pausable: true },
    { name: "tokenBank", address: await addr(tokenBank), abi: "CorpusTokenBank", pausable: true },
    { name: "proxy", address: await addr(proxy), abi: "CorpusProxy", pausable: true },
  ];
  const { yaml } = corpusConfig(chain, contracts, {
    groups: [["marketA", "marketB", "ledger"]],
    invariants: [{ name: "backing", expr: "wrapped.totalSupply() <= eth.balance(wrapped)" }],
    timelocks: [tl],
    trustedDeployers: [(await deployer.getAddress()).toLowerCase()],
    treasuries: [{ name: "treasury", address: treasuryAddress, knownSpenders: [await addr(router)], operators: [treasuryAddress] }],
  });
  const guardian = new CorpusGuardian(chain, yaml, new Set(contracts.filter((c) => c.pausable).map((c) => c.address)));

  // Users: anvil accounts 2-5 and 8, and 12 fresh ones; every user holds tokens and has approved everything.
  const users: NonceManager[] = [2, 3, 4, 5, 8].map((i) => chain.account(i));
  for (let i = 0; i < 12; i++) users.push(await chain.fresh());
  // Leveraged borrowers of their own (an everyday borrower's safer loans would dilute the position).
  const borrowers: NonceManager[] = [];
  for (let i = 0; i < 4; i++) {
    const b = await chain.fresh();
    await col.mint(await b.getAddress(), parseEther("2000"), GAS);
    await col.connect(b).approve(await lender.getAddress(), MaxUint256, GAS);
    borrowers.push(b);
  }
  const spenders = [amm, lender, vault, scaled, tokenBank, aave].map((c) => c.getAddress());
  for (const u of users) {
    const a = await u.getAddress();
    await quo.mint(a, parseEther("2000"), GAS);
    await col.mint(a, parseEther("2000"), GAS);
    await coarse.mint(a, 2_000n, GAS);
    await hook.mint(a, parseEther("1000"), GAS);
    for (const s of await Promise.all(spenders)) {
      await quo.connect(u).approve(s, MaxUint256, GAS);
      await col.connect(u).approve(s, MaxUint256, GAS);
      await coarse.connect(u).approve(s, MaxUint256, GAS);
      await hook.connect(u).approve(s, MaxUint256, GAS);
    }
    await pool.connect(u).approve(await lpLender.getAddress(), MaxUint256, GAS);
    await chain.mine();
  }
  // A griefer's contract, which re-enters the guarded bank; and an arbitrage bot's flash-loan contract.
  const griefer = chain.account(9);
  const grief = await d(new CorpusExploit__factory(griefer).deploy([await bank.getAddress()]));
  const bot = users[0];
  const liquidator = users[1];
  const arb = await d(new CorpusExploit__factory(bot).deploy([await amm.getAddress()]));
  await chain.setup(quo.mint(await arb.getAddress(), parseEther("100")));

  // Bookkeeping so most transactions are valid (some still revert, as on mainnet).
  const banked = new Map<string, bigint>();
  const credit = new Map<string, bigint>();
  const lp = new Map<string, bigint>();
  const wrappedOf = new Map<string, bigint>();
  const proxiedOf = new Map<string, bigint>();
  const sharesOf = new Map<string, bigint>();
  const hookBanked = new Map<string, bigint>();
  const scheduled: { due: number; run: () => Promise<ContractTransactionResponse> }[] = [];
  const whaleExits: { due: number; user: NonceManager; amount: bigint }[] = [];
  const repayments: { due: number; user: NonceManager; amount: bigint; lender: "amm" | "lp" }[] = [];
  const borrowed = new Map<string, bigint>();
  // Leveraged positions on the lender, by borrower address, for the liquidation bot to watch.
  const leveraged = new Set<string>();
  const liquidations: string[] = [];
  let recoveryDue = -1;
  const get = (m: Map<string, bigint>, k: string) => m.get(k) ?? 0n;
  const eth = (lo: number, hi: number) => parseEther((lo + rand() * (hi - lo)).toFixed(4));

  let txs = 0;
  const sent: string[] = [];
  const send = async (p: Promise<ContractTransactionResponse>) => {
    try {
      sent.push((await p).hash);
      txs++;
    } catch {
      // A nonce or encoding problem in the generator, not traffic: skipped.
    }
  };
  const start = await chain.provider.getBlockNumber();
  // The protocol's first days, watched by the guardian from the start: users bring its TVL in.
  for (const u of users) {
    await send(bank.connect(u).deposit({ value: parseEther("10"), ...GAS }));
    banked.set((await u.getAddress()).toLowerCase(), parseEther("10"));
    for (const m of [marketA, marketB]) await send(m.connect(u).deposit({ value: parseEther("5"), ...GAS }));
    credit.set((await u.getAddress()).toLowerCase(), parseEther("10"));
    await send(pool.connect(u).add({ value: parseEther("10"), ...GAS }));
    lp.set((await u.getAddress()).toLowerCase(), parseEther("5"));
    await send(bridge.connect(u).lock({ value: parseEther("20"), ...GAS }));
    await send(wrapped.connect(u).deposit({ value: parseEther("5"), ...GAS }));
    wrappedOf.set((await u.getAddress()).toLowerCase(), parseEther("5"));
    await send(tokenBank.connect(u).supply(parseEther("100"), GAS));
    hookBanked.set((await u.getAddress()).toLowerCase(), parseEther("100"));
    await send(proxied.connect(u).deposit({ value: parseEther("5"), ...GAS }));
    proxiedOf.set((await u.getAddress()).toLowerCase(), parseEther("5"));
    await send(vault.connect(u).deposit(parseEther("100"), GAS));
    sharesOf.set((await u.getAddress()).toLowerCase(), parseEther("50"));
    // Collateral posted ahead of borrowing: a lending market's TVL.
    await send(lender.connect(u).depositAndBorrow(parseEther("20"), 0n, GAS));
    await guardian.onBlock(await chain.mine());
  }

  let upgradeCount = 0;

  const seeded = users.length;
  for (let n = seeded; n < blocks; n++) {
    const current = start + n + 1;
    const actions = 2 + Math.floor(rand() * 4);
    for (let k = 0; k < actions; k++) {
      const u = pick(users);
      const a = (await u.getAddress()).toLowerCase();
      const r = rand();
      if (r < 0.12) {
        const v = eth(0.1, 5);
        banked.set(a, get(banked, a) + v);
        await send(bank.connect(u).deposit({ value: v, ...GAS }));
      } else if (r < 0.17 && get(banked, a) > 0n) {
        banked.set(a, 0n);
        await send(bank.connect(u).withdraw(GAS));
      } else if (r < 0.24) {
        const v = eth(0.1, 3);
        credit.set(a, get(credit, a) + v);
        await send(pick([marketA, marketB]).connect(u).deposit({ value: v, ...GAS }));
      } else if (r < 0.28 && get(credit, a) > 0n) {
        const v = get(credit, a) / 2n;
        credit.set(a, get(credit, a) - v);
        await send(pick([marketA, marketB]).connect(u).withdraw(v, GAS));
      } else if (r < 0.3 && get(credit, a) > 0n) {
        const to = (await pick(users).getAddress()).toLowerCase();
        const v = get(credit, a) / 3n;
        credit.set(a, get(credit, a) - v);
        credit.set(to, get(credit, to) + v);
        await send(marketB.connect(u).moveCredit(to, v, GAS));
      } else if (r < 0.36) {
        const v = eth(0.5, 5);
        lp.set(a, get(lp, a) + v / 2n);
        await send(pool.connect(u).add({ value: v, ...GAS }));
      } else if (r < 0.39 && get(lp, a) > 0n) {
        const v = get(lp, a) / 2n;
        lp.set(a, get(lp, a) - v);
        await send(pool.connect(u).remove(v, GAS));
      } else if (r < 0.41 && get(lp, a) > 0n) {
        const v = get(lp, a) / 4n;
        lp.set(a, get(lp, a) - v);
        await send(lpLender.connect(u).depositAndBorrow(v, v / 4n, GAS));
        if (rand() < 0.8) repayments.push({ due: current + 20 + Math.floor(rand() * 600), user: u, amount: v / 4n, lender: "lp" });
      } else if (r < 0.52) {
        await send(amm.connect(u).swap(pick([await col.getAddress(), await quo.getAddress()]), eth(1, 60), GAS));
      } else if (r < 0.55) {
        const v = eth(0.1, 2);
        borrowed.set(a, get(borrowed, a) + v);
        await send(lender.connect(u).depositAndBorrow(eth(1, 20), v, GAS));
        // Most borrowers repay within hours.
        if (rand() < 0.8) repayments.push({ due: current + 20 + Math.floor(rand() * 600), user: u, amount: v, lender: "amm" });
      } else if (r < 0.6) {
        const v = eth(1, 50);
        sharesOf.set(a, get(sharesOf, a) + v / 2n);
        await send(vault.connect(u).deposit(v, GAS));
      } else if (r < 0.63 && get(sharesOf, a) > 0n) {
        const v = get(sharesOf, a);
        sharesOf.set(a, 0n);
        await send(vault.connect(u).redeem(v, GAS));
      } else if (r < 0.67) {
        if (rand() < 0.5) await send(scaled.connect(u).sellFine(eth(1, 15), GAS));
        else await send(scaled.connect(u).sellCoarse(BigInt(100 + Math.floor(rand() * 1000)), GAS));
      } else if (r < 0.7) {
        await send(dist.connect(deployer).grant(a, eth(1, 20), GAS));
      } else if (r < 0.75) {
        await send(bridge.connect(u).lock({ value: eth(0.5, 8), ...GAS }));
      } else if (r < 0.78) {
        await send(bridge.connect(chain.account(6)).release(a, eth(0.2, 3), GAS));
      } else if (r < 0.83) {
        const v = eth(0.2, 4);
        wrappedOf.set(a, get(wrappedOf, a) + v);
        await send(wrapped.connect(u).deposit({ value: v, ...GAS }));
      } else if (r < 0.86 && get(wrappedOf, a) > 0n) {
        const v = get(wrappedOf, a);
        wrappedOf.set(a, 0n);
        await send(wrapped.connect(u).withdraw(v, GAS));
      } else if (r < 0.9) {
        const v = eth(1, 30);
        hookBanked.set(a, get(hookBanked, a) + v);
        await send(tokenBank.connect(u).supply(v, GAS));
      } else if (r < 0.92 && get(hookBanked, a) > 0n) {
        const v = get(hookBanked, a);
        hookBanked.set(a, 0n);
        await send(tokenBank.connect(u).withdraw(v, GAS));
      } else if (r < 0.96) {
        const v = eth(0.2, 5);
        proxiedOf.set(a, get(proxiedOf, a) + v);
        await send(proxied.connect(u).deposit({ value: v, ...GAS }));
      } else if (get(proxiedOf, a) > 0n) {
        const v = get(proxiedOf, a);
        proxiedOf.set(a, 0n);
        await send(proxied.connect(u).withdraw(v, GAS));
      }
    }

    // Less frequent patterns.
    if (n % 97 === 13) {
      // A whale deposits 40-80 ETH and takes it back out a few blocks later (own-money round trip).
      const whale = pick(users);
      const v = eth(40, 80);
      banked.set((await whale.getAddress()).toLowerCase(), get(banked, (await whale.getAddress()).toLowerCase()) + v);
      await send(bank.connect(whale).deposit({ value: v, ...GAS }));
      whaleExits.push({ due: current + 3 + Math.floor(rand() * 20), user: whale, amount: v });
    }
    for (const w of whaleExits.filter((x) => x.due === current)) {
      banked.set((await w.user.getAddress()).toLowerCase(), 0n);
      await send(bank.connect(w.user).withdraw(GAS));
    }
    if (n % 53 === 7) {
      // MEV sandwich: the bot buys before a user's swap and sells after it, in the same block.
      const victim = pick(users.slice(1));
      await send(amm.connect(bot).swap(await quo.getAddress(), parseEther("80"), { ...GAS, maxPriorityFeePerGas: 5_000_000_000n, maxFeePerGas: 500_000_000_000n }));
      await send(amm.connect(victim).swap(await quo.getAddress(), parseEther("40"), { ...GAS, maxPriorityFeePerGas: 2_000_000_000n, maxFeePerGas: 500_000_000_000n }));
      await send(amm.connect(bot).swap(await col.getAddress(), parseEther("79"), { ...GAS, maxPriorityFeePerGas: 1_000_000_000n, maxFeePerGas: 500_000_000_000n }));
    }
    if (n % 71 === 5) {
      // Benign flash-loan arbitrage: borrow QUO, buy COL, sell it back, repay (a small loss to fees here).
      const inner = [
        [await quo.getAddress(), 0n, quo.interface.encodeFunctionData("approve", [await amm.getAddress(), MaxUint256]), false],
        [await amm.getAddress(), 0n, amm.interface.encodeFunctionData("swap", [await quo.getAddress(), parseEther("300")]), false],
        [await col.getAddress(), 0n, col.interface.encodeFunctionData("approve", [await amm.getAddress(), MaxUint256]), false],
        [await amm.getAddress(), 0n, amm.interface.encodeFunctionData("swap", [await col.getAddress(), parseEther("290")]), false],
      ];
      const params = AbiCoder.defaultAbiCoder().encode(["tuple(address to,uint256 value,bytes data,bool allowFailure)[]"], [inner]);
      await send(arb.connect(bot).run([{ to: await aave.getAddress(), value: 0n, data: aave.interface.encodeFunctionData("flashLoanSimple", [await arb.getAddress(), await quo.getAddress(), parseEther("1000"), params, 0]), allowFailure: false }], GAS));
    }
    if (n % 113 === 41) {
      // Griefing: a re-entry the guarded bank refuses; the transaction itself succeeds.
      const withdraw = bank.interface.encodeFunctionData("withdraw");
      await send(grief.connect(griefer).setHook([{ to: await bank.getAddress(), value: 0n, data: withdraw, allowFailure: true }], 1, GAS));
      await send(grief.connect(griefer).run([{ to: await bank.getAddress(), value: parseEther("0.01"), data: bank.interface.encodeFunctionData("deposit"), allowFailure: false }, { to: await bank.getAddress(), value: 0n, data: withdraw, allowFailure: false }], { ...GAS, value: parseEther("0.01") }));
    }
    if (n % 89 === 17) {
      // The treasury pays a supplier through its router (its own transaction), and tops up the approval.
      await send(router.connect(treasury).route(await quo.getAddress(), quo.interface.encodeFunctionData("transferFrom", [treasuryAddress, await pick(users).getAddress(), eth(10, 200)]), GAS));
      if (rand() < 0.3) await send(quo.connect(treasury).approve(await router.getAddress(), MaxUint256, GAS));
    }
    if (n % 131 === 60) {
      // An integrator deploys a contract that references a protected one (a vault over the AMM's token).
      await send(new CorpusShareVault__factory(pick(users)).deploy(g, await vault.getAddress(), GAS).then((c) => c.deploymentTransaction()!));
    }
    if (n % 151 === 20) {
      // Governance: re-point the lender's oracle (same source) or upgrade the proxy (same logic), through the
      // timelock; every other time as a batch.
      const salt = keccakText(`op-${n}`);
      const target = upgradeCount % 2 === 0 ? await lender.getAddress() : await proxy.getAddress();
      const data = upgradeCount % 2 === 0 ? lender.interface.encodeFunctionData("setSource", [await amm.getAddress()]) : proxy.interface.encodeFunctionData("upgradeTo", [await logic.getAddress()]);
      const batch = upgradeCount % 4 >= 2;
      upgradeCount++;
      if (batch) {
        await send(timelock.connect(deployer).scheduleBatch([target, target], [0, 0], [data, data], ZeroHash, salt, 60, GAS));
        scheduled.push({ due: current + 6, run: () => timelock.connect(deployer).executeBatch([target, target], [0, 0], [data, data], ZeroHash, salt, GAS) });
      } else {
        await send(timelock.connect(deployer).schedule(target, 0, data, ZeroHash, salt, 60, GAS));
        scheduled.push({ due: current + 6, run: () => timelock.connect(deployer).execute(target, 0, data, ZeroHash, salt, GAS) });
      }
    }
    if (n % 29 === 3) {
      // A leveraged borrower: 2-6 COL more, borrowed against up to 74 % of the position's value, just under the
      // 75 % limit, so a 7.5 % fall in the AMM's price makes it liquidatable.
      // Leverage bots keep the whole position at 74 % loan-to-value: the new collateral's and what is left of
      // earlier positions.
      const u = pick(borrowers);
      const amount = eth(2, 6);
      const b = await u.getAddress();
      const target = ((amount + (await lender.collateralOf(b))) * (await amm.price()) * 74n) / 100n / 10n ** 18n;
      const debt = await lender.debtOf(b);
      const borrow = target > debt ? target - debt : 0n;
      await send(lender.connect(u).depositAndBorrow(amount, borrow, GAS));
      leveraged.add((await u.getAddress()).toLowerCase());
      if (rand() < 0.4) repayments.push({ due: current + 50 + Math.floor(rand() * 400), user: u, amount: borrow, lender: "amm" });
    }
    if (n % 120 === 100) {
      // A market sell-off: a whale dumps 400-700 COL on the AMM (8-13 % down); buyers bring it back later.
      await send(amm.connect(pick(users.slice(2))).swap(await col.getAddress(), eth(400, 700), GAS));
      recoveryDue = current + 20 + Math.floor(rand() * 30);
    }
    if (current === recoveryDue) {
      await send(amm.connect(pick(users.slice(2))).swap(await quo.getAddress(), eth(400, 700), GAS));
    }
    if (n % 120 >= 101 && n % 120 <= 110 && leveraged.size > 0) {
      // Liquidation bots: in the blocks after the sell-off, every unhealthy position is repaid and its
      // collateral (plus 5 %) taken by a liquidator that never deposited anything.
      for (const a of [...leveraged]) {
        if (!(await lender.isLiquidatable(a))) continue;
        await send(lender.connect(liquidator).liquidate(a, { value: await lender.debtOf(a), ...GAS }));
        liquidations.push(sent[sent.length - 1]);
        leveraged.delete(a);
      }
    }
    for (const op of scheduled.filter((x) => x.due === current)) await send(op.run());
    for (const rp of repayments.filter((x) => x.due === current)) await send((rp.lender === "amm" ? lender : lpLender).connect(rp.user).repay({ value: rp.amount, ...GAS }));

    await guardian.onBlock(await chain.mine());
  }
  let reverted = 0;
  let liquidated = 0;
  for (const h of sent) {
    const receipt = await chain.provider.getTransactionReceipt(h);
    if (!receipt || receipt.status !== 1) reverted++;
    else if (liquidations.includes(h)) liquidated++;
  }

  const findingsBySeverity: Record<Severity, number> = { info: 0, low: 0, medium: 0, high: 0, critical: 0 };
  const findingsByDetector: Record<string, Record<string, number>> = {};
  const mined = guardian.detections.filter((x) => x.block > start);
  for (const { finding: f } of mined) {
    findingsBySeverity[f.severity]++;
    (findingsByDetector[f.detectorId] ??= {})[f.severity] = ((findingsByDetector[f.detectorId] ?? {})[f.severity] ?? 0) + 1;
  }
  const describe = (f: Finding, block: number) => ({ block, detector: f.detectorId, title: f.title });
  return {
    blocks: (await chain.provider.getBlockNumber()) - start,
    txs,
    reverted,
    liquidations: liquidated,
    findingsBySeverity,
    findingsByDetector,
    trips: guardian.trips.map((t) => ({ contract: t.contract, ...describe(t.finding, t.block) })),
    criticals: mined.filter((x) => x.finding.severity === "critical").map((x) => describe(x.finding, x.block)),
  };
}
