import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { RpcClient } from "../chain/types";
import type { TokenStandard } from "./config";
import { blockByHash, blockByNumber, hex, readBlock } from "./chain-reader";
import { ETHER, type Movement } from "./movement";
import { etherBalanceAt } from "./onchain";
import { decodeTransferLogs, TRANSFER_BATCH_TOPIC, TRANSFER_SINGLE_TOPIC, TRANSFER_TOPIC, TRANSFER_TOPICS, type RpcLog } from "./transfer-logs";
import { EXPORT_FORMAT, foldBalances, renderExport, sha256, type ExportData, type ExportMovement, type ExportSubject } from "./audit-export";

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
  if (manifest.format !== EXPORT_FORMAT) throw new AuditExportError(`${file}: format is "${manifest.format}", expected "${EXPORT_FORMAT}"`);
  return manifest;
}

const topicOf = (address: string) => "0x" + address.slice(2).padStart(64, "0");

/** eth_getLogs over [from, to] in chunks, halving a chunk the node refuses as too large. */
async function logsInRange(rpc: RpcClient, address: string[], topics: (string | string[] | null)[], from: number, to: number): Promise<RpcLog[]> {
  const out: RpcLog[] = [];
  let chunk = 2_000;
  for (let start = from; start <= to; ) {
    const end = Math.min(to, start + chunk - 1);
    try {
      out.push(...(await rpc.request<RpcLog[]>("eth_getLogs", [{ fromBlock: hex(start), toBlock: hex(end), address, topics }])));
      start = end + 1;
    } catch (err) {
      if (chunk === 1 || !/range|too many|limit|exceed/i.test((err as Error).message)) throw err;
      chunk = Math.max(1, Math.floor(chunk / 2));
    }
  }
  return out;
}

/**
 * Rebuilds an export from a node alone: the transfer logs over the anchored range (eth_getLogs, not our
 * store), the account's ether from each block's traces, receipts and withdrawals, the opening ether with
 * eth_getBalance, and balances folded from all of it.
 */
export async function recomputeExport(rpc: RpcClient, manifest: Manifest): Promise<ExportData> {
  const { from, to } = manifest.anchors;
  const subject: ExportSubject = {
    chainId: manifest.chainId,
    kind: manifest.subject.kind,
    address: manifest.subject.address,
    name: manifest.subject.name,
    tokens: manifest.tokens,
    ether: manifest.subject.ether,
    from,
    to,
  };
  const standards = new Map(manifest.tokens.map((t) => [t.address, t.standard]));
  const addresses = manifest.tokens.map((t) => t.address);
  let logs: RpcLog[] = [];
  if (addresses.length > 0 && to.number > from.number) {
    if (subject.kind === "token") {
      logs = await logsInRange(rpc, addresses, [TRANSFER_TOPICS], from.number + 1, to.number);
    } else {
      const me = topicOf(subject.address);
      const single = [TRANSFER_SINGLE_TOPIC, TRANSFER_BATCH_TOPIC];
      const queries: (string | string[] | null)[][] = [[TRANSFER_TOPIC, me], [TRANSFER_TOPIC, null, me], [single, null, me], [single, null, null, me]];
      const seen = new Set<string>();
      for (const topics of queries) {
        for (const log of await logsInRange(rpc, addresses, topics, from.number + 1, to.number)) {
          const key = `${log.blockHash}|${log.logIndex}`;
          if (!seen.has(key)) logs.push(log);
          seen.add(key);
        }
      }
    }
  }
  const movements: Movement[] = decodeTransferLogs(logs, standards).filter(
    (m) => subject.kind === "token" || m.from === subject.address || m.to === subject.address,
  );
  if (subject.ether) {
    const scope = { standards: new Map<string, TokenStandard>(), accounts: new Set([subject.address]) };
    for (let n = from.number + 1; n <= to.number; n++) {
      const header = await blockByNumber(rpc, n);
      if (!header) throw new AuditExportError(`block ${n} of the anchored range does not exist on this node`);
      movements.push(...(await readBlock(rpc, scope, header.hash)).movements);
    }
  }
  const timestamps = new Map<string, number>();
  for (const hash of new Set(movements.map((m) => m.blockHash))) {
    const block = await blockByHash(rpc, hash);
    if (!block) throw new AuditExportError(`block ${hash} vanished from the node while verifying`);
    timestamps.set(hash, block.timestamp);
  }
  const withTime: ExportMovement[] = movements.map((m) => ({ ...m, timestamp: timestamps.get(m.blockHash)! }));
  const opening = subject.ether ? [{ token: ETHER, tokenId: "", holder: subject.address, balance: await etherBalanceAt(rpc, subject.address, from.number) }] : [];
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

/**
 * Checks an export directory: every file against the manifest's SHA-256, the anchor blocks against the
 * node, and every file against a recomputation from the node. Any finding that is not ok is a failure.
 */
export async function verifyExport(dir: string, rpc: RpcClient): Promise<VerifyFinding[]> {
  const manifest = readManifest(dir);
  const findings: VerifyFinding[] = [];
  const chainId = Number(await rpc.request<string>("eth_chainId", []));
  findings.push({ ok: chainId === manifest.chainId, what: `chain id ${manifest.chainId}`, detail: chainId === manifest.chainId ? undefined : `the node serves chain ${chainId}` });
  const onDisk = new Map<string, string | undefined>();
  for (const file of manifest.files) {
    const full = path.join(dir, file.name);
    const text = existsSync(full) ? readFileSync(full, "utf8") : undefined;
    onDisk.set(file.name, text);
    const actual = text === undefined ? undefined : sha256(text);
    findings.push({ ok: actual === file.sha256, what: `${file.name} matches its manifest hash`, detail: actual === undefined ? "file is missing" : actual === file.sha256 ? undefined : `sha256 is ${actual}, manifest says ${file.sha256}` });
  }
  for (const [label, anchor] of Object.entries(manifest.anchors)) {
    const block = await blockByNumber(rpc, anchor.number);
    findings.push({ ok: block?.hash === anchor.hash, what: `anchor ${label}: block ${anchor.number} is ${anchor.hash}`, detail: block?.hash === anchor.hash ? undefined : `the node has ${block?.hash ?? "no such block"}` });
  }
  const recomputed = renderExport(await recomputeExport(rpc, manifest));
  onDisk.set("manifest.json", readFileSync(path.join(dir, "manifest.json"), "utf8"));
  for (const [name, text] of recomputed) {
    const existing = onDisk.get(name);
    const ok = existing === text;
    findings.push({ ok, what: `${name} equals the recomputation from the node`, detail: ok ? undefined : existing === undefined ? "file is missing" : firstDifference(text, existing) });
  }
  return findings;
}
