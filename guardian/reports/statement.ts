import type { StoredMovement } from "../state/index-store";
import { balanceTokenId, ETHER } from "./movement";
import { anchorOf, check, type Cell, type Check, type Report, type Section } from "./report";
import { resolveRange, type ReportDeps } from "./report-context";
import { ReportArgumentError } from "./reporting-scope";
import { balanceOfAt, etherBalanceAt } from "./onchain";
import { etherNotFollowedNote } from "./holdings";

export interface StatementOptions {
  account: string;
  from?: string;
  to?: string;
}

interface Ledger {
  asset: string;
  token: string;
  tokenId: string;
  decimals: number;
  opening: bigint;
  lines: StoredMovement[];
}

const iso = (timestamp: number) => new Date(timestamp * 1000).toISOString().replace(".000Z", "Z");

/**
 * Every movement of an account in a block range with a running balance per asset, like a bank statement:
 * opening balance (end of the block before the range), each movement in chain order, closing balance.
 * Checks: opening + in - out = the indexed closing balance, and both ends equal the node's balances.
 */
export async function statementReport(deps: ReportDeps, options: StatementOptions): Promise<Report> {
  const account = deps.scope.address("--account", options.account);
  const { from, to } = await resolveRange(deps, options.from, options.to);
  const before = from.number - 1;
  const movements = deps.store.movementsOf(account.address, from.number, to.number);

  const ledgers = new Map<string, Ledger>();
  const ledger = (token: string, tokenId: string): Ledger => {
    const key = token + "|" + tokenId;
    let l = ledgers.get(key);
    if (!l) {
      const configured = token === ETHER ? undefined : deps.scope.token("token", token);
      l = {
        asset: token === ETHER ? "ETH" : configured!.name + (tokenId ? ` #${tokenId}` : ""),
        token,
        tokenId,
        decimals: token === ETHER ? 18 : configured!.standard === "erc20" ? (configured!.decimals ?? 18) : 0,
        opening: deps.store.balance(token, tokenId, account.address, before),
        lines: [],
      };
      ledgers.set(key, l);
    }
    return l;
  };
  // Assets with a balance but no movement still get a (quiet) statement.
  if (deps.scope.followsEther(account.address)) ledger(ETHER, "");
  for (const t of deps.scope.tokens()) {
    if (t.standard === "erc1155") for (const { tokenId } of deps.store.idsOf(t.address, account.address, before)) ledger(t.address, tokenId);
    else ledger(t.address, "");
  }
  for (const m of movements) ledger(m.token, balanceTokenId(m.kind, m.tokenId)).lines.push(m);

  const sections: Section[] = [];
  const checks: Check[] = [];
  const summary: Report["summary"] = [["account", account.name === account.address ? account.address : `${account.name} (${account.address})`]];
  for (const l of [...ledgers.values()].sort((a, b) => (a.token === ETHER ? -1 : b.token === ETHER ? 1 : a.asset < b.asset ? -1 : 1))) {
    const amount = (value: bigint) => ({ amount: value, decimals: l.decimals });
    let running = l.opening;
    let totalIn = 0n;
    let totalOut = 0n;
    const rows: Cell[][] = [[before, "", "", "opening balance", "", "", null, null, amount(l.opening)]];
    for (const m of l.lines) {
      const incoming = m.to === account.address ? m.amount : 0n;
      const outgoing = m.from === account.address ? m.amount : 0n;
      running += incoming - outgoing;
      totalIn += incoming;
      totalOut += outgoing;
      const counterparty = m.from === account.address ? m.to : m.from;
      const id = m.kind === "erc721" ? `#${m.tokenId}` : "";
      rows.push([m.blockNumber, iso(m.timestamp), m.txHash, m.kind + (id ? ` ${id}` : ""), counterparty, deps.scope.label(counterparty) === counterparty ? "" : deps.scope.label(counterparty), incoming ? amount(incoming) : null, outgoing ? amount(outgoing) : null, amount(running)]);
    }
    const closing = deps.store.balance(l.token, l.tokenId, account.address, to.number);
    rows.push([to.number, iso(to.timestamp), "", "closing balance", "", "", amount(totalIn), amount(totalOut), amount(closing)]);
    sections.push({ title: l.asset, columns: ["block", "time", "tx", "movement", "counterparty", "name", "in", "out", "balance"], rows });
    summary.push([`${l.asset} net change`, amount(totalIn - totalOut)]);
    checks.push(check(`${l.asset}: opening + in - out = closing balance`, closing, running));
    const onChain = (block: number) =>
      l.token === ETHER ? etherBalanceAt(deps.rpc, account.address, block) : balanceOfAt(deps.rpc, deps.scope.token("token", l.token), account.address, l.tokenId, block);
    checks.push(check(`${l.asset}: opening balance = node's balance at block ${before}`, await onChain(before), l.opening));
    checks.push(check(`${l.asset}: closing balance = node's balance at block ${to.number}`, await onChain(to.number), closing));
  }
  return {
    kind: "statement",
    title: `Statement of ${account.name}, blocks ${from.number} to ${to.number}`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(to),
    from: anchorOf(from),
    summary,
    sections,
    checks,
    notes: etherNotFollowedNote(deps, account),
  };
}
