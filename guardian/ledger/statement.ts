import type { BlockRef } from "../chain/types";
import type { StoredMovement } from "./index-store";
import { balanceTokenId, ETHER } from "./movement";
import { anchorOf, check, isoTime, type Cell, type Report } from "./report";
import { resolveRange, type ReportDeps } from "./report-context";
import type { NamedAddress } from "./reporting-scope";
import { balanceOfAt, etherBalanceAt } from "./onchain";
import { etherNotFollowedNote } from "./holdings";

export interface StatementOptions {
  account: string;
  from?: string;
  to?: string;
}

export interface Ledger {
  asset: string;
  token: string;
  tokenId: string;
  decimals: number;
  opening: bigint;
  /** opening + in - out over the movements. */
  running: bigint;
  /** The index's balance at the end of the range. */
  closing: bigint;
  lines: StoredMovement[];
}


/**
 * The statement from the index alone: per asset the opening balance (end of the block before the
 * range), each movement in chain order with the running balance, and the closing balance.
 */
export function buildStatement(
  index: Pick<ReportDeps, "store" | "scope"> & { chainId: number },
  account: NamedAddress,
  from: BlockRef,
  to: BlockRef,
): { report: Report; ledgers: Ledger[] } {
  const { store, scope } = index;
  const before = from.number - 1;
  const byAsset = new Map<string, Ledger>();
  const ledger = (token: string, tokenId: string): Ledger => {
    const key = token + "|" + tokenId;
    let l = byAsset.get(key);
    if (!l) {
      const configured = token === ETHER ? undefined : scope.token("token", token);
      const opening = store.balance(token, tokenId, account.address, before);
      l = {
        asset: configured ? configured.name + (tokenId ? ` #${tokenId}` : "") : "ETH",
        token,
        tokenId,
        decimals: configured ? (configured.standard === "erc20" ? (configured.decimals ?? 18) : 0) : 18,
        opening,
        running: opening,
        closing: store.balance(token, tokenId, account.address, to.number),
        lines: [],
      };
      byAsset.set(key, l);
    }
    return l;
  };
  // Assets with a balance but no movement still get a (quiet) statement.
  if (scope.followsEther(account.address)) ledger(ETHER, "");
  for (const t of scope.tokens()) {
    if (t.standard === "erc1155") for (const { tokenId } of store.idsOf(t.address, account.address, before)) ledger(t.address, tokenId);
    else ledger(t.address, "");
  }
  for (const m of store.movementsOf(account.address, from.number, to.number)) ledger(m.token, balanceTokenId(m.kind, m.tokenId)).lines.push(m);

  const ledgers = [...byAsset.values()].sort((a, b) => (a.token === ETHER ? -1 : b.token === ETHER ? 1 : a.asset < b.asset ? -1 : 1));
  const report: Report = {
    kind: "statement",
    title: `Statement of ${account.name}, blocks ${from.number} to ${to.number}`,
    chainId: index.chainId,
    anchor: anchorOf(to),
    from: anchorOf(from),
    summary: [["account", account.name === account.address ? account.address : `${account.name} (${account.address})`]],
    sections: [],
    checks: [],
    notes: [],
  };
  for (const l of ledgers) {
    const amount = (value: bigint) => ({ amount: value, decimals: l.decimals });
    let totalIn = 0n;
    let totalOut = 0n;
    const rows: Cell[][] = [[before, "", "", "opening balance", "", "", null, null, amount(l.opening)]];
    for (const m of l.lines) {
      const incoming = m.to === account.address ? m.amount : 0n;
      const outgoing = m.from === account.address ? m.amount : 0n;
      l.running += incoming - outgoing;
      totalIn += incoming;
      totalOut += outgoing;
      const counterparty = m.from === account.address ? m.to : m.from;
      const name = m.kind === "fee" ? "gas fee" : m.kind === "withdrawal" ? "beacon withdrawal" : scope.label(counterparty);
      const movement = m.kind === "erc721" ? `erc721 #${m.tokenId}` : m.kind;
      rows.push([m.blockNumber, isoTime(m.timestamp), m.txHash, movement, counterparty, name === counterparty ? "" : name, incoming ? amount(incoming) : null, outgoing ? amount(outgoing) : null, amount(l.running)]);
    }
    rows.push([to.number, isoTime(to.timestamp), "", "closing balance", "", "", amount(totalIn), amount(totalOut), amount(l.closing)]);
    report.sections.push({ title: l.asset, columns: ["block", "time", "tx", "movement", "counterparty", "name", "in", "out", "balance"], rows });
    report.summary.push([`${l.asset} net change`, amount(totalIn - totalOut)]);
  }
  return { report, ledgers };
}

/**
 * Every movement of an account in a block range with a running balance per asset, like a bank statement.
 * Checks: opening + in - out = the indexed closing balance, and both ends equal the node's balances.
 */
export async function statementReport(deps: ReportDeps, options: StatementOptions): Promise<Report> {
  const account = deps.scope.address("--account", options.account);
  const { from, to } = await resolveRange(deps, options.from, options.to);
  const { report, ledgers } = buildStatement({ ...deps, chainId: deps.rpc.chainId }, account, from, to);
  const before = from.number - 1;
  for (const l of ledgers) {
    const onChain = (block: number) =>
      l.token === ETHER ? etherBalanceAt(deps.rpc, account.address, block) : balanceOfAt(deps.rpc, deps.scope.token("token", l.token), account.address, l.tokenId, block);
    report.checks.push(check(`${l.asset}: opening + in - out = closing balance`, l.closing, l.running));
    report.checks.push(check(`${l.asset}: opening balance = node's balance at block ${before}`, await onChain(before), l.opening));
    report.checks.push(check(`${l.asset}: closing balance = node's balance at block ${to.number}`, await onChain(to.number), l.closing));
  }
  report.notes.push(...etherNotFollowedNote(deps, account));
  return report;
}
