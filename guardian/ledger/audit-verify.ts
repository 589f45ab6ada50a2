import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { RpcClient } from "../chain/types";
import type { TokenStandard } from "./config";
import { blockByHash, blockByNumber, hex, readBlock } from "./chain-reader";
import { ETHER, ordOfLog, type Movement } from "./movement";
import { EXPORT_FORMAT, foldBalances, renderExport, sha256, type ExportBalance, type ExportData, type ExportMovement, type ExportSubject } from "./audit-export";
import { decodeForVerify, TOPICS, type VerifyLog } from "./verify-decode";
import { chainStandard, deploymentBlock, viewAt } from "./verify-scope";

export interface VerifyFinding {
  ok: boolean;
  what: string;
  detail?: string;
}

export class AuditExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuditExportError";
  }
}

interface Manifest {
  format: string;
  chainId: number;
  subject: { kind: "token" | "account"; address: string; name: string; ether: boolean };
  tokens: { name: string; address: string; standard: TokenStandard }[];
  anchors: { from: { number: number; hash: string }; to: { number: number; hash: string } };
  files: { name: string; sha256: string; bytes: number }[];
}

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, "manifest.json");
  if (!existsSync(file)) throw new AuditExportError(`${dir}: no manifest.json here; is this an audit export directory?`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch (err) {
    throw new AuditExportError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (manifest === null || typeof manifest !== "object") throw new AuditExportError(`${file}: not a manifest object`);
  if (manifest.format !== EXPORT_FORMAT) throw new AuditExportError(`${file}: format is "${manifest.format}", expected "${EXPORT_FORMAT}"`);
  const problems: string[] = [];
  if (!Number.isInteger(manifest.chainId)) problems.push("chainId is not a whole number");
  if (!manifest.subject || !["token", "account"].includes(manifest.subject.kind) || !/^0x[0-9a-f]{40}$/.test(String(manifest.subject.address))) problems.push("subject needs kind token|account and a lowercase address");
  if (!Array.isArray(manifest.tokens) || manifest.tokens.some((t) => !t || !/^0x[0-9a-f]{40}$/.test(String(t.address)))) problems.push("tokens must be a list of {name, address, standard}");
  for (const end of ["from", "to"] as const) {
    const a = manifest.anchors?.[end];
    if (!a || !Number.isInteger(a.number) || typeof a.hash !== "string") problems.push(`anchors.${end} needs a block number and hash`);
  }
  if (!Array.isArray(manifest.files)) problems.push("files must be a list");
  if (problems.length > 0) throw new AuditExportError(`${file}: ${problems.join("; ")}`);
  return manifest;
}

const topicOf = (address: string) => "0x" + address.slice(2).padStart(64, "0");

/** eth_getLogs over [from, to] in chunks, halving a chunk the node refuses as too large. */
async function logsInRange(rpc: RpcClient, address: string[] | undefined, topics: (string | string[] | null)[], from: number, to: number): Promise<VerifyLog[]> {
  const out: VerifyLog[] = [];
  let chunk = 2_000;
  for (let start = from; start <= to; ) {
    const end = Math.min(to, start + chunk - 1);
    try {
      out.push(...(await rpc.request<VerifyLog[]>("eth_getLogs", [{ fromBlock: hex(start), toBlock: hex(end), ...(address ? { address } : {}), topics }])));
      start = end + 1;
    } catch (err) {
      if (chunk === 1 || !/range|too many|limit|exceed/i.test((err as Error).message)) throw err;
      chunk = Math.max(1, Math.floor(chunk / 2));
    }
  }
  return out;
}

const ALL_TOPICS = [TOPICS.transfer, TOPICS.single, TOPICS.batch, TOPICS.deposit, TOPICS.withdrawal];

/** Logs that move tokens of `account`, of any contract: the chain's answer to "which tokens are in scope". */
async function accountLogs(rpc: RpcClient, account: string, address: string[] | undefined, from: number, to: number): Promise<VerifyLog[]> {
  const me = topicOf(account);
  const queries: (string | string[] | null)[][] = [
    [TOPICS.transfer, me],
    [TOPICS.transfer, null, me],
    [[TOPICS.single, TOPICS.batch], null, me],
    [[TOPICS.single, TOPICS.batch], null, null, me],
    [[TOPICS.deposit, TOPICS.withdrawal], me],
  ];
  const seen = new Set<string>();
  const logs: VerifyLog[] = [];
  for (const topics of queries) {
    for (const log of await logsInRange(rpc, address, topics, from, to)) {
      const key = `${log.blockHash}|${log.logIndex}`;
      if (!seen.has(key)) logs.push(log);
      seen.add(key);
    }
  }
  return logs;
}

/** What the verifier establishes about the export's scope from the chain, before comparing anything. */
interface ChainScope {
  standards: Map<string, TokenStandard>;
  findings: VerifyFinding[];
}

/**
 * The scope from the chain, not from the manifest: each token's standard by ERC-165 (else ERC-20), a
 * token's deployment block (an export that starts after it while transfers happened in between is
 * truncated history), the contracts an account moved tokens of (an export that leaves one out is
 * incomplete), and whether an account's ether changed (an export without it hides movements).
 */
async function deriveScope(rpc: RpcClient, manifest: Manifest): Promise<ChainScope> {
  const { from, to } = manifest.anchors;
  const findings: VerifyFinding[] = [];
  const standards = new Map<string, TokenStandard>();
  const subject = manifest.subject;
  const listed = new Map(manifest.tokens.map((t) => [t.address, t]));
  let inScope = [...listed.keys()];
  if (subject.kind === "token") {
    const deployed = await deploymentBlock(rpc, subject.address, to.number);
    findings.push({ ok: deployed !== null, what: `token ${subject.address} has code at block ${to.number}`, detail: deployed === null ? "no contract there: nothing to verify against" : undefined });
    if (deployed !== null) {
      const first = from.number + 1;
      const earlier = deployed < first ? await logsInRange(rpc, [subject.address], [ALL_TOPICS], deployed, first - 1) : [];
      findings.push({
        ok: earlier.length === 0,
        what: `history starts at or before the token's first transfer (deployed at block ${deployed}, export starts at block ${first})`,
        detail: earlier.length === 0 ? undefined : `${earlier.length} transfer logs of the token in blocks ${deployed}-${first - 1} are left out: the export's history is truncated`,
      });
    }
    inScope = [subject.address];
  } else {
    const touched = new Set((await accountLogs(rpc, subject.address, undefined, from.number + 1, to.number)).map((l) => l.address.toLowerCase()));
    const missing = [...touched].filter((t) => !listed.has(t)).sort();
    findings.push({
      ok: missing.length === 0,
      what: `the export covers every token contract the account moved tokens of on the chain (${touched.size})`,
      detail: missing.length === 0 ? undefined : `left out: ${missing.join(", ")}`,
    });
    if (!subject.ether) {
      const [before, after] = await Promise.all([viewAt.ether(rpc, subject.address, from.number), viewAt.ether(rpc, subject.address, to.number)]);
      findings.push({
        ok: before === after,
        what: `the export leaves out ether (subject.ether=false): the account's ether did not change over blocks ${from.number}-${to.number}`,
        detail: before === after ? undefined : `eth_getBalance went from ${before} to ${after}: the export hides ether movements`,
      });
    }
  }
  for (const token of inScope) {
    const standard = await chainStandard(rpc, token, to.number);
    standards.set(token, standard);
    const claimed = listed.get(token)?.standard;
    if (claimed !== undefined && claimed !== standard) findings.push({ ok: false, what: `standard of ${token}`, detail: `the manifest says ${claimed}, the chain says ${standard}` });
  }
  return { standards, findings };
}

/**
 * Rebuilds an export from a node alone, with the verifier's own decoding and the chain's standards: the
 * transfer logs over the anchored range, the account's ether from each block's traces, receipts and
 * withdrawals, the opening ether with eth_getBalance, and balances folded from all of it.
 */
export async function recomputeExport(
  rpc: RpcClient,
  manifest: Manifest,
  standards: ReadonlyMap<string, TokenStandard>,
  findings: VerifyFinding[] = [],
  onProgress?: (blocksDone: number, blocksTotal: number) => void,
): Promise<ExportData> {
  const { from, to } = manifest.anchors;
  const tokens = manifest.tokens.map((t) => ({ ...t, standard: standards.get(t.address) ?? t.standard }));
  const subject: ExportSubject = { chainId: manifest.chainId, kind: manifest.subject.kind, address: manifest.subject.address, name: manifest.subject.name, tokens, ether: manifest.subject.ether, from, to };
  const addresses = tokens.map((t) => t.address);
  let logs: VerifyLog[] = [];
  if (addresses.length > 0 && to.number > from.number) {
    logs =
      subject.kind === "token"
        ? await logsInRange(rpc, addresses, [ALL_TOPICS], from.number + 1, to.number)
        : await accountLogs(rpc, subject.address, addresses, from.number + 1, to.number);
  }
  const { transfers, problems } = decodeForVerify(logs, (t) => standards.get(t) ?? "erc20");
  for (const [token, problem] of problems) findings.push({ ok: false, what: `transfer logs of ${token} are readable`, detail: problem });
  const movements: Movement[] = transfers
    .filter((t) => subject.kind === "token" || t.from === subject.address || t.to === subject.address)
    .map((t) => ({
      blockNumber: t.block,
      blockHash: t.blockHash,
      txIndex: t.txIndex,
      txHash: t.txHash,
      ord: ordOfLog(t.logIndex, t.position),
      kind: standards.get(t.token) ?? "erc20",
      token: t.token,
      tokenId: t.tokenId,
      from: t.from,
      to: t.to,
      amount: t.amount,
    }));
  if (subject.ether) {
    const scope = { standards: new Map<string, TokenStandard>(), accounts: new Set([subject.address]) };
    for (let n = from.number + 1; n <= to.number; n++) {
      const header = await blockByNumber(rpc, n);
      if (!header) throw new AuditExportError(`block ${n} of the anchored range does not exist on this node`);
      movements.push(...(await readBlock(rpc, scope, header.hash)).movements);
      onProgress?.(n - from.number, to.number - from.number);
    }
  }
  const timestamps = new Map<string, number>();
  for (const hash of new Set(movements.map((m) => m.blockHash))) {
    const block = await blockByHash(rpc, hash);
    if (!block) throw new AuditExportError(`block ${hash} vanished from the node while verifying`);
    timestamps.set(hash, block.timestamp);
  }
  const withTime: ExportMovement[] = movements.map((m) => ({ ...m, timestamp: timestamps.get(m.blockHash)! }));
  const opening = subject.ether ? [{ token: ETHER, tokenId: "", holder: subject.address, balance: await viewAt.ether(rpc, subject.address, from.number) }] : [];
  return { subject, opening, movements: withTime, balances: foldBalances(subject, opening, withTime) };
}

function firstDifference(expected: string, actual: string): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: node gives ${JSON.stringify(a[i] ?? "<end of file>")}, file has ${JSON.stringify(b[i] ?? "<end of file>")}`;
  }
  return "identical";
}

/** Final balances the export states, each against the token's or the node's own view at the anchor. */
async function checkFinalBalances(rpc: RpcClient, data: ExportData, standards: ReadonlyMap<string, TokenStandard>, budget: number): Promise<VerifyFinding[]> {
  const findings: VerifyFinding[] = [];
  const at = data.subject.to.number;
  const negative = data.balances.filter((b) => b.balance < 0n);
  findings.push({
    ok: negative.length === 0,
    what: "no balance folded from the history is negative",
    detail: negative.length === 0 ? undefined : `${negative.length} negative, e.g. ${negative[0].holder} in ${negative[0].token}: ${negative[0].balance} (history before the export's first block is missing)`,
  });
  const rows = [...data.balances].sort((a, b) => (a.balance === b.balance ? 0 : a.balance > b.balance ? -1 : 1)).slice(0, budget);
  const onNode = await Promise.all(rows.map((b: ExportBalance) => (b.token === ETHER ? viewAt.ether(rpc, b.holder, at) : viewAt.balanceOf(rpc, b.token, standards.get(b.token) ?? "erc20", b.holder, b.tokenId, at))));
  const wrong = rows.filter((b, i) => onNode[i] !== b.balance);
  findings.push({
    ok: wrong.length === 0,
    what: `${rows.length} of ${data.balances.length} final balances equal balanceOf/eth_getBalance at block ${at}`,
    detail: wrong.length === 0 ? undefined : `${wrong.length} differ, e.g. ${wrong[0].holder} in ${wrong[0].token}: history gives ${wrong[0].balance}, the node says ${onNode[rows.indexOf(wrong[0])]}`,
  });
  if (data.subject.kind === "token" && standards.get(data.subject.address) !== "erc1155") {
    const supply = await viewAt.totalSupply(rpc, data.subject.address, at);
    const sum = data.balances.reduce((s, b) => s + b.balance, 0n);
    if (supply !== null) findings.push({ ok: supply === sum, what: `sum of final balances = totalSupply() at block ${at}`, detail: supply === sum ? undefined : `sum ${sum}, totalSupply ${supply}` });
  }
  return findings;
}

/**
 * Checks an export directory without trusting it: every file against the manifest's SHA-256 and no file
 * the manifest does not list, the anchors against the node, the scope against the chain (deriveScope),
 * every file against a recomputation from the node with the verifier's own decoding, and the final
 * balances against the token and the node at the anchor. Any finding that is not ok is a failure.
 */
export async function verifyExport(
  dir: string,
  rpc: RpcClient,
  options: { balanceBudget?: number; onProgress?: (blocksDone: number, blocksTotal: number) => void } = {},
): Promise<VerifyFinding[]> {
  const manifest = readManifest(dir);
  const findings: VerifyFinding[] = [];
  const chainId = Number(await rpc.request<string>("eth_chainId", []));
  findings.push({ ok: chainId === manifest.chainId, what: `chain id ${manifest.chainId}`, detail: chainId === manifest.chainId ? undefined : `the node serves chain ${chainId}` });
  const onDisk = new Map<string, string | undefined>();
  for (const file of manifest.files) {
    const full = path.join(dir, path.basename(String(file.name)));
    const text = existsSync(full) ? readFileSync(full, "utf8") : undefined;
    onDisk.set(file.name, text);
    const actual = text === undefined ? undefined : sha256(text);
    findings.push({ ok: actual === file.sha256, what: `${file.name} matches its manifest hash`, detail: actual === undefined ? "file is missing" : actual === file.sha256 ? undefined : `sha256 is ${actual}, manifest says ${file.sha256}` });
  }
  const listed = new Set([...manifest.files.map((f) => f.name), "manifest.json"]);
  for (const name of readdirSync(dir).sort()) {
    if (!listed.has(name)) findings.push({ ok: false, what: `every file is listed in the manifest`, detail: `${name} is not: an unlisted file is not part of what was exported` });
  }
  for (const [label, anchor] of Object.entries(manifest.anchors)) {
    const block = await blockByNumber(rpc, anchor.number);
    findings.push({ ok: block?.hash === anchor.hash, what: `anchor ${label}: block ${anchor.number} is ${anchor.hash}`, detail: block?.hash === anchor.hash ? undefined : `the node has ${block?.hash ?? "no such block"}` });
  }
  const scope = await deriveScope(rpc, manifest);
  findings.push(...scope.findings);
  const data = await recomputeExport(rpc, manifest, scope.standards, findings, options.onProgress);
  const recomputed = renderExport(data);
  onDisk.set("manifest.json", readFileSync(path.join(dir, "manifest.json"), "utf8"));
  for (const [name, text] of recomputed) {
    const existing = onDisk.get(name);
    const ok = existing === text;
    findings.push({ ok, what: `${name} equals the recomputation from the node`, detail: ok ? undefined : existing === undefined ? "file is missing" : firstDifference(text, existing) });
  }
  findings.push(...(await checkFinalBalances(rpc, data, scope.standards, options.balanceBudget ?? 10_000)));
  return findings;
}

