import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { anvilKey, type AnvilInstance } from "../../../guardian/ops/anvil";
import { ReentrancyAttacker__factory, VulnerableBank__factory } from "../../../typechain-types";

/** A VulnerableBank with honest deposits and a ReentrancyAttacker aimed at it, on a running anvil. */
export interface BankScenario {
  provider: JsonRpcProvider;
  bank: string;
  attacker: string;
  deployer: NonceManager;
  thief: Wallet;
  /** Runs the attack in its own transaction; `minProfit` above what it can gain makes it revert. */
  attack(options?: { minProfit?: bigint; reentries?: number }): Promise<string>;
  /** A plain deposit from an honest user (a block that touches the bank without an attack). */
  deposit(amountWei: bigint, userIndex?: number): Promise<string>;
  mine(blocks?: number): Promise<void>;
}

export async function deployBankScenario(anvil: AnvilInstance): Promise<BankScenario> {
  const provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 });
  const deployer = new NonceManager(new Wallet(anvilKey(0), provider));
  const thief = new Wallet(anvilKey(9), provider);
  const bank = await new VulnerableBank__factory(deployer).deploy();
  await bank.waitForDeployment();
  const attacker = await new ReentrancyAttacker__factory(thief).deploy(await bank.getAddress());
  await attacker.waitForDeployment();
  const users = [1, 2, 3].map((i) => new Wallet(anvilKey(i), provider));

  const scenario: BankScenario = {
    provider,
    bank: (await bank.getAddress()).toLowerCase(),
    attacker: (await attacker.getAddress()).toLowerCase(),
    deployer,
    thief,
    async deposit(amountWei, userIndex = 0) {
      const tx = await bank.connect(users[userIndex % users.length]).deposit({ value: amountWei });
      await tx.wait();
      return tx.hash;
    },
    async attack(options = {}) {
      // Explicit gas: estimation would fail for the reverting variant, and a reverted attack is evidence too.
      const tx = await attacker.attack(options.reentries ?? 3, options.minProfit ?? 0n, { value: 10n ** 18n, gasLimit: 1_000_000n });
      await tx.wait().catch(() => undefined);
      return tx.hash;
    },
    async mine(blocks = 1) {
      await provider.send("anvil_mine", [`0x${blocks.toString(16)}`]);
    },
  };
  return scenario;
}

/** Writes a guardian config for one anvil chain and the bank into a fresh temp dir; returns its path. */
export function writeGuardianConfig(options: {
  anvil: { url: string; wsUrl?: string };
  rpcUrls?: string[];
  bank: string;
  startBlock?: number;
  extra?: string;
  ws?: boolean;
  pollIntervalMs?: number;
  metricsPort?: number;
  reorgMaxDepth?: number;
  /** The chain's window (maxReorgDepth, default 32) and confirmations (default 5). */
  window?: number;
  confirmations?: number;
  rpcTimeoutMs?: number;
  /** Extra YAML lines under the bank's `detectors:` (indented by 6 spaces). */
  bankDetectors?: string;
}): { dir: string; file: string; dbFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-guardian-"));
  const dbFile = path.join(dir, "guardian.sqlite");
  const rpc = (options.rpcUrls ?? [options.anvil.url]).map((u) => `      - ${u}`).join("\n");
  const text = `chains:
  - id: 31337
    rpc:
${rpc}
${options.ws && options.anvil.wsUrl ? `    ws: ${options.anvil.wsUrl}\n` : ""}    confirmations: ${options.confirmations ?? 5}
    maxReorgDepth: ${options.window ?? 32}
    pollIntervalMs: ${options.pollIntervalMs ?? 100}
    rpcTimeoutMs: ${options.rpcTimeoutMs ?? 2000}
    rpcMaxAttempts: 10
    startBlock: ${options.startBlock ?? 0}
    detectors:
      reorg: { maxDepth: ${options.reorgMaxDepth ?? 3} }
contracts:
  - name: bank
    chain: 31337
    address: "${options.bank}"
    abi: VulnerableBank
    detectors:
      reentrancy: true
${options.bankDetectors ?? ""}store:
  path: ${dbFile}
metrics:
  enabled: ${options.metricsPort !== undefined}
  port: ${options.metricsPort ?? 0}
logging:
  level: debug
  destination: stdout
${options.extra ?? ""}`;
  const file = path.join(dir, "failsafe.yaml");
  writeFileSync(file, text);
  return { dir, file, dbFile };
}
