import { id as keccakText } from "ethers";
import { z } from "zod";
import type { RpcClient } from "../chain/types";
import type { BlockContext } from "../context/types";
import { decodeNumericWord } from "./abi-word";
import { NATIVE, accountFlowsOfBlock, topicOf } from "./account-flows";
import { makeFinding } from "./finding";
import { addressSchema, amountSchema, contractsParam, selectContracts, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding, Severity } from "./types";

const ID = "outflow-window";
const BALANCE_OF = keccakText("balanceOf(address)").slice(0, 10);
const SCALE = 1_000_000n;

/** "10m", "1h", "6h", "24h", "90s", or a number of seconds. */
const durationSchema = z.union([z.number().int().positive(), z.string()]).transform((raw, ctx) => {
  if (typeof raw === "number") return raw;
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(raw.trim());
  if (!m) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a duration such as 10m, 1h or 24h, got "${raw}"` });
    return z.NEVER;
  }
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
});

const windowSchema = z
  .object({
    duration: durationSchema,
    /** Measured outflow over the window as a share of what the contract held at the window's start. */
    maxShare: z.number().gt(0).max(1).optional(),
    maxAmount: amountSchema.optional(),
    severity: severitySchema.default("critical"),
  })
  .strict()
  .refine((w) => w.maxShare !== undefined || w.maxAmount !== undefined, { message: "set maxShare, maxAmount or both" });

const params = z
  .object({
    contracts: contractsParam,
    /** Several windows at once: a fast drain trips the short ones, a slow one the long ones. */
    windows: z
      .array(windowSchema)
      .min(1)
      .default([
        { duration: 600, maxShare: 0.1 },
        { duration: 3600, maxShare: 0.1 },
        { duration: 21600, maxShare: 0.2 },
        { duration: 86400, maxShare: 0.3 },
      ]),
    /**
     * `uncovered` (default): what left to an account beyond that account's own net deposits seen by the
     * guardian, so a whale's deposit-then-withdrawal or exit of its own money does not count, and sybil
     * accounts that never put anything in count in full. `account-net`: per account, out minus in within
     * the window. `net`: everything out minus everything in.
     */
    measure: z.enum(["uncovered", "account-net", "net"]).default("uncovered"),
    /** Severity when only own money left (account-net over a limit, uncovered under it); `null`: silent. */
    coveredSeverity: severitySchema.nullable().default("low"),
    /** Only these assets ("native" or token addresses); every asset that moves when omitted. */
    assets: z.array(z.union([z.literal(NATIVE), addressSchema])).optional(),
    /**
     * Protection groups: contracts that share state (markets over one ledger, a vault and its strategy).
     * Their movements are measured as one position: a deposit into one member covers a withdrawal from
     * another, and shares are taken of what the group holds together. Names or addresses.
     */
    groups: z.array(z.array(z.string().min(1)).min(2)).default([]),
    /** Windows whose measured outflow is below this many base units stay quiet (dust on a young contract). */
    minAmount: amountSchema.default("0"),
    /** Counterparties whose movements are not counted (the contract's own strategies, a migration target). */
    ignoreAccounts: z.array(addressSchema).default([]),
    /** Blocks kept beyond the longest window so a reorg this deep can be rewound exactly. */
    reorgDepth: z.number().int().nonnegative().default(64),
  })
  .strict();

export type OutflowWindowParams = z.infer<typeof params>;

interface Entry {
  contract: string;
  asset: string;
  account: string;
  out: bigint;
  in: bigint;
  /** The part of `out` not covered by the account's own net deposits. */
  uncovered: bigint;
  tx: string;
}
interface BlockEntry {
  block: number;
  timestamp: number;
  entries: Entry[];
  /** Ledger values before this block, to rewind exactly. */
  undo: [string, bigint | null][];
}

function ratio(n: bigint, d: bigint): number {
  return d === 0n ? (n > 0n ? 1 : 0) : Number((n * SCALE) / d) / Number(SCALE);
}

export const outflowWindowDetector: DetectorDefinition<OutflowWindowParams> = {
  id: ID,
  description:
    "Value leaving a protected contract over time windows (e.g. 10 min, 1 h, 6 h, 24 h), per asset across all accounts, relative to holdings at the window's start; own-money round trips netted per account.",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const watched = new Set(contracts.map((c) => c.address));
    const watchedTopics = new Set(contracts.map((c) => topicOf(c.address)));
    const names = new Map(deps.contracts.map((c) => [c.address, c.name]));
    const assets = p.assets ? new Set(p.assets) : undefined;
    const ignored = new Set(p.ignoreAccounts);
    const longest = Math.max(...p.windows.map((w) => w.duration));
    // Every member of a group is measured under the group's first member's address.
    const positionOf = new Map<string, string>();
    const membersOf = new Map<string, string[]>();
    for (const members of p.groups) {
      const resolved = selectContracts(deps.contracts, members, ID).map((c) => c.address);
      for (const m of resolved) positionOf.set(m, resolved[0]);
      membersOf.set(resolved[0], resolved);
    }
    for (const c of contracts) if (!positionOf.has(c.address)) positionOf.set(c.address, c.address);
    for (const members of membersOf.values()) for (const m of members) watched.add(m), watchedTopics.add(topicOf(m));
    let blocks: BlockEntry[] = [];
    /** Per contract, asset and account: what the account put in minus what it took out, never below zero. */
    let ledger = new Map<string, bigint>();

    const heldAt = async (rpc: RpcClient, ctx: BlockContext, contract: string, asset: string): Promise<bigint | undefined> => {
      const tag = ctx.pending ? "latest" : { blockHash: ctx.hash };
      if (asset === NATIVE) return BigInt(await rpc.request<string>("eth_getBalance", [contract, tag]));
      const raw = await rpc.request<string>("eth_call", [{ to: asset, data: `${BALANCE_OF}${contract.slice(2).padStart(64, "0")}` }, tag]);
      try {
        return decodeNumericWord("uint256", raw);
      } catch {
        return undefined;
      }
    };

    const rewindTo = (blockNumber: number): void => {
      while (blocks.length > 0 && blocks[blocks.length - 1].block > blockNumber) {
        const b = blocks.pop()!;
        for (const [k, v] of [...b.undo].reverse()) {
          if (v === null) ledger.delete(k);
          else ledger.set(k, v);
        }
      }
    };

    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        // Re-processing a block replaces its contribution; a pending transaction changes nothing kept.
        if (!ctx.pending) rewindTo(ctx.number - 1);
        const overlay = new Map<string, bigint>();
        const ledgerGet = (k: string) => (overlay.has(k) ? overlay.get(k) : ledger.get(k));
        const ledgerSet = (k: string, v: bigint) => (ctx.pending ? overlay.set(k, v) : ledger.set(k, v));
        // Movements between members of one group are internal to the position.
        const flows = accountFlowsOfBlock(ctx, watched, watchedTopics)
          .filter((f) => (!assets || assets.has(f.asset)) && !ignored.has(f.account) && positionOf.get(f.account) !== positionOf.get(f.contract))
          .map((f) => ({ ...f, contract: positionOf.get(f.contract) ?? f.contract }));
        const undo = new Map<string, bigint | null>();
        const entries: Entry[] = [];
        for (const f of flows) {
          const key = `${f.contract}:${f.asset}:${f.account}`;
          const before = ledgerGet(key);
          if (!undo.has(key)) undo.set(key, before ?? null);
          let balance = before ?? 0n;
          balance += f.in;
          const covered = f.out < balance ? f.out : balance;
          balance -= covered;
          ledgerSet(key, balance);
          entries.push({ contract: f.contract, asset: f.asset, account: f.account, out: f.out, in: f.in, uncovered: f.out - covered, tx: f.tx });
        }
        if (!ctx.pending) {
          blocks = blocks.filter((b) => b.timestamp > ctx.timestamp - longest - 12 * p.reorgDepth || b.block > ctx.number - p.reorgDepth);
          blocks.push({ block: ctx.number, timestamp: ctx.timestamp, entries, undo: [...undo] });
        }

        const findings: Finding[] = [];
        const outNow = new Map<string, Entry>();
        for (const e of entries) if (e.out > 0n && !outNow.has(`${e.contract}:${e.asset}`)) outNow.set(`${e.contract}:${e.asset}`, e);
        for (const [key, first] of outNow) {
          const { contract, asset } = first;
          let held: bigint | undefined = 0n;
          for (const member of membersOf.get(contract) ?? [contract]) {
            const h = await heldAt(deps.rpc, ctx, member, asset);
            held = h === undefined || held === undefined ? undefined : held + h;
          }
          if (held === undefined) continue;
          if (ctx.pending) {
            // Read at the latest state, before the pending transaction: take out what it moves.
            for (const e of entries) if (`${e.contract}:${e.asset}` === key) held = held - e.out + e.in;
            if (held < 0n) held = 0n;
          }
          const exceeded: Record<string, unknown>[] = [];
          let worst: { severity: Severity; covered: boolean } | undefined;
          for (const w of p.windows) {
            const inWindow = blocks.filter((b) => b.timestamp > ctx.timestamp - w.duration).flatMap((b) => b.entries);
            if (ctx.pending) inWindow.push(...entries);
            let out = 0n;
            let inflow = 0n;
            const perAccount = new Map<string, bigint>();
            const uncoveredOf = new Map<string, bigint>();
            const accounts = new Set<string>();
            for (const e of inWindow) {
              if (`${e.contract}:${e.asset}` !== key) continue;
              out += e.out;
              inflow += e.in;
              perAccount.set(e.account, (perAccount.get(e.account) ?? 0n) + e.out - e.in);
              // What an account took uncovered, less what it brought back within the window (a repayment).
              uncoveredOf.set(e.account, (uncoveredOf.get(e.account) ?? 0n) + e.uncovered - e.in);
            }
            let accountNet = 0n;
            for (const v of perAccount.values()) if (v > 0n) accountNet += v;
            let uncovered = 0n;
            for (const [account, v] of uncoveredOf) {
              if (v <= 0n) continue;
              uncovered += v;
              accounts.add(account);
            }
            const net = out > inflow ? out - inflow : 0n;
            const measured = p.measure === "uncovered" ? uncovered : p.measure === "account-net" ? accountNet : net;
            // Shares are of the holdings at the window's start, or of what it holds now if it grew since (a
            // young protocol's first deposits must not make every later withdrawal a large share of nothing).
            // Not the peak within the window: an attacker could raise that with a deposit of its own taken
            // back out before the drain.
            const atStart = held + out - inflow;
            const start = atStart > held ? atStart : held;
            const over = (m: bigint) => m >= p.minAmount && ((w.maxShare !== undefined && ratio(m, start) > w.maxShare) || (w.maxAmount !== undefined && m > w.maxAmount));
            let covered = false;
            if (!over(measured)) {
              if (p.coveredSeverity === null || !over(accountNet)) continue;
              covered = true;
            }
            const severity = covered ? (p.coveredSeverity as Severity) : w.severity;
            exceeded.push({ windowSeconds: w.duration, measured, share: ratio(covered ? accountNet : measured, start).toFixed(6), holdingsAtStart: atStart, denominator: start, out, in: inflow, accountNet, uncovered, accounts: accounts.size, covered, severity });
            if (!worst || rank(severity) > rank(worst.severity)) worst = { severity, covered };
          }
          if (!worst) continue;
          const name = names.get(contract) ?? contract;
          const top = exceeded.find((x) => x.severity === worst!.severity)!;
          findings.push(
            makeFinding({
              detectorId: ID,
              severity: worst.severity,
              // The amount in the "N wei" / "N of token 0x…" form reports and the dashboard turn into "21.3 COL".
              title: `${worst.covered ? "Large withdrawals of own deposits from" : "Outflow over a time window from"} ${name}: ${String(top.covered ? top.accountNet : top.measured)} ${asset === NATIVE ? "wei" : `of token ${asset}`}, ${(Number(top.share) * 100).toFixed(2)}% of its holdings, within ${windowText(Number(top.windowSeconds))}`,
              block: ctx,
              txHash: first.tx,
              contract,
              subject: key,
              evidence: { contract, contractName: name, asset, measure: p.measure, holdingsNow: held, windows: exceeded },
            }),
          );
        }
        return findings;
      },
      rewind: (blockNumber: number) => rewindTo(blockNumber),
      saveState: () => ({
        blocks: blocks.map((b) => ({ ...b, entries: b.entries.map((e) => ({ ...e, out: e.out.toString(), in: e.in.toString(), uncovered: e.uncovered.toString() })), undo: b.undo.map(([k, v]) => [k, v === null ? null : v.toString()]) })),
        ledger: Object.fromEntries([...ledger].map(([k, v]) => [k, v.toString()])),
      }),
      loadState(state: unknown): void {
        const s = state as { blocks: { block: number; timestamp: number; entries: Record<string, string>[]; undo: [string, string | null][] }[]; ledger: Record<string, string> };
        blocks = s.blocks.map((b) => ({
          block: b.block,
          timestamp: b.timestamp,
          entries: b.entries.map((e) => ({ contract: e.contract, asset: e.asset, account: e.account, tx: e.tx, out: BigInt(e.out), in: BigInt(e.in), uncovered: BigInt(e.uncovered) })),
          undo: b.undo.map(([k, v]) => [k, v === null ? null : BigInt(v)]),
        }));
        ledger = new Map(Object.entries(s.ledger).map(([k, v]) => [k, BigInt(v)]));
      },
    };
  },
};

const ORDER: Severity[] = ["info", "low", "medium", "high", "critical"];
function rank(s: Severity): number {
  return ORDER.indexOf(s);
}

/** "10 min", "1 h", "24 h": the window as people configure it. */
function windowText(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}
