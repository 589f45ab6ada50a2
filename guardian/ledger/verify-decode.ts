import type { TokenStandard } from "./config";

/**
 * The verifier's own reading of transfer logs, deliberately separate from the indexer's decoder: a third
 * party checks the export against the node, and a bug shared by the two would hide itself. Only the
 * standard shapes are read (ERC-20 Transfer with 3 topics and one data word, ERC-721 Transfer with 4
 * topics, ERC-1155 TransferSingle/TransferBatch) plus WETH9's Deposit/Withdrawal; anything else of a
 * token is returned as a problem, never guessed.
 */
export const TOPICS = {
  transfer: "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
  single: "0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62",
  batch: "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb",
  deposit: "0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c",
  withdrawal: "0x7fcf532c15f0a6db0bd6d0e038bea71d30d808c7d98cb3bf7268a95bf5081b65",
};

export interface VerifyLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed?: boolean;
}

export interface Transfer {
  block: number;
  blockHash: string;
  txIndex: number;
  txHash: string;
  logIndex: number;
  position: number;
  token: string;
  tokenId: string;
  from: string;
  to: string;
  amount: bigint;
}

const ZERO = "0x" + "0".repeat(40);
const address = (topic: string) => "0x" + topic.slice(-40).toLowerCase();
const wordAt = (data: string, i: number) => BigInt("0x" + (data.slice(2 + i * 64, 2 + (i + 1) * 64) || "0"));

function words(data: string): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; 2 + i * 64 < data.length; i++) out.push(wordAt(data, i));
  return out;
}

/** uint256[] at the byte offset `offset` of ABI data: a length word, then the items. */
function array(all: bigint[], offset: bigint): bigint[] | null {
  const start = Number(offset / 32n);
  if (offset % 32n !== 0n || start >= all.length) return null;
  const length = Number(all[start]);
  if (start + 1 + length > all.length) return null;
  return all.slice(start + 1, start + 1 + length);
}

export function decodeForVerify(logs: readonly VerifyLog[], standardOf: (token: string) => TokenStandard): { transfers: Transfer[]; problems: Map<string, string> } {
  const transfers: Transfer[] = [];
  const problems = new Map<string, string>();
  const wrapped: Transfer[] = [];
  for (const log of logs) {
    if (log.removed) continue;
    const token = log.address.toLowerCase();
    const standard = standardOf(token);
    const [t0, t1, t2, t3] = log.topics.map((t) => t.toLowerCase());
    const at = { block: Number(log.blockNumber), blockHash: log.blockHash.toLowerCase(), txIndex: Number(log.transactionIndex), txHash: log.transactionHash.toLowerCase(), logIndex: Number(log.logIndex), token };
    const bad = (what: string) => problems.has(token) || problems.set(token, `log ${at.logIndex} of tx ${at.txHash} is a ${what} this verifier cannot read for a ${standard} token`);
    if (t0 === TOPICS.transfer) {
      if (standard === "erc20" && log.topics.length === 3 && log.data.length === 66) transfers.push({ ...at, position: 0, tokenId: "", from: address(t1), to: address(t2), amount: BigInt(log.data) });
      else if (standard === "erc721" && log.topics.length === 4) transfers.push({ ...at, position: 0, tokenId: BigInt(t3).toString(), from: address(t1), to: address(t2), amount: 1n });
      else bad(`Transfer with ${log.topics.length} topics and ${(log.data.length - 2) / 2} data bytes`);
    } else if ((t0 === TOPICS.single || t0 === TOPICS.batch) && standard === "erc1155") {
      if (log.topics.length !== 4) {
        bad("TransferSingle/Batch of the wrong shape");
        continue;
      }
      const all = words(log.data);
      const ids = t0 === TOPICS.single ? all.slice(0, 1) : array(all, all[0] ?? -1n);
      const values = t0 === TOPICS.single ? all.slice(1, 2) : array(all, all[1] ?? -1n);
      if (!ids || !values || ids.length !== values.length || (t0 === TOPICS.single && all.length !== 2)) {
        bad("TransferSingle/Batch of the wrong shape");
        continue;
      }
      ids.forEach((id, i) => transfers.push({ ...at, position: i, tokenId: id.toString(), from: address(t2), to: address(t3), amount: values[i] }));
    } else if ((t0 === TOPICS.deposit || t0 === TOPICS.withdrawal) && standard === "erc20" && log.topics.length === 2 && log.data.length === 66) {
      const holder = address(t1);
      wrapped.push({ ...at, position: 0, tokenId: "", from: t0 === TOPICS.deposit ? ZERO : holder, to: t0 === TOPICS.deposit ? holder : ZERO, amount: BigInt(log.data) });
    }
  }
  const logged = new Set(transfers.map((t) => `${t.txHash}|${t.token}|${t.from}|${t.to}|${t.amount}`));
  for (const w of wrapped) if (!logged.has(`${w.txHash}|${w.token}|${w.from}|${w.to}|${w.amount}`)) transfers.push(w);
  transfers.sort((a, b) => a.block - b.block || a.txIndex - b.txIndex || a.logIndex - b.logIndex || a.position - b.position);
  return { transfers: transfers.filter((t) => !problems.has(t.token)), problems };
}
