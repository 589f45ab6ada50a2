import type { RpcClient } from "../chain/types";
import { gweiToWei } from "./fee-policy";
import { effectiveTip, type BidInputs, type BidParams } from "./trip-bid";

interface RawBlock {
  number: string;
  baseFeePerGas?: string;
  transactions: { maxPriorityFeePerGas?: string; maxFeePerGas?: string; gasPrice?: string }[];
}

/**
 * Reads what the trip's bid is set from, all at once (an incident is a race): the breaker's ether balance
 * (value at risk, or the configured estimate when larger), and the top priority fee of each of the last
 * `recentBlocks` blocks up to `head` (which hold the attacker's mined transactions). The attacker's pending
 * transaction, when the finding came from the mempool, is passed in by the caller.
 */
export async function readBidInputs(
  rpc: RpcClient,
  params: BidParams,
  options: { breaker: string; head: number; gasLimit: bigint; minimumTipGwei: number; pendingAttackerTip?: bigint },
): Promise<BidInputs> {
  const numbers: number[] = [];
  for (let n = options.head; n > options.head - params.recentBlocks && n >= 0; n--) numbers.push(n);
  const [balance, ...blocks] = await Promise.all([
    rpc.request<string>("eth_getBalance", [options.breaker, "latest"]),
    ...numbers.map((n) => rpc.request<RawBlock | null>("eth_getBlockByNumber", [`0x${n.toString(16)}`, true])),
  ]);
  const competingTips: bigint[] = [];
  for (const block of blocks) {
    if (!block) continue;
    const baseFee = BigInt(block.baseFeePerGas ?? 0);
    let top = 0n;
    for (const tx of block.transactions) {
      const tip = effectiveTip(tx, baseFee);
      if (tip > top) top = tip;
    }
    competingTips.push(top);
  }
  if (options.pendingAttackerTip !== undefined) competingTips.push(options.pendingAttackerTip);
  const configured = params.valueAtRiskEth !== undefined ? gweiToWei(params.valueAtRiskEth * 1e9) : 0n;
  const held = BigInt(balance);
  return {
    gasLimit: options.gasLimit,
    valueAtRisk: held > configured ? held : configured,
    competingTips,
    minimumTip: gweiToWei(options.minimumTipGwei),
  };
}
