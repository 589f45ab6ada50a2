import { JsonRpcProvider, NonceManager, Wallet, parseUnits, type BaseContract, type ContractTransactionResponse } from "ethers";
import pino, { type Logger } from "pino";
import { stringify } from "yaml";
import { HttpRpcClient } from "../../guardian/chain/rpc";
import type { RpcClient } from "../../guardian/chain/types";
import { parseConfig } from "../../guardian/config/load-config";
import type { GuardianConfig } from "../../guardian/config/schema";
import { BlockContextBuilder } from "../../guardian/context/build-block-context";
import { PendingContextWatcher, detectPending, type PendingTx } from "../../guardian/context/pending-context";
import { decide } from "../../guardian/decisions/policy";
import type { Detector, Finding, ProtectedContract } from "../../guardian/detectors/types";
import { createDetectors } from "../../guardian/guardian";
import { anvilKey, startAnvil, type AnvilInstance } from "../../guardian/ops/anvil";

export const CHAIN_ID = 31337;
/** Seconds between blocks, as on mainnet: the time windows of outflow-window are measured in seconds. */
export const BLOCK_SECONDS = 12;
/** The guardian's key (anvil account 1): corpus contracts name it as the one that may pause them. */
export const GUARDIAN_INDEX = 1;
/** Attackers pay this tip; the guardian's pause outbids it, as its trip bundle does. */
export const ATTACK_TIP = parseUnits("2", "gwei");
const PAUSE_TIP = parseUnits("200", "gwei");

/**
 * One anvil for the corpus, mining only when told (automine off), a block every BLOCK_SECONDS of chain time.
 * Accounts beyond anvil's ten are made from fresh keys and funded with anvil_setBalance (sybils, users).
 */
export interface CorpusChain {
  anvil: AnvilInstance;
  provider: JsonRpcProvider;
  rpc: HttpRpcClient;
  account(i: number): NonceManager;
  /** A fresh account with 1,000 ETH, for sybils and users. */
  fresh(): Promise<NonceManager>;
  mine(): Promise<number>;
  /** Sends and mines a setup transaction at once; throws if it reverted. */
  setup<T extends { wait(): Promise<unknown> }>(sent: Promise<T>): Promise<void>;
  deploy<C extends BaseContract>(pending: Promise<C>): Promise<C>;
  stop(): Promise<void>;
}

export async function openCorpusChain(): Promise<CorpusChain> {
  const anvil = await startAnvil({ chainId: CHAIN_ID, extraArgs: ["--gas-limit", "60000000", "--code-size-limit", "100000"] });
  const provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 10 });
  const rpc = new HttpRpcClient({ chainId: CHAIN_ID, urls: [anvil.url], timeoutMs: 60_000 });
  await provider.send("evm_setAutomine", [false]);
  await provider.send("anvil_setBlockTimestampInterval", [BLOCK_SECONDS]);
  const accounts = new Map<number, NonceManager>();
  let freshCount = 0;
  const chain: CorpusChain = {
    anvil,
    provider,
    rpc,
    account(i) {
      let a = accounts.get(i);
      if (!a) accounts.set(i, (a = new NonceManager(new Wallet(anvilKey(i), provider))));
      return a;
    },
    async fresh() {
      const wallet = new Wallet(anvilKey(100 + freshCount++), provider);
      await provider.send("anvil_setBalance", [wallet.address, "0x3635c9adc5dea00000"]);
      return new NonceManager(wallet);
    },
    async mine() {
      await provider.send("evm_mine", []);
      return provider.getBlockNumber();
    },
    async setup(sent) {
      const tx = (await sent) as unknown as ContractTransactionResponse;
      await chain.mine();
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (!receipt || receipt.status !== 1) throw new Error(`setup transaction ${tx.hash} failed`);
    },
    async deploy(pending) {
      const c = await pending;
      await chain.mine();
      await c.waitForDeployment();
      return c;
    },
    async stop() {
      provider.destroy();
      await anvil.stop();
    },
  };
  return chain;
}

/** A protected contract as the corpus configures it: a name, an address, a TypeChain ABI name, detectors. */
export interface CorpusContract {
  name: string;
  address: string;
  abi: string;
  detectors?: Record<string, unknown>;
  /** The contract has CorpusGuarded's pause(): a trip pauses it. */
  pausable: boolean;
}

/**
 * The detector suite every corpus case and the benign corpus run: one configuration, not one per attack
 * (an unseen corpus runs against the same). `extra` is what a deployment's config says about itself:
 * protection groups, invariants, timelocks, known spenders.
 */
export function corpusConfig(chain: CorpusChain, contracts: CorpusContract[], extra: {
  groups?: string[][];
  invariants?: { name: string; expr: string }[];
  timelocks?: string[];
  trustedDeployers?: string[];
  treasuries?: { name: string; address: string; knownSpenders: string[]; operators: string[] }[];
} = {}): { yaml: string } {
  const names = contracts.map((c) => c.name);
  const treasuries = extra.treasuries ?? [];
  const config = {
    chains: [
      {
        id: CHAIN_ID,
        rpc: [chain.anvil.url],
        startBlock: 0,
        detectors: {
          ...(names.length > 0
            ? {
                reentrancy: { contracts: names, groups: extra.groups ?? [] },
                "flash-loan": { contracts: names },
                "privileged-change": { contracts: names, timelocks: extra.timelocks ?? [], extraEvents: ["event OracleUpdated(address indexed previous, address indexed current)", "event KeeperChanged(address indexed previous, address indexed current)"] },
                "repeated-calls": { contracts: names },
              }
            : {}),
          "exploit-deployment": { contracts: [...names, ...treasuries.map((t) => t.name)], trustedDeployers: extra.trustedDeployers ?? [] },
          ...(extra.invariants && extra.invariants.length > 0 ? { invariant: { invariants: extra.invariants } } : {}),
        },
      },
    ],
    contracts: [
      ...contracts.map((c) => {
        const groups = (extra.groups ?? []).filter((g) => g.includes(c.name));
        const own = (c.detectors?.["outflow-window"] ?? {}) as Record<string, unknown>;
        return { name: c.name, chain: CHAIN_ID, address: c.address, abi: c.abi, detectors: { ...c.detectors, "outflow-window": { minAmount: "5e18", groups, ...own } } };
      }),
      ...treasuries.map((t) => ({ name: t.name, chain: CHAIN_ID, address: t.address, abi: "MockERC20", detectors: { allowance: { knownSpenders: t.knownSpenders, operators: t.operators } } })),
    ],
    store: { path: ":memory:" },
    metrics: { enabled: false },
  };
  return { yaml: stringify(config) };
}

export interface Detection {
  finding: Finding;
  pending: boolean;
  /** The block the finding was made at (for a pending one: the block the transaction was heading for). */
  block: number;
}

/**
 * The guardian as the corpus runs it: the config through the real loader and schema, detectors made by
 * the guardian's own createDetectors, block contexts by the guardian's builder, pending transactions
 * simulated by its mempool watcher, and decisions by its policy. A trip is the guardian key's `pause()`
 * on the finding's contract, sent with a tip that puts it ahead of the attacker's transactions (as the
 * trip bundle does); it lands in the next block the bench mines.
 */
export class CorpusGuardian {
  readonly config: GuardianConfig;
  readonly contracts: ProtectedContract[];
  private readonly detectors: Detector[];
  private readonly watcher: PendingContextWatcher;
  private readonly builder: BlockContextBuilder;
  readonly detections: Detection[] = [];
  readonly trips: { contract: string; block: number; pending: boolean; finding: Finding }[] = [];
  private readonly paused = new Set<string>();
  /** Silent unless CORPUS_LOG names a pino level (e.g. debug: detectors skipped on pending contexts). */
  private readonly logger: Logger = pino({ level: process.env.CORPUS_LOG ?? "silent" });

  constructor(
    private readonly chain: CorpusChain,
    yaml: string,
    private readonly pausable: ReadonlySet<string>,
    private readonly onFinding?: (d: Detection, decision: "trip" | "alert") => Promise<void>,
  ) {
    const loaded = parseConfig(yaml, "corpus.yaml");
    this.config = loaded.config;
    this.contracts = loaded.contracts.get(CHAIN_ID) ?? [];
    this.detectors = createDetectors(this.config, this.config.chains[0], this.contracts, { rpc: chain.rpc, logger: this.logger }).map((i) => i.detector);
    // anvil's "pending" state already holds the mempool's transactions, so a pending transaction simulated
    // there would run on top of itself; the bench sends each step's transactions and simulates them before
    // anything else arrives, so the latest state is the state they will run on (the earlier ones of the
    // same step are not applied: a step's later transactions may simulate differently than they will run).
    const latest: RpcClient = {
      chainId: chain.rpc.chainId,
      request: <T>(method: string, params: unknown[]) =>
        chain.rpc.request<T>(method, method === "debug_traceCall" ? params.map((p) => (p === "pending" ? "latest" : p)) : params),
    };
    // trace_block: anvil serves it from traces recorded at mining time (chains[].traces: parity).
    this.builder = new BlockContextBuilder(chain.rpc, this.contracts.map((c) => c.address), "parity");
    this.watcher = new PendingContextWatcher({ rpc: latest, protectedAddresses: this.contracts.map((c) => c.address), source: { mode: "poll", intervalMs: 1_000 }, logger: this.logger, onContext: async () => undefined });
  }

  /** Simulates pending transactions, as the mempool watch does, and acts on what they show. */
  async onPending(hashes: string[]): Promise<void> {
    const next = (await this.chain.provider.getBlockNumber()) + 1;
    for (const hash of hashes) {
      const tx = await this.chain.rpc.request<PendingTx | null>("eth_getTransactionByHash", [hash]);
      if (!tx) continue;
      const ctx = await this.watcher.buildContext(tx);
      if (!ctx) continue;
      await this.handle(await detectPending(this.detectors, ctx, this.logger), true, next);
    }
  }

  async onBlock(block: number): Promise<Finding[]> {
    const ctx = await this.builder.build(block);
    const found: Finding[] = [];
    for (const d of this.detectors) found.push(...(await d.onBlock(ctx)));
    await this.handle(found, false, block);
    return found;
  }

  private async handle(findings: Finding[], pending: boolean, block: number): Promise<void> {
    for (const finding of findings) {
      const name = this.contracts.find((c) => c.address === finding.contract)?.name;
      const decision = decide(finding, this.config.policy, name);
      const d = { finding, pending, block };
      this.detections.push(d);
      await this.onFinding?.(d, decision.action);
      if (decision.action !== "trip" || !finding.contract || !this.pausable.has(finding.contract) || this.paused.has(finding.contract)) continue;
      this.paused.add(finding.contract);
      this.trips.push({ contract: finding.contract, block, pending, finding });
      const guardian = this.chain.account(GUARDIAN_INDEX);
      const iface = ["function pause()"];
      const { Contract } = await import("ethers");
      await new Contract(finding.contract, iface, guardian).pause({ gasLimit: 100_000n, maxPriorityFeePerGas: PAUSE_TIP, maxFeePerGas: PAUSE_TIP * 4n });
    }
  }
}
