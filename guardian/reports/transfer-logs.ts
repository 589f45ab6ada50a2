import { AbiCoder, id } from "ethers";
import type { TokenStandard } from "../config/reporting";
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
 * going through the ABI coder. Logs of other contracts, removed logs and malformed logs of a token
 * whose standard does not match are skipped: a contract may emit an event with the same topic and a
 * different layout (an ERC-721 Transfer from a token configured as ERC-20 is a configuration error
 * and is reported by the shape error instead).
 */
export function decodeTransferLogs(logs: readonly RpcLog[], standards: ReadonlyMap<string, TokenStandard>): Movement[] {
  const out: Movement[] = [];
  for (const log of logs) {
    if (log.removed) continue;
    const token = log.address.toLowerCase();
    const standard = standards.get(token);
    if (!standard) continue;
    const topic0 = log.topics[0];
    const base = {
      blockNumber: Number(log.blockNumber),
      blockHash: log.blockHash.toLowerCase(),
      txIndex: Number(log.transactionIndex),
      txHash: log.transactionHash.toLowerCase(),
    };
    const logIndex = Number(log.logIndex);
    if (topic0 === TRANSFER_TOPIC && standard !== "erc1155") {
      if (standard === "erc20") {
        if (log.topics.length !== 3 || log.data.length !== 66) throw new TransferLogShapeError(log, "ERC-20 Transfer");
        out.push({ ...base, ord: ordOfLog(logIndex), kind: "erc20", token, tokenId: "", from: topicAddress(log.topics[1]), to: topicAddress(log.topics[2]), amount: word(log.data, 0) });
      } else {
        if (log.topics.length !== 4) throw new TransferLogShapeError(log, "ERC-721 Transfer");
        out.push({ ...base, ord: ordOfLog(logIndex), kind: "erc721", token, tokenId: BigInt(log.topics[3]).toString(), from: topicAddress(log.topics[1]), to: topicAddress(log.topics[2]), amount: 1n });
      }
    } else if (standard === "erc1155" && topic0 === TRANSFER_SINGLE_TOPIC) {
      if (log.topics.length !== 4 || log.data.length !== 130) throw new TransferLogShapeError(log, "ERC-1155 TransferSingle");
      out.push({ ...base, ord: ordOfLog(logIndex), kind: "erc1155", token, tokenId: word(log.data, 0).toString(), from: topicAddress(log.topics[2]), to: topicAddress(log.topics[3]), amount: word(log.data, 1) });
    } else if (standard === "erc1155" && topic0 === TRANSFER_BATCH_TOPIC) {
      if (log.topics.length !== 4) throw new TransferLogShapeError(log, "ERC-1155 TransferBatch");
      let ids: bigint[];
      let values: bigint[];
      try {
        [ids, values] = abi.decode(["uint256[]", "uint256[]"], log.data).toArray().map((a) => (a as bigint[]).slice()) as [bigint[], bigint[]];
      } catch {
        throw new TransferLogShapeError(log, "ERC-1155 TransferBatch");
      }
      if (ids.length !== values.length) throw new TransferLogShapeError(log, "ERC-1155 TransferBatch");
      const from = topicAddress(log.topics[2]);
      const to = topicAddress(log.topics[3]);
      ids.forEach((tokenId, i) => out.push({ ...base, ord: ordOfLog(logIndex, i), kind: "erc1155", token, tokenId: tokenId.toString(), from, to, amount: values[i] }));
    }
  }
  return out;
}
