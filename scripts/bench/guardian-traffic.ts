// The benchmarks' anvil traffic: a token, a guarded ERC-4626 vault and a bank, and blocks of mixed calls (vault
// deposits and withdrawals, ether transfers, bank deposits, and about a tenth that revert).
import { JsonRpcProvider, NonceManager, Wallet, parseEther } from "ethers";
import type { HttpRpcClient } from "../../guardian/chain/rpc";
import { anvilKey, type AnvilInstance } from "../../guardian/ops/anvil";
import { GuardedERC4626Vault__factory, MockERC20__factory, VulnerableBank__factory } from "../../typechain-types";

export interface Contracts {
  token: string;
  vault: string;
  bank: string;
}

export async function deploy(anvil: AnvilInstance, rpc: HttpRpcClient, senders: string[]): Promise<Contracts> {
  const provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, pollingInterval: 20 });
  const deployer = new NonceManager(new Wallet(anvilKey(0), provider));
  const token = await new MockERC20__factory(deployer).deploy("Bench USD", "bUSD", 18);
  const vault = await new GuardedERC4626Vault__factory(deployer).deploy(await token.getAddress());
  const bank = await new VulnerableBank__factory(deployer).deploy();
  await rpc.request("evm_mine", []);
  const contracts = { token: (await token.getAddress()).toLowerCase(), vault: (await vault.getAddress()).toLowerCase(), bank: (await bank.getAddress()).toLowerCase() };
  const erc20 = MockERC20__factory.createInterface();
  const calls = senders.flatMap((from) => [
    tx(from, contracts.token, erc20.encodeFunctionData("mint", [from, parseEther("1000000")])),
    tx(from, contracts.token, erc20.encodeFunctionData("approve", [contracts.vault, 2n ** 255n])),
  ]);
  await rpc.batch(calls.map((params) => ({ method: "eth_sendTransaction", params: [params] })));
  await rpc.request("evm_mine", []);
  return contracts;
}

export function tx(from: string, to: string, data: string, value = 0n, gas = 300_000n): Record<string, string> {
  return { from, to, data, value: `0x${value.toString(16)}`, gas: `0x${gas.toString(16)}` };
}

/** One block's worth of mixed traffic; about a tenth of it reverts. */
export function blockTraffic(senders: string[], c: Contracts, salt: number, txs: number): Record<string, string>[] {
  const vault = GuardedERC4626Vault__factory.createInterface();
  const bank = VulnerableBank__factory.createInterface();
  const out: Record<string, string>[] = [];
  for (let i = 0; i < txs; i++) {
    const from = senders[(i + salt) % senders.length];
    const kind = (i * 7 + salt) % 10;
    if (kind < 4) out.push(tx(from, c.vault, vault.encodeFunctionData("deposit", [parseEther("1") + BigInt(i), from])));
    else if (kind < 6) out.push(tx(from, c.vault, vault.encodeFunctionData("withdraw", [parseEther("0.5"), from, from])));
    else if (kind < 8) out.push(tx(from, senders[(i + 1) % senders.length], "0x", 10n ** 15n, 21_000n));
    else if (kind < 9) out.push(tx(from, c.bank, bank.encodeFunctionData("deposit"), 10n ** 16n));
    else out.push(tx(from, c.vault, vault.encodeFunctionData("withdraw", [parseEther("1000000000"), from, from])));
  }
  return out;
}

export async function mineTrafficBlock(rpc: HttpRpcClient, senders: string[], c: Contracts, salt: number, txs: number): Promise<void> {
  await rpc.batch(blockTraffic(senders, c, salt, txs).map((params) => ({ method: "eth_sendTransaction", params: [params] })));
  await rpc.request("evm_mine", []);
}
