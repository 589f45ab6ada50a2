import type { BlockRef, RpcClient } from "../chain/types";
import { blockByNumber, hex } from "./chain-reader";
import { anchorOf, type Cell, type Report } from "./report";
import { ReportArgumentError } from "./reporting-scope";
import type { SystemIndex } from "./system-index";
import { taxonomyGroup, type Taxonomy } from "./taxonomy";
import { TRANSFER_TOPIC, type RpcLog } from "./transfer-logs";

export interface SystemDeps {
  rpc: RpcClient;
  index: SystemIndex;
}

async function anchor(deps: SystemDeps): Promise<BlockRef> {
  const cursor = deps.index.cursor();
  if (!cursor) throw new ReportArgumentError("--config", "the system-wide index is empty; run `failsafe ledger index` first");
  const block = await blockByNumber(deps.rpc, cursor.number);
  if (!block) throw new ReportArgumentError("--config", `block ${cursor.number} of the system-wide index is not known to the node`);
  return block;
}

/** Every token the chain has seen Transfers of, ranked by activity or by holders. */
export async function topTokensReport(deps: SystemDeps, options: { by?: string; top?: string }): Promise<Report> {
  const by = options.by ?? "transfers";
  if (by !== "transfers" && by !== "holders") throw new ReportArgumentError("--by", `"${by}" is not one of transfers, holders`);
  const top = Number(options.top ?? 20);
  if (!Number.isInteger(top) || top <= 0) throw new ReportArgumentError("--top", `"${options.top}" is not a positive whole number`);
  const block = await anchor(deps);
  const tokens = deps.index.topTokens(by, top);
  const size = deps.index.size();
  return {
    kind: "system-tokens",
    title: `Top tokens by ${by}`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(block),
    summary: [
      ["tokens seen", size.tokens],
      ["addresses", size.addresses],
      ["non-zero balances", size.balances],
    ],
    sections: [
      {
        title: "tokens",
        columns: ["rank", "token", "standard", "transfers", "holders", "unreadable logs", "status"],
        rows: tokens.map((t, i) => [i + 1, t.address, t.standard, t.transfers, t.holders, t.unreadable, t.incomplete ? `incomplete: ${t.incomplete}` : "complete"]),
      },
    ],
    checks: [],
    notes: ["every ERC-20 and ERC-721 Transfer on the chain since systemWide.fromBlock, of any contract; amounts are base units (no token is configured here)"],
  };
}

/** What an address holds across every token the system-wide index has seen. */
export async function addressHoldingsReport(deps: SystemDeps, options: { address: string }): Promise<Report> {
  if (!/^0x[0-9a-fA-F]{40}$/.test(options.address)) throw new ReportArgumentError("--address", `"${options.address}" is not an address`);
  const address = options.address.toLowerCase();
  const block = await anchor(deps);
  const holdings = deps.index.holdingsOf(address);
  return {
    kind: "system-holdings",
    title: `Holdings of ${address} across all tokens`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(block),
    summary: [["tokens held", holdings.length]],
    sections: [{ title: "holdings", columns: ["token", "standard", "balance"], rows: holdings.map((h) => [h.token, h.standard, { amount: h.balance, decimals: 0 }]) }],
    checks: [],
    notes: [],
  };
}

/**
 * A contract group from the taxonomy (or every group of an industry): its members' holdings across all
 * tokens with totals, and over a block range its Transfers in and out, where transfers between two
 * members are netted out (shown as internal volume, not as flows of the group).
 */
export async function systemGroupReport(deps: SystemDeps, taxonomy: Taxonomy, options: { group: string; from?: string; to?: string }): Promise<Report> {
  const group = taxonomyGroup(taxonomy, deps.rpc.chainId, options.group);
  if (!group) {
    const known = [...new Set((taxonomy.chains[String(deps.rpc.chainId)] ?? []).flatMap((g) => [g.name, g.industry]))].join(", ") || "none for this chain";
    throw new ReportArgumentError("--group", `unknown group or industry "${options.group}" in the taxonomy (known: ${known})`);
  }
  const block = await anchor(deps);
  const members = new Set(group.members);
  const memberRows: Cell[][] = [];
  const totals = new Map<string, bigint>();
  for (const m of group.members) {
    for (const h of deps.index.holdingsOf(m)) {
      memberRows.push([m, h.token, { amount: h.balance, decimals: 0 }]);
      totals.set(h.token, (totals.get(h.token) ?? 0n) + h.balance);
    }
  }
  const from = options.from === undefined ? Number(deps.index.meta("from_block") ?? 0) : Number(options.from);
  const to = options.to === undefined ? block.number : Number(options.to);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from > to || to > block.number) {
    throw new ReportArgumentError("--from", `blocks ${options.from ?? from}-${options.to ?? to} are not a range within the index (up to block ${block.number})`);
  }
  const flows = new Map<string, { in: bigint; out: bigint; internal: bigint; count: number }>();
  const seen = new Set<string>();
  const topics = group.members.map((m) => "0x" + m.slice(2).padStart(64, "0"));
  for (const filter of [[TRANSFER_TOPIC, topics], [TRANSFER_TOPIC, null, topics]]) {
    for (let start = from; start <= to; start += 2_000) {
      const logs = await deps.rpc.request<RpcLog[]>("eth_getLogs", [{ fromBlock: hex(start), toBlock: hex(Math.min(to, start + 1_999)), topics: filter }]);
      for (const log of logs) {
        const key = log.blockHash + log.logIndex;
        if (seen.has(key) || log.topics.length !== 3 || log.data.length !== 66) continue;
        seen.add(key);
        const token = log.address.toLowerCase();
        const sender = "0x" + log.topics[1].slice(26).toLowerCase();
        const receiver = "0x" + log.topics[2].slice(26).toLowerCase();
        const amount = BigInt(log.data);
        const f = flows.get(token) ?? { in: 0n, out: 0n, internal: 0n, count: 0 };
        f.count++;
        if (members.has(sender) && members.has(receiver)) f.internal += amount;
        else if (members.has(receiver)) f.in += amount;
        else f.out += amount;
        flows.set(token, f);
      }
    }
  }
  const amount = (value: bigint) => ({ amount: value, decimals: 0 });
  return {
    kind: "system-group",
    title: `Group ${group.name} (${group.industry})`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(block),
    summary: [
      ["group", group.name],
      ["industry", group.industry],
      ["members", group.members.length],
      ["flows over blocks", `${from} to ${to}`],
    ],
    sections: [
      { title: "totals", columns: ["token", "balance"], rows: [...totals.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, b]) => [t, amount(b)]) },
      { title: "members", columns: ["member", "token", "balance"], rows: memberRows },
      {
        title: "flows",
        columns: ["token", "in", "out", "net", "internal (netted out)", "transfers"],
        rows: [...flows.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, f]) => [t, amount(f.in), amount(f.out), amount(f.in - f.out), amount(f.internal), f.count]),
      },
    ],
    checks: [],
    notes: ["ERC-20 transfers between two members of the group move nothing into or out of it: they are listed as internal volume and left out of in, out and net"],
  };
}
