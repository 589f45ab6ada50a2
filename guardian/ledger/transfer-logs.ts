import { AbiCoder, id } from "ethers";
import type { TokenStandard } from "./config";
import { ordOfLog, type Movement } from "./movement";

/** A log exactly as eth_getLogs returns it (hex quantities). */
export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed?: boolean;
  blockTimestamp?: string;
}

export const TRANSFER_TOPIC = id("Transfer(address,address,uint256)");
export const TRANSFER_SINGLE_TOPIC = id("TransferSingle(address,address,address,uint256,uint256)");
export const TRANSFER_BATCH_TOPIC = id("TransferBatch(address,address,address,uint256[],uint256[])");
export const TRANSFER_TOPICS = [TRANSFER_TOPIC, TRANSFER_SINGLE_TOPIC, TRANSFER_BATCH_TOPIC];
/** WETH9 wraps and unwraps ether with these and logs no Transfer: they are its mints and burns. */
export const DEPOSIT_TOPIC = id("Deposit(address,uint256)");
export const WITHDRAWAL_TOPIC = id("Withdrawal(address,uint256)");
/** Every topic the ledger decodes, for eth_getLogs. */
export const LEDGER_TOPICS = [...TRANSFER_TOPICS, DEPOSIT_TOPIC, WITHDRAWAL_TOPIC];

const abi = AbiCoder.defaultAbiCoder();
const topicAddress = (topic: string) => "0x" + topic.slice(26).toLowerCase();
const word = (data: string, index: number) => BigInt("0x" + data.slice(2 + index * 64, 2 + (index + 1) * 64));

/** Thrown for a log that claims to be a transfer but does not have the standard's shape. */
export class TransferLogShapeError extends Error {
  constructor(log: RpcLog, expected: string) {
    super(`log ${Number(log.logIndex)} of tx ${log.transactionHash} from ${log.address} is not a well-formed ${expected}`);
    this.name = "TransferLogShapeError";
  }
}

/**
 * Turns transfer logs of the configured tokens into movements. This is the hot path of ingestion
 * (the benchmark measures it), so ERC-20 and ERC-721 words are sliced from hex directly instead of
 * going through the ABI coder. Logs of other contracts and removed logs are skipped. ERC-20 tokens'
 * WETH9 Deposit/Withdrawal logs are mints and burns, unless the same transaction also logs that mint or
 * burn as a Transfer (a token that logs both must not count twice).
 *
 * A transfer whose shape does not fit the token's standard (a value-indexed Transfer, an ERC-721
 * Transfer from a token configured as ERC-20) cannot be read without guessing. With `rejected`, that
 * token's movements are dropped from the result and the reason recorded under its address, so the
 * caller can set that one token aside; without it, a TransferLogShapeError stops the decoding.
 */
export function decodeTransferLogs(logs: readonly RpcLog[], standards: ReadonlyMap<string, TokenStandard>, rejected?: Map<string, string>): Movement[] {
  const out: Movement[] = [];
  let wrapped: Movement[] | undefined;
  for (const log of logs) {
    if (log.removed) continue;
    const token = log.address.toLowerCase();
    const standard = standards.get(token);
    if (!standard || rejected?.has(token)) continue;
    try {
      const topics = log.topics;
      const topic0 = topics[0];
      const blockNumber = Number(log.blockNumber);
      const blockHash = log.blockHash.toLowerCase();
      const txIndex = Number(log.transactionIndex);
      const txHash = log.transactionHash.toLowerCase();
      const logIndex = Number(log.logIndex);
      if (topic0 === TRANSFER_TOPIC && standard === "erc20") {
        // The common case, without the helper below: a closure per log is measurable at a million logs.
        if (topics.length !== 3 || log.data.length !== 66) throw new TransferLogShapeError(log, "ERC-20 Transfer");
        const from = topicAddress(topics[1]);
        const to = topicAddress(topics[2]);
        out.push({ blockNumber, blockHash, txIndex, txHash, ord: ordOfLog(logIndex, 0), kind: "erc20", token, tokenId: "", from, to, amount: BigInt(log.data) });
        continue;
      }
      const movement = (kind: Movement["kind"], tokenId: string, from: string, to: string, amount: bigint, batchPosition = 0): Movement =>
        ({ blockNumber, blockHash, txIndex, txHash, ord: ordOfLog(logIndex, batchPosition), kind, token, tokenId, from, to, amount });
      if (topic0 === TRANSFER_TOPIC && standard !== "erc1155") {
        if (standard === "erc20") {
          if (topics.length !== 3 || log.data.length !== 66) throw new TransferLogShapeError(log, "ERC-20 Transfer");
          out.push(movement("erc20", "", topicAddress(topics[1]), topicAddress(topics[2]), BigInt(log.data)));
        } else {
          if (topics.length !== 4) throw new TransferLogShapeError(log, "ERC-721 Transfer");
          out.push(movement("erc721", BigInt(topics[3]).toString(), topicAddress(topics[1]), topicAddress(topics[2]), 1n));
        }
      } else if (standard === "erc1155" && topic0 === TRANSFER_SINGLE_TOPIC) {
        if (topics.length !== 4 || log.data.length !== 130) throw new TransferLogShapeError(log, "ERC-1155 TransferSingle");
        out.push(movement("erc1155", word(log.data, 0).toString(), topicAddress(topics[2]), topicAddress(topics[3]), word(log.data, 1)));
      } else if (standard === "erc1155" && topic0 === TRANSFER_BATCH_TOPIC) {
        if (topics.length !== 4) throw new TransferLogShapeError(log, "ERC-1155 TransferBatch");
        let ids: bigint[];
        let values: bigint[];
        try {
          [ids, values] = abi.decode(["uint256[]", "uint256[]"], log.data).toArray().map((a) => (a as bigint[]).slice()) as [bigint[], bigint[]];
        } catch {
          throw new TransferLogShapeError(log, "ERC-1155 TransferBatch");
        }
        if (ids.length !== values.length) throw new TransferLogShapeError(log, "ERC-1155 TransferBatch");
        const from = topicAddress(topics[2]);
        const to = topicAddress(topics[3]);
        ids.forEach((tokenId, i) => out.push(movement("erc1155", tokenId.toString(), from, to, values[i], i)));
      } else if (standard === "erc20" && (topic0 === DEPOSIT_TOPIC || topic0 === WITHDRAWAL_TOPIC) && topics.length === 2 && log.data.length === 66) {
        const holder = topicAddress(topics[1]);
        const amount = BigInt(log.data);
        (wrapped ??= []).push(topic0 === DEPOSIT_TOPIC ? movement("erc20", "", ZERO, holder, amount) : movement("erc20", "", holder, ZERO, amount));
      }
    } catch (err) {
      if (!rejected || !(err instanceof TransferLogShapeError)) throw err;
      rejected.set(token, err.message);
    }
  }
  if (wrapped) {
    const logged = new Set(out.filter((m) => m.from === ZERO || m.to === ZERO).map(mintKey));
    for (const m of wrapped) if (!logged.has(mintKey(m))) out.push(m);
    out.sort((a, b) => a.blockNumber - b.blockNumber || a.txIndex - b.txIndex || a.ord - b.ord);
  }
  return rejected && rejected.size > 0 ? out.filter((m) => !rejected.has(m.token)) : out;
}

const ZERO = "0x0000000000000000000000000000000000000000";
const mintKey = (m: Movement) => `${m.txHash}|${m.token}|${m.from}|${m.to}|${m.amount}`;
