// The system-wide index part of bench:reports: BENCH_SYSTEM_TRANSFERS synthetic ERC-20 Transfer logs of
// 1,000 tokens among 1,000,000 addresses (Zipf for both the token and the addresses), ingested through
// SystemIndex.ingest in eth_getLogs-sized batches. Reports the rate and the size of what it built.
import { statSync } from "node:fs";
import type { Database } from "better-sqlite3";
import { SystemIndex } from "../../guardian/ledger/system-index";
import { TRANSFER_TOPIC, type RpcLog } from "../../guardian/ledger/transfer-logs";

export interface SystemBenchResult {
  transfers: number;
  logsPerSec: number;
  seconds: number;
  tokens: number;
  addresses: number;
  balances: number;
  dbMb: number;
}

export function benchSystemIndex(db: Database, dbFile: string, transfers: number, random: () => number, zipf: (n: number) => () => number): SystemBenchResult {
  const TOKENS = 1_000;
  const ADDRESSES = 1_000_000;
  const BATCH = 100_000;
  const LOGS_PER_BLOCK = 200;
  const pickToken = zipf(TOKENS);
  const pickAddress = zipf(ADDRESSES);
  const index = new SystemIndex(db);
  const balances = new Map<number, number>();
  const tokenAddress = Array.from({ length: TOKENS }, (_, i) => "0x" + (0x7000000 + i).toString(16).padStart(40, "0"));
  const topic = (rank: number) => "0x" + (0x2000000 + rank).toString(16).padStart(64, "0");
  const zero = "0x" + "0".repeat(64);
  let made = 0;
  let ingestMs = 0;
  while (made < transfers) {
    const logs: RpcLog[] = [];
    for (let i = 0; i < BATCH && made < transfers; i++, made++) {
      const t = pickToken();
      const from = pickAddress();
      let to = pickAddress();
      if (to === from) to = (to + 1) % ADDRESSES;
      const key = t * 2_097_152 + from;
      const held = balances.get(key) ?? 0;
      const mint = held === 0;
      const amount = mint ? 1_000 + Math.floor(random() * 1_000) : Math.min(held, 1 + Math.floor(random() * 100));
      if (!mint) balances.set(key, held - amount);
      const toKey = t * 2_097_152 + to;
      balances.set(toKey, (balances.get(toKey) ?? 0) + amount);
      const block = Math.floor(made / LOGS_PER_BLOCK) + 1;
      logs.push({
        address: tokenAddress[t],
        topics: [TRANSFER_TOPIC, mint ? zero : topic(from), topic(to)],
        data: "0x" + amount.toString(16).padStart(64, "0"),
        blockNumber: "0x" + block.toString(16),
        blockHash: "0x" + block.toString(16).padStart(64, "0"),
        transactionHash: "0x" + made.toString(16).padStart(64, "0"),
        transactionIndex: "0x0",
        logIndex: "0x" + (made % LOGS_PER_BLOCK).toString(16),
      });
    }
    const body = JSON.stringify(logs);
    const last = Math.floor((made - 1) / LOGS_PER_BLOCK) + 1;
    const t0 = performance.now();
    index.ingest(JSON.parse(body) as RpcLog[], { number: last, hash: "0x" + last.toString(16).padStart(64, "0") });
    ingestMs += performance.now() - t0;
  }
  const size = index.size();
  const expected = [...balances.values()].filter((b) => b > 0).length;
  if (size.balances !== expected) throw new Error(`the system-wide index holds ${size.balances} non-zero balances; the generator made ${expected}`);
  db.pragma("wal_checkpoint(TRUNCATE)");
  return { transfers, logsPerSec: Math.round(transfers / (ingestMs / 1000)), seconds: Number((ingestMs / 1000).toFixed(1)), ...size, dbMb: Number((statSync(dbFile).size / 1e6).toFixed(1)) };
}
