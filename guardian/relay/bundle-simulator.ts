import { AbiCoder, Transaction, dataSlice, toQuantity, zeroPadValue } from "ethers";
import type { RpcClient } from "../chain/types";
import { bundleHashOf, decodeSignedTx } from "./bundle-pool";

/** One transaction's outcome in the shape Flashbots' `eth_callBundle` returns (wei amounts as decimal strings). */
export interface TxSimulation {
  txHash: string;
  fromAddress: string;
  toAddress: string;
  gasUsed: number;
  gasPrice: string;
  gasFees: string;
  coinbaseDiff: string;
  ethSentToCoinbase: string;
  /** Return data, on success. */
  value?: string;
  /** Set when the transaction reverted or failed. */
  error?: string;
  /** Decoded `Error(string)` reason, or the raw revert data. */
  revert?: string;
}

export interface BundleSimulation {
  bundleGasPrice: string;
  bundleHash: string;
  coinbaseDiff: string;
  ethSentToCoinbase: string;
  gasFees: string;
  results: TxSimulation[];
  stateBlockNumber: number;
  totalGasUsed: number;
}

export interface SimulateOptions {
  /** The block the bundle would be in; number, timestamp and base fee follow from it. */
  blockNumber: number;
  /** State to simulate on: a number or "latest". Defaults to the block before `blockNumber`. */
  stateBlock?: number | "latest";
  timestamp?: number;
  coinbase?: string;
}

/** A bundle that cannot even be executed (bad nonce, fee below base fee, unknown state block). */
export class BundleSimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleSimulationError";
  }
}

/** A block header as eth_getBlockByNumber returns it without transactions. */
export interface RpcBlock {
  number: string;
  hash: string;
  timestamp: string;
  baseFeePerGas?: string;
  gasUsed: string;
  gasLimit: string;
  miner: string;
}

interface SimulatedCall {
  status: string;
  gasUsed: string;
  returnData: string;
  logs: { address: string; topics: string[]; data: string }[];
  error?: { code: number; message: string };
}

// eth_simulateV1 with traceTransfers reports ETH movements as ERC-20 style Transfer logs from this address.
const ETH_TRANSFER_LOG_ADDRESS = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
const ERROR_STRING_SELECTOR = "0x08c379a0";

/** EIP-1559 base fee of the block after `parent`. */
export function nextBaseFee(parent: { baseFeePerGas: bigint; gasUsed: bigint; gasLimit: bigint }): bigint {
  const target = parent.gasLimit / 2n;
  if (target === 0n || parent.gasUsed === target) return parent.baseFeePerGas;
  if (parent.gasUsed > target) {
    const delta = (parent.baseFeePerGas * (parent.gasUsed - target)) / target / 8n;
    return parent.baseFeePerGas + (delta > 0n ? delta : 1n);
  }
  return parent.baseFeePerGas - (parent.baseFeePerGas * (target - parent.gasUsed)) / target / 8n;
}

/** What a transaction pays per gas in a block with `baseFee`. */
export function effectiveGasPrice(tx: Transaction, baseFee: bigint): bigint {
  if (tx.maxFeePerGas !== null && tx.maxPriorityFeePerGas !== null) {
    const withTip = baseFee + tx.maxPriorityFeePerGas;
    return withTip < tx.maxFeePerGas ? withTip : tx.maxFeePerGas;
  }
  return tx.gasPrice ?? 0n;
}

export function decodeRevert(data: string | undefined): string {
  if (!data || data === "0x") return "";
  if (data.startsWith(ERROR_STRING_SELECTOR)) {
    try {
      return AbiCoder.defaultAbiCoder().decode(["string"], dataSlice(data, 4))[0] as string;
    } catch {
      return data;
    }
  }
  return data;
}

/**
 * Executes a bundle's signed transactions in order on top of a state block without mining anything,
 * like a builder's `eth_callBundle`: per-transaction gas, fees, coinbase payments, return data and
 * reverts. It runs on the node's `eth_simulateV1` (anvil, geth, reth) with the target block's number,
 * timestamp, coinbase and base fee. eth_simulateV1 does not check nonces, so they are checked here
 * against the state block, as a builder would refuse the bundle.
 */
export async function simulateBundle(rpc: RpcClient, rawTxs: readonly string[], options: SimulateOptions): Promise<BundleSimulation> {
  const txs = rawTxs.map((raw, i) => decodeSignedTx(raw, i, rpc.chainId));
  const stateTag = options.stateBlock === undefined ? toQuantity(options.blockNumber - 1) : options.stateBlock === "latest" ? "latest" : toQuantity(options.stateBlock);
  const state = await rpc.request<RpcBlock | null>("eth_getBlockByNumber", [stateTag, false]);
  if (!state) throw new BundleSimulationError(`state block ${String(options.stateBlock ?? options.blockNumber - 1)} does not exist`);
  const stateNumber = Number(state.number);
  const baseFee = nextBaseFee({
    baseFeePerGas: BigInt(state.baseFeePerGas ?? 0),
    gasUsed: BigInt(state.gasUsed),
    gasLimit: BigInt(state.gasLimit),
  });
  const coinbase = (options.coinbase ?? state.miner).toLowerCase();
  const timestamp = options.timestamp ?? Number(state.timestamp) + 12 * Math.max(1, options.blockNumber - stateNumber);

  const senders = [...new Set(txs.map((tx) => (tx.from as string).toLowerCase()))];
  const counts = await Promise.all(senders.map((from) => rpc.request<string>("eth_getTransactionCount", [from, toQuantity(stateNumber)])));
  const nextNonce = new Map(senders.map((from, i) => [from, Number(counts[i])]));
  for (const [i, tx] of txs.entries()) {
    const from = (tx.from as string).toLowerCase();
    const expected = nextNonce.get(from) as number;
    if (tx.nonce < expected) throw new BundleSimulationError(`err: nonce too low: address ${tx.from}, tx ${i}: ${tx.nonce} state: ${expected}`);
    if (tx.nonce > expected) throw new BundleSimulationError(`err: nonce too high: address ${tx.from}, tx ${i}: ${tx.nonce} state: ${expected}`);
    if (tx.maxFeePerGas !== null && tx.maxFeePerGas < baseFee) {
      throw new BundleSimulationError(`err: max fee per gas less than block base fee: address ${tx.from}, tx ${i}: maxFeePerGas ${tx.maxFeePerGas} baseFee ${baseFee}`);
    }
    nextNonce.set(from, expected + 1);
  }

  const calls = txs.map((tx) => {
    const call: Record<string, unknown> = {
      from: tx.from,
      to: tx.to ?? undefined,
      value: toQuantity(tx.value),
      input: tx.data,
      gas: toQuantity(tx.gasLimit),
      nonce: toQuantity(tx.nonce),
    };
    if (tx.maxFeePerGas !== null) {
      call.maxFeePerGas = toQuantity(tx.maxFeePerGas);
      call.maxPriorityFeePerGas = toQuantity(tx.maxPriorityFeePerGas ?? 0n);
    } else {
      call.gasPrice = toQuantity(tx.gasPrice ?? 0n);
    }
    if (tx.accessList && tx.accessList.length > 0) call.accessList = tx.accessList;
    return call;
  });

  let simulated: { calls: SimulatedCall[] }[];
  try {
    simulated = await rpc.request("eth_simulateV1", [
      {
        blockStateCalls: [
          {
            blockOverrides: {
              number: toQuantity(options.blockNumber),
              time: toQuantity(timestamp),
              feeRecipient: coinbase,
              baseFeePerGas: toQuantity(baseFee),
            },
            calls,
          },
        ],
        validation: true,
        traceTransfers: true,
      },
      toQuantity(stateNumber),
    ]);
  } catch (err) {
    throw new BundleSimulationError(`err: ${(err as Error).message}`);
  }

  const coinbaseTopic = zeroPadValue(coinbase, 32).toLowerCase();
  const results: TxSimulation[] = [];
  let totalGas = 0n;
  let totalFees = 0n;
  let totalCoinbaseDiff = 0n;
  let totalSent = 0n;
  for (const [i, tx] of txs.entries()) {
    const out = simulated[0].calls[i];
    const gasUsed = BigInt(out.gasUsed);
    const price = effectiveGasPrice(tx, baseFee);
    const sentToCoinbase = out.logs
      .filter((l) => l.address.toLowerCase() === ETH_TRANSFER_LOG_ADDRESS && l.topics[0] === TRANSFER_TOPIC && l.topics[2]?.toLowerCase() === coinbaseTopic)
      .reduce((sum, l) => sum + BigInt(l.data), 0n);
    const coinbaseDiff = gasUsed * (price - baseFee) + sentToCoinbase;
    const result: TxSimulation = {
      txHash: tx.hash as string,
      fromAddress: tx.from as string,
      toAddress: tx.to ?? "0x",
      gasUsed: Number(gasUsed),
      gasPrice: price.toString(),
      gasFees: (gasUsed * price).toString(),
      coinbaseDiff: coinbaseDiff.toString(),
      ethSentToCoinbase: sentToCoinbase.toString(),
    };
    if (BigInt(out.status) === 1n) result.value = out.returnData;
    else {
      result.error = out.error?.message ?? "execution reverted";
      result.revert = decodeRevert(out.returnData);
    }
    results.push(result);
    totalGas += gasUsed;
    totalFees += gasUsed * price;
    totalCoinbaseDiff += coinbaseDiff;
    totalSent += sentToCoinbase;
  }
  return {
    bundleGasPrice: (totalGas > 0n ? totalCoinbaseDiff / totalGas : 0n).toString(),
    bundleHash: bundleHashOf(txs.map((t) => t.hash as string)),
    coinbaseDiff: totalCoinbaseDiff.toString(),
    ethSentToCoinbase: totalSent.toString(),
    gasFees: totalFees.toString(),
    results,
    stateBlockNumber: stateNumber,
    totalGasUsed: Number(totalGas),
  };
}
