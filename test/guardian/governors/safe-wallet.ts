import { Contract, ContractFactory, Interface, TypedDataEncoder, ZeroAddress, getAddress, solidityPacked, type Wallet } from "ethers";
import { safeBatchChecksum, type SafeBatchFile } from "../../../guardian/reports/governance-payloads";

/**
 * A real Safe 1.4.1 (the audited contracts from @safe-global/safe-contracts on npm, deployed from their shipped
 * build artifacts) and what the Safe{Wallet} Transaction Builder does with an imported batch file: check its
 * checksum and chain, re-encode every call from its human-readable method and inputs (so the bytes signed are
 * the ones the owners read), wrap the calls in MultiSendCallOnly, collect the owners' EIP-712 signatures and
 * execute. Test-only: it stands in for the Safe app, not for any Failsafe code.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const artifact = (p: string) => require(`@safe-global/safe-contracts/build/artifacts/contracts/${p}`) as { abi: unknown[]; bytecode: string };
const SAFE = artifact("Safe.sol/Safe.json");
const FACTORY = artifact("proxies/SafeProxyFactory.sol/SafeProxyFactory.json");
const MULTISEND = artifact("libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json");
const FALLBACK = artifact("handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json");

export const SAFE_TX_TYPES = {
  SafeTx: [
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "data", type: "bytes" },
    { name: "operation", type: "uint8" },
    { name: "safeTxGas", type: "uint256" },
    { name: "baseGas", type: "uint256" },
    { name: "gasPrice", type: "uint256" },
    { name: "gasToken", type: "address" },
    { name: "refundReceiver", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
};

export interface SafeDeployment {
  safe: Contract;
  address: string;
  multiSend: string;
}

async function deploy(a: { abi: unknown[]; bytecode: string }, deployer: Wallet): Promise<Contract> {
  const c = await new ContractFactory(a.abi as never, a.bytecode, deployer).deploy();
  await c.waitForDeployment();
  return c as Contract;
}

/** Singleton, proxy factory, fallback handler and MultiSendCallOnly, then one Safe proxy for `owners`. */
export async function deploySafe(deployer: Wallet, owners: string[], threshold: number): Promise<SafeDeployment> {
  const [singleton, factory, multiSend, fallback] = [await deploy(SAFE, deployer), await deploy(FACTORY, deployer), await deploy(MULTISEND, deployer), await deploy(FALLBACK, deployer)];
  const setup = new Interface(SAFE.abi as never).encodeFunctionData("setup", [owners, threshold, ZeroAddress, "0x", await fallback.getAddress(), ZeroAddress, 0, ZeroAddress]);
  const receipt = await (await factory.getFunction("createProxyWithNonce")(await singleton.getAddress(), setup, 1n)).wait();
  const created = receipt.logs.map((l: { topics: string[]; data: string }) => factory.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === "ProxyCreation");
  const address = getAddress(String(created.args.proxy));
  return { safe: new Contract(address, SAFE.abi as never, deployer), address, multiSend: await multiSend.getAddress() };
}

/** A Transaction Builder file as a Safe owner would import it: refused unless it is intact and for this Safe and chain. */
export function importBatch(file: SafeBatchFile, safe: SafeDeployment, chainId: number): { to: string; value: bigint; data: string }[] {
  if (file.version !== "1.0") throw new Error(`batch version ${file.version} is not 1.0`);
  if (BigInt(file.chainId) !== BigInt(chainId)) throw new Error(`batch is for chain ${file.chainId}, not ${chainId}`);
  if (file.meta.createdFromSafeAddress && getAddress(file.meta.createdFromSafeAddress) !== safe.address) throw new Error(`batch was made for Safe ${file.meta.createdFromSafeAddress}`);
  if (safeBatchChecksum(file) !== file.meta.checksum) throw new Error("batch checksum does not match its contents");
  return file.transactions.map((tx, i) => {
    const fragment = { type: "function", name: tx.contractMethod.name, inputs: tx.contractMethod.inputs, outputs: [], stateMutability: tx.contractMethod.payable ? "payable" : "nonpayable" };
    const encoded = new Interface([fragment]).encodeFunctionData(tx.contractMethod.name, tx.contractMethod.inputs.map((p) => tx.contractInputsValues[p.name]));
    if (encoded !== tx.data) throw new Error(`transaction ${i}: its data does not match ${tx.contractMethod.name} with the listed inputs`);
    return { to: getAddress(tx.to), value: BigInt(tx.value), data: encoded };
  });
}

/** The calls packed for MultiSendCallOnly.multiSend, each as operation 0 (call). */
export function multiSendData(calls: { to: string; value: bigint; data: string }[]): string {
  const packed = solidityPacked(
    calls.map(() => ["uint8", "address", "uint256", "uint256", "bytes"]).flat(),
    calls.flatMap((c) => [0, c.to, c.value, (c.data.length - 2) / 2, c.data]),
  );
  return new Interface(MULTISEND.abi as never).encodeFunctionData("multiSend", [packed]);
}

/** Signs the Safe transaction with each owner (EIP-712, sorted by owner as Safe requires) and executes it. */
export async function execWithOwners(s: SafeDeployment, calls: { to: string; value: bigint; data: string }[], owners: Wallet[], executor: Wallet, chainId: number) {
  const tx = {
    to: s.multiSend,
    value: 0n,
    data: multiSendData(calls),
    operation: 1, // delegatecall into MultiSendCallOnly, as the Transaction Builder does
    safeTxGas: 0n,
    baseGas: 0n,
    gasPrice: 0n,
    gasToken: ZeroAddress,
    refundReceiver: ZeroAddress,
    nonce: (await s.safe.getFunction("nonce")()) as bigint,
  };
  const domain = { chainId, verifyingContract: s.address };
  const onChainHash = (await s.safe.getFunction("getTransactionHash")(tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver, tx.nonce)) as string;
  if (onChainHash !== TypedDataEncoder.hash(domain, SAFE_TX_TYPES, tx)) throw new Error("the Safe hashes this transaction differently");
  const sorted = [...owners].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  const signatures = `0x${(await Promise.all(sorted.map((o) => o.signTypedData(domain, SAFE_TX_TYPES, tx)))).map((sig) => sig.slice(2)).join("")}`;
  const safe = s.safe.connect(executor) as Contract;
  return (await safe.getFunction("execTransaction")(tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver, signatures)).wait();
}
