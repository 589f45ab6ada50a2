import type { BlockRef } from "../chain/types";
import { splitRowText, statementLine, type StatementLine, type StatementRow } from "./index-store";
import { ETHER, type MovementKind } from "./movement";
import { anchorOf, check, isoTime, type Cell, type Report } from "./report";
import { resolveRange, type ReportDeps } from "./report-context";
import type { NamedAddress } from "./reporting-scope";
import { balanceOfAt, etherBalanceAt } from "./onchain";
import { etherNotFollowedNote, tokenNotes } from "./holdings";
import { tokenView } from "./token-view";

export interface StatementOptions {
  account: string;
  from?: string;
  to?: string;
  /** 2026-Q3, 2026-07 or 2026: the blocks whose timestamps fall in it. */
  period?: string;
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
  symbol?: string;
  /** A `balances: state` token: balances are read from the node, so rebases show as adjustment rows. */
  state: boolean;
  /** The account's movements in the range, as the index read them (see ledgerLines). */
  rows: StatementRow[];
}

/** A ledger's movements as objects. */
export const ledgerLines = (l: Ledger, account: string): StatementLine[] => l.rows.map((r) => statementLine(r, account, l.token, l.tokenId));


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
  const aside = store.unverifiable();
  const ledger = (token: string, tokenId: string): Ledger => {
    const key = token + "|" + tokenId;
    let l = byAsset.get(key);
    if (!l) {
      const configured = token === ETHER ? undefined : scope.token("token", token);
      const view = configured && tokenView(store, scope, configured, aside);
      const opening = store.balance(token, tokenId, account.address, before);
      l = {
        asset: configured ? configured.name + (tokenId ? ` #${tokenId}` : "") : "ETH",
        token,
        tokenId,
        decimals: view ? view.decimals : 18,
        symbol: view ? (view.symbol ?? undefined) : "ETH",
        state: view?.mode === "state",
        opening,
        running: opening,
        closing: store.balance(token, tokenId, account.address, to.number),
        rows: [],
      };
      byAsset.set(key, l);
    }
    return l;
  };
  // Assets with a balance but no movement still get a (quiet) statement.
  if (scope.followsEther(account.address)) ledger(ETHER, "");
  for (const t of scope.tokens()) {
    if (aside.has(t.address)) continue;
    if (t.standard === "erc1155") for (const { tokenId } of store.idsOf(t.address, account.address, before)) ledger(t.address, tokenId);
    else ledger(t.address, "");
  }
  for (const { token, tokenId, rows } of store.statementRows(account.address, from.number, to.number)) {
    const l = ledger(token, tokenId);
    l.rows = l.rows.length === 0 ? rows : l.rows.concat(rows);
  }
  const etherRows = byAsset.get(ETHER + "|")?.rows ?? [];
  const statuses = store.txStatuses([...new Set(etherRows.map((r) => splitRowText(r[2])[0]))]);

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
    const amount = (value: bigint) => ({ amount: value, decimals: l.decimals, symbol: l.symbol });
    let totalIn = 0n;
    let totalOut = 0n;
    const rows: Cell[][] = new Array(l.rows.length + 2);
    rows[0] = [before, "", "", "opening balance", "", "", null, null, amount(l.opening)];
    // The hot loop of a large statement: one row per movement straight from the index's rows, with the
    // names and times of repeated counterparties and blocks looked up once.
    const names = new Map<string, string>();
    const ether = l.token === ETHER;
    let lastTimestamp = -1;
    let time = "";
    let running = l.running;
    for (let i = 0; i < l.rows.length; i++) {
      const [blockNumber, timestamp, text, side, amountText] = l.rows[i];
      const [txHash, counterparty, kind, item] = splitRowText(text);
      const value = BigInt(amountText);
      const incoming = side & 2 ? value : 0n;
      const outgoing = side & 1 ? value : 0n;
      running += incoming - outgoing;
      totalIn += incoming;
      totalOut += outgoing;
      let name = describe(kind, side);
      if (name === undefined) {
        name = names.get(counterparty);
        if (name === undefined) {
          const label = scope.label(counterparty);
          name = label === counterparty ? "" : label;
          names.set(counterparty, name);
        }
      }
      const shown = kind === "fee:tip" && side === 2 ? "coinbase" : kind;
      const failed = ether && statuses.get(txHash) === 0 ? " (reverted tx)" : "";
      const movement = (kind === "erc721" ? `erc721 #${item}` : shown) + failed;
      if (timestamp !== lastTimestamp) {
        lastTimestamp = timestamp;
        time = isoTime(timestamp);
      }
      rows[i + 1] = [blockNumber, time, txHash, movement, counterparty, name, incoming ? amount(incoming) : null, outgoing ? amount(outgoing) : null, amount(running)];
    }
    l.running = running;
    rows[rows.length - 1] = [to.number, isoTime(to.timestamp), "", "closing balance", "", "", amount(totalIn), amount(totalOut), amount(l.closing)];
    report.sections.push({ title: l.asset, columns: ["block", "time", "tx", "movement", "counterparty", "name", "in", "out", "balance"], rows });
    report.summary.push([`${l.asset} net change`, amount(totalIn - totalOut)]);
  }
  return { report, ledgers };
}

/**
 * Per-row reconciliation of an ether ledger: the running balance after the last row of a block must be
 * eth_getBalance at that block, which catches any movement the index missed (a fee, a tip, a
 * withdrawal) at the block where it happened. Every block with a movement is checked up to
 * `reporting.reconcileRows`; beyond it an even spread (first and last included), and the summary says
 * how many of how many.
 */
async function reconcileRows(deps: ReportDeps, report: Report, l: Ledger, account: string): Promise<void> {
  const section = report.sections.find((s) => s.title === l.asset)!;
  const afterBlock = new Map<number, bigint>();
  for (const row of section.rows.slice(1, -1)) {
    const balance = row[8];
    if (typeof row[0] === "number" && balance && typeof balance === "object") afterBlock.set(row[0], balance.amount);
  }
  const blocks = [...afterBlock.keys()];
  const limit = deps.scope.config.reconcileRows;
  let picked = blocks;
  if (blocks.length > limit) {
    const step = (blocks.length - 1) / Math.max(limit - 1, 1);
    picked = limit === 0 ? [] : [...new Set(Array.from({ length: limit }, (_, i) => blocks[Math.round(i * step)]))];
  }
  const onNode = await Promise.all(picked.map((b) => etherBalanceAt(deps.rpc, account, b)));
  picked.forEach((b, i) => report.checks.push(check(`${l.asset}: running balance after block ${b} = eth_getBalance at block ${b}`, onNode[i], afterBlock.get(b)!)));
  report.summary.push([
    `${l.asset} rows reconciled`,
    `${picked.length} of ${blocks.length} blocks with movements checked against eth_getBalance${picked.length < blocks.length ? ` (an even sample; reporting.reconcileRows is ${limit})` : ""}`,
  ]);
}

/** What a row is, where the counterparty alone does not say it. */
function describe(kind: MovementKind, side: number): string | undefined {
  switch (kind) {
    case "fee:base":
      return "base fee (burnt)";
    case "fee:blob":
      return "blob fee (burnt)";
    case "fee:tip":
      return side === 2 ? "priority fee received as fee recipient" : "priority fee to the fee recipient";
    case "coinbase":
      return "priority fee received as fee recipient";
    case "withdrawal":
      return "beacon withdrawal";
    default:
      return undefined;
  }
}

/**
 * Every movement of an account in a block range with a running balance per asset, like a bank statement.
 * Checks: opening + in - out = the indexed closing balance, and both ends equal the node's balances.
 */
export async function statementReport(deps: ReportDeps, options: StatementOptions): Promise<Report> {
  const account = deps.scope.address("--account", options.account);
  const { from, to } = await resolveRange(deps, options.from, options.to, options.period);
  const { report, ledgers } = buildStatement({ ...deps, chainId: deps.rpc.chainId }, account, from, to);
  const before = from.number - 1;
  for (const l of ledgers) {
    const onChain = (block: number) =>
      l.token === ETHER ? etherBalanceAt(deps.rpc, account.address, block) : balanceOfAt(deps.rpc, deps.scope.token("token", l.token), account.address, l.tokenId, block);
    if (l.state) {
      await stateLedger(report, l, account.address, onChain, before, to);
      continue;
    }
    if (l.token === ETHER) await reconcileRows(deps, report, l, account.address);
    report.checks.push(check(`${l.asset}: opening + in - out = closing balance`, l.closing, l.running));
    report.checks.push(check(`${l.asset}: opening balance = node's balance at block ${before}`, await onChain(before), l.opening));
    report.checks.push(check(`${l.asset}: closing balance = node's balance at block ${to.number}`, await onChain(to.number), l.closing));
  }
  report.notes.push(...etherNotFollowedNote(deps, account), ...tokenNotes(deps));
  return report;
}

/**
 * A `balances: state` token's statement: opening and closing balances and the balance after every block
 * with a movement come from balanceOf; what the movements do not explain (a rebase, share accounting) is
 * its own "adjustment" row before the block's movements, so each row's balance is the node's.
 */
async function stateLedger(report: Report, l: Ledger, account: string, onChain: (block: number) => Promise<bigint>, before: number, to: BlockRef): Promise<void> {
  const section = report.sections.find((s) => s.title === l.asset)!;
  const amount = (value: bigint) => ({ amount: value, decimals: l.decimals, symbol: l.symbol });
  let running = await onChain(before);
  l.opening = running;
  const rows: Cell[][] = [[before, "", "", "opening balance", "", "", null, null, amount(running)]];
  const byBlock = new Map<number, StatementLine[]>();
  for (const m of ledgerLines(l, account)) byBlock.set(m.blockNumber, [...(byBlock.get(m.blockNumber) ?? []), m]);
  let totalIn = 0n;
  let totalOut = 0n;
  const adjust = (block: number, time: string, actual: bigint) => {
    if (actual === running) return;
    const delta = actual - running;
    rows.push([block, time, "", "adjustment (rebase or share accounting)", "", "", delta > 0n ? amount(delta) : null, delta < 0n ? amount(-delta) : null, amount(actual)]);
    if (delta > 0n) totalIn += delta;
    else totalOut -= delta;
    running = actual;
  };
  for (const [block, moves] of byBlock) {
    const net = moves.reduce((n, m) => n + (m.to === account ? m.amount : 0n) - (m.from === account ? m.amount : 0n), 0n);
    const after = await onChain(block);
    adjust(block, isoTime(moves[0].timestamp), after - net);
    for (const m of moves) {
      const incoming = m.to === account ? m.amount : 0n;
      const outgoing = m.from === account ? m.amount : 0n;
      running += incoming - outgoing;
      totalIn += incoming;
      totalOut += outgoing;
      const counterparty = m.from === account ? m.to : m.from;
      rows.push([m.blockNumber, isoTime(m.timestamp), m.txHash, m.kind, counterparty, "", incoming ? amount(incoming) : null, outgoing ? amount(outgoing) : null, amount(running)]);
    }
  }
  adjust(to.number, isoTime(to.timestamp), await onChain(to.number));
  l.closing = running;
  rows.push([to.number, isoTime(to.timestamp), "", "closing balance", "", "", amount(totalIn), amount(totalOut), amount(running)]);
  section.rows = rows;
  report.summary = report.summary.map(([k, v]) => (k === `${l.asset} net change` ? [k, amount(totalIn - totalOut)] : [k, v]));
  report.notes.push(`${l.asset}: balances from state (balanceOf after each block with a movement); adjustment rows are changes no Transfer explains`);
  report.checks.push(check(`${l.asset}: closing balance = node's balance at block ${to.number}`, await onChain(to.number), running));
}
