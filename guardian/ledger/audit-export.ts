import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BlockRef } from "../chain/types";
import type { ReportingToken } from "./config";
import { balanceTokenId, compareMovements, ETHER, ZERO_ADDRESS, type Movement } from "./movement";
import { resolveBlock, type ReportDeps } from "./report-context";
import { ReportArgumentError } from "./reporting-scope";
import { unverifiableText } from "./token-view";

export const EXPORT_FORMAT = "failsafe-audit-export/1";

export interface ExportAnchor {
  number: number;
  hash: string;
}

/**
 * What an export is about; everything a verifier needs to recompute it from a node, and nothing that
 * depends on when or where it was made.
 */
export interface ExportSubject {
  chainId: number;
  /** A configured token (all its transfers, all holders) or an account (everything it sent or received). */
  kind: "token" | "account";
  address: string;
  name: string;
  tokens: Pick<ReportingToken, "name" | "address" | "standard">[];
  /** Whether the account's ether (values, internal transfers, fees, withdrawals) is part of it. */
  ether: boolean;
  /** The state the export starts from (the block before the first indexed block) and its last block. */
  from: ExportAnchor;
  to: ExportAnchor;
}

export interface ExportMovement extends Movement {
  timestamp: number;
}

export interface ExportBalance {
  token: string;
  tokenId: string;
  holder: string;
  balance: bigint;
}

export interface ExportData {
  subject: ExportSubject;
  /** Ether at `from` (eth_getBalance), the starting point of the account's ether movements. */
  opening: ExportBalance[];
  movements: ExportMovement[];
  /** Balances at `to`. */
  balances: ExportBalance[];
}

const MOVEMENT_COLUMNS = ["block_number", "block_hash", "timestamp", "tx_index", "tx_hash", "ord", "kind", "token", "token_id", "from", "to", "amount"] as const;
const BALANCE_COLUMNS = ["token", "token_id", "holder", "balance"] as const;

const movementRecord = (m: ExportMovement) => ({
  block_number: m.blockNumber,
  block_hash: m.blockHash,
  timestamp: m.timestamp,
  tx_index: m.txIndex,
  tx_hash: m.txHash,
  ord: m.ord,
  kind: m.kind,
  token: m.token,
  token_id: m.tokenId,
  from: m.from,
  to: m.to,
  amount: m.amount.toString(),
});
const balanceRecord = (b: ExportBalance) => ({ token: b.token, token_id: b.tokenId, holder: b.holder, balance: b.balance.toString() });

function csv(columns: readonly string[], records: Record<string, string | number>[]): string {
  return [columns.join(","), ...records.map((r) => columns.map((c) => String(r[c])).join(","))].join("\n") + "\n";
}

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";
export const sha256 = (bytes: string | Buffer) => createHash("sha256").update(bytes).digest("hex");

const compareBalances = (a: ExportBalance, b: ExportBalance) =>
  a.token < b.token ? -1 : a.token > b.token ? 1 : a.tokenId < b.tokenId ? -1 : a.tokenId > b.tokenId ? 1 : a.holder < b.holder ? -1 : a.holder > b.holder ? 1 : 0;

/**
 * The export's files, byte for byte: rows in a total order (chain order for movements, token/id/holder
 * for balances), fixed columns, amounts as decimal base units, no wall-clock time anywhere. The manifest
 * lists each data file's SHA-256 and the anchoring blocks.
 */
export function renderExport(data: ExportData): Map<string, string> {
  const movements = [...data.movements].sort(compareMovements).map(movementRecord);
  const balances = [...data.balances].sort(compareBalances).map(balanceRecord);
  const opening = [...data.opening].sort(compareBalances).map(balanceRecord);
  const files = new Map<string, string>([
    ["movements.csv", csv(MOVEMENT_COLUMNS, movements)],
    ["movements.json", json(movements)],
    ["balances.csv", csv(BALANCE_COLUMNS, balances)],
    ["balances.json", json(balances)],
    ["opening-balances.csv", csv(BALANCE_COLUMNS, opening)],
    ["opening-balances.json", json(opening)],
  ]);
  const s = data.subject;
  const manifest = {
    format: EXPORT_FORMAT,
    chainId: s.chainId,
    subject: { kind: s.kind, address: s.address, name: s.name, ether: s.ether },
    tokens: [...s.tokens].sort((a, b) => (a.address < b.address ? -1 : 1)).map((t) => ({ name: t.name, address: t.address, standard: t.standard })),
    anchors: { from: s.from, to: s.to },
    files: [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, text]) => ({ name, sha256: sha256(text), bytes: Buffer.byteLength(text) })),
  };
  files.set("manifest.json", json(manifest));
  return files;
}

export function writeExport(dir: string, files: ReadonlyMap<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileSync(path.join(dir, name), text);
}

/** Folds movements into balances: what a verifier does, and the export's own consistency check. */
export function foldBalances(subject: ExportSubject, opening: readonly ExportBalance[], movements: readonly Movement[]): ExportBalance[] {
  const balances = new Map<string, ExportBalance>();
  const add = (token: string, tokenId: string, holder: string, delta: bigint) => {
    const key = `${token}|${tokenId}|${holder}`;
    const b = balances.get(key) ?? { token, tokenId, holder, balance: 0n };
    b.balance += delta;
    balances.set(key, b);
  };
  for (const o of opening) add(o.token, o.tokenId, o.holder, o.balance);
  const counts = (holder: string) => holder !== ZERO_ADDRESS && (subject.kind === "token" || holder === subject.address);
  for (const m of movements) {
    const tokenId = balanceTokenId(m.kind, m.tokenId);
    if (counts(m.from)) add(m.token, tokenId, m.from, -m.amount);
    if (counts(m.to)) add(m.token, tokenId, m.to, m.amount);
  }
  if (subject.kind === "account") {
    // An account export lists every configured asset, held or not, like the holdings report.
    if (subject.ether) add(ETHER, "", subject.address, 0n);
    for (const t of subject.tokens) if (t.standard !== "erc1155") add(t.address, "", subject.address, 0n);
    return [...balances.values()].filter((b) => b.balance !== 0n || b.tokenId === "");
  }
  return [...balances.values()].filter((b) => b.balance !== 0n);
}

/**
 * The export of `contract` from the index: its movements from the first indexed block to `block` (the
 * head by default) and the maintained balances at that block.
 */
export async function exportFromStore(deps: ReportDeps, options: { contract: string; block?: string }): Promise<ExportData> {
  const { store, scope } = deps;
  const named = scope.address("--contract", options.contract);
  const to = await resolveBlock(deps, "--block", options.block);
  const anchorNumber = Number(store.meta("anchor"));
  const from: BlockRef = store.block(anchorNumber)!;
  const token = scope.tokens().find((t) => t.address === named.address);
  // An export is history that folds into the final balances; two kinds of token cannot promise that.
  const aside = store.unverifiable();
  if (token) {
    const t = token;
    const u = aside.get(t.address);
    if (u) throw new ReportArgumentError("--contract", unverifiableText(u, t.name));
    if (scope.stateTokens.has(t.address)) {
      throw new ReportArgumentError(
        "--contract",
        `${t.name} has balances: state (they move without Transfer events), so its transfers do not fold into its balances and cannot be exported for verification`,
      );
    }
  }
  const atHead = to.number === store.cursor()!.number ? undefined : to.number;
  const exportable = scope.tokens().filter((t) => !aside.has(t.address) && !scope.stateTokens.has(t.address));
  const covered = new Set([ETHER, ...exportable.map((t) => t.address)]);
  const subject: ExportSubject = {
    chainId: deps.rpc.chainId,
    kind: token ? "token" : "account",
    address: named.address,
    name: named.name,
    // An account's export leaves out tokens set aside and balances: state tokens; the verifier then names
    // them as tokens the account moved that the export does not cover.
    tokens: token ? [token] : exportable,
    ether: !token && scope.followsEther(named.address),
    from: { number: from.number, hash: from.hash },
    to: { number: to.number, hash: to.hash },
  };
  const movements = token
    ? store.movementsOfToken(token.address, from.number + 1, to.number)
    : store.movementsOf(named.address, from.number + 1, to.number).filter((m) => covered.has(m.token));
  const opening = subject.ether ? [{ token: ETHER, tokenId: "", holder: named.address, balance: store.balance(ETHER, "", named.address, from.number) }] : [];
  let balances: ExportBalance[];
  if (token) {
    const ids = token.standard === "erc1155" ? [...new Set(movements.map((m) => m.tokenId))] : [""];
    balances = ids.flatMap((tokenId) => store.holders(token.address, tokenId, atHead).map((h) => ({ token: token.address, tokenId, holder: h.holder, balance: h.balance })));
  } else {
    balances = [];
    if (subject.ether) balances.push({ token: ETHER, tokenId: "", holder: named.address, balance: store.balance(ETHER, "", named.address, atHead) });
    for (const t of exportable) {
      if (t.standard === "erc1155") {
        for (const { tokenId, balance } of store.idsOf(t.address, named.address, to.number)) balances.push({ token: t.address, tokenId, holder: named.address, balance });
      } else balances.push({ token: t.address, tokenId: "", holder: named.address, balance: store.balance(t.address, "", named.address, atHead) });
    }
  }
  return { subject, opening, movements, balances };
}
