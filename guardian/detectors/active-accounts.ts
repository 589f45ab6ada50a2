import { z } from "zod";
import type { BlockContext } from "../context/types";
import { frameVisits } from "./call-tree";
import { makeFinding } from "./finding";
import { ChangedEntries } from "./prefetch";
import { addressSchema, contractsParam, selectContracts, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding } from "./types";

const ID = "active-accounts";

const params = z
  .object({
    /** Names or addresses of the protected contracts to watch; all of them when omitted. */
    contracts: contractsParam,
    /** The current rate is the number of transactions in the last `windowBlocks` blocks. */
    windowBlocks: z.number().int().positive().default(20),
    /** Fire when the window count exceeds `factor` times the account's baseline for a window... */
    factor: z.number().positive().default(5),
    /** ...and is at least this many transactions. */
    minCount: z.number().int().positive().default(5),
    /** Baseline used for accounts that were (almost) never seen, in transactions per window. */
    baselineFloor: z.number().nonnegative().default(1),
    /** How fast an account's baseline forgets: the weight of a block halves after this many blocks. */
    baselineHalfLifeBlocks: z.number().positive().default(7200),
    /** No findings until this many blocks were observed, so a fresh start does not flag everyone. */
    warmupBlocks: z.number().int().nonnegative().default(50),
    ignoreAccounts: z.array(addressSchema).default([]),
    severity: severitySchema.default("medium"),
    /** Blocks kept beyond the window so a reorg this deep can be rewound exactly. */
    reorgDepth: z.number().int().nonnegative().default(64),
    /**
     * Memory bound: at most this many account baselines are kept (about 200 bytes each in memory and in the store).
     * Baselines below `baselineFloor` per window are dropped first (lossless: the floor applies to them anyway);
     * past the bound the lowest rates go (those accounts then count from the floor: more sensitive, never less).
     */
    maxAccounts: z.number().int().positive().default(20_000),
  })
  .strict();

export type ActiveAccountsParams = z.infer<typeof params>;

interface Activity {
  count: number;
  contracts: Record<string, number>;
  txs: string[];
}

interface Baseline {
  /** Exponentially weighted transactions per block, as of block `at`. */
  rate: number;
  at: number;
}

interface BlockEntry {
  block: number;
  activity: Record<string, Activity>;
  /** What this block changed, so `rewind` can restore it exactly. */
  undo: {
    fedThrough: number;
    baselines: [string, Baseline | null][];
    lastFired: [string, number | null][];
  };
}

const baselineSchema = z.object({ rate: z.number(), at: z.number() });
const blockEntrySchema = z.object({
  block: z.number(),
  activity: z.record(z.object({ count: z.number(), contracts: z.record(z.number()), txs: z.array(z.string()) })),
  undo: z.object({
    fedThrough: z.number(),
    baselines: z.array(z.tuple([z.string(), baselineSchema.nullable()])),
    lastFired: z.array(z.tuple([z.string(), z.number().nullable()])),
  }),
});
const metaSchema = z.object({ observed: z.number(), firstBlock: z.number().nullable(), fedThrough: z.number() });

/**
 * The saved state is a flat record, one entry per account baseline, per account's last finding and per
 * block in the window, so a block persists only the entries it changed (a handful) instead of the whole
 * window (hundreds of kilobytes on a busy contract).
 */
const META = "meta";
const BASELINE = "baseline:";
const FIRED = "fired:";
const BLOCK = "block:";

/** Who interacted with which protected contracts in this block: the sender and every direct caller. */
function activityOf(ctx: BlockContext, watched: ReadonlySet<string>, ignored: ReadonlySet<string>): Record<string, Activity> {
  const out: Record<string, Activity> = {};
  for (const tx of ctx.transactions) {
    // A watched contract that was called anywhere in the transaction is in `touched`.
    if (!tx.touched.some((c) => watched.has(c))) continue;
    const touched = new Map<string, Set<string>>();
    for (const c of tx.touched) if (watched.has(c)) noteCall(touched, tx.from, c, watched, ignored);
    if (tx.trace) {
      for (const v of frameVisits(tx.trace)) {
        if (watched.has(v.context) && v.frame.type !== "DELEGATECALL") noteCall(touched, v.frame.from, v.context, watched, ignored);
      }
    }
    for (const [account, set] of touched) {
      const a = (out[account] ??= { count: 0, contracts: {}, txs: [] });
      a.count += 1;
      a.txs.push(tx.hash);
      for (const c of set) a.contracts[c] = (a.contracts[c] ?? 0) + 1;
    }
  }
  return out;
}

/** Notes that `account` (lowercase) called the watched `contract`, unless it is ignored or watched itself. */
function noteCall(touched: Map<string, Set<string>>, account: string, contract: string, watched: ReadonlySet<string>, ignored: ReadonlySet<string>): void {
  if (ignored.has(account) || watched.has(account)) return;
  let set = touched.get(account);
  if (!set) touched.set(account, (set = new Set()));
  set.add(contract);
}

export const activeAccountsDetector: DetectorDefinition<ActiveAccountsParams> = {
  id: ID,
  description: "Accounts whose rate of transactions with protected contracts is far above their own exponentially weighted baseline.",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const watched = new Set(contracts.map((c) => c.address));
    const ignored = new Set(p.ignoreAccounts);
    const decay = Math.pow(0.5, 1 / p.baselineHalfLifeBlocks);
    const alpha = 1 - decay;

    let observed = 0;
    /** The first block this detector saw; the baselines' bias correction counts from it. */
    let firstBlock: number | null = null;
    /** Blocks up to this number have been folded into the baselines. */
    let fedThrough = -1;
    let baselines = new Map<string, Baseline>();
    let lastFired = new Map<string, number>();
    let blocks: BlockEntry[] = [];
    const changed = new ChangedEntries();

    const setBaseline = (account: string, b: Baseline | null): void => {
      if (b) baselines.set(account, b);
      else baselines.delete(account);
      changed.touch(BASELINE + account);
    };
    const setFired = (account: string, block: number | null): void => {
      if (block === null) lastFired.delete(account);
      else lastFired.set(account, block);
      changed.touch(FIRED + account);
    };
    /** Keeps the blocks that `keep` accepts, noting the ones that leave. */
    const keepBlocks = (keep: (b: BlockEntry) => boolean): void => {
      const kept: BlockEntry[] = [];
      for (const b of blocks) {
        if (keep(b)) kept.push(b);
        else changed.touch(BLOCK + b.block);
      }
      blocks = kept;
    };
    const record = (): Record<string, unknown> => {
      const out: Record<string, unknown> = { [META]: { observed, firstBlock, fedThrough } };
      for (const [a, b] of baselines) out[BASELINE + a] = b;
      for (const [a, n] of lastFired) out[FIRED + a] = n;
      for (const b of blocks) out[BLOCK + b.block] = b;
      return out;
    };
    const lookup = (key: string): unknown => {
      if (key === META) return { observed, firstBlock, fedThrough };
      if (key.startsWith(BASELINE)) return baselines.get(key.slice(BASELINE.length));
      if (key.startsWith(FIRED)) return lastFired.get(key.slice(FIRED.length));
      const n = Number(key.slice(BLOCK.length));
      return blocks.find((b) => b.block === n);
    };

    const rateAt = (b: Baseline | undefined, block: number): number =>
      b ? b.rate * Math.pow(decay, Math.max(0, block - b.at)) : 0;
    /**
     * Every baseline starts at zero, which would make all accounts look new for the first few half-lives.
     * Dividing by the weight the folded blocks carry (as Adam does for its moments) gives each account its
     * true average rate over what was observed, from the first folded block on.
     */
    const correctedRateAt = (b: Baseline | undefined, block: number): number => {
      if (firstBlock === null || block < firstBlock) return 0;
      return rateAt(b, block) / (1 - Math.pow(decay, block - firstBlock + 1));
    };

    /** Keeps per-account state bounded (see `maxAccounts`); every drop is in the block's undo, so rewinds stay exact. */
    const evict = (entry: BlockEntry, feedTo: number, block: number): void => {
      for (const [account, b] of baselines) {
        if (correctedRateAt(b, feedTo) * p.windowBlocks >= p.baselineFloor) continue;
        entry.undo.baselines.push([account, b]);
        setBaseline(account, null);
      }
      if (baselines.size > p.maxAccounts) {
        const lowest = [...baselines].sort((x, y) => rateAt(x[1], feedTo) - rateAt(y[1], feedTo)).slice(0, baselines.size - p.maxAccounts);
        for (const [account, b] of lowest) {
          entry.undo.baselines.push([account, b]);
          setBaseline(account, null);
        }
      }
      // A last finding older than the window no longer holds anything back.
      for (const [account, n] of lastFired) {
        if (n > block - p.windowBlocks) continue;
        entry.undo.lastFired.push([account, n]);
        setFired(account, null);
      }
    };

    const rewind = (blockNumber: number): void => {
      for (let i = blocks.length - 1; i >= 0 && blocks[i].block > blockNumber; i--) {
        const e = blocks[i];
        for (const [a, prev] of [...e.undo.baselines].reverse()) setBaseline(a, prev);
        for (const [a, prev] of [...e.undo.lastFired].reverse()) setFired(a, prev);
        fedThrough = e.undo.fedThrough;
        observed -= 1;
        blocks.pop();
        changed.touch(BLOCK + e.block);
      }
      if (observed === 0) firstBlock = null;
      changed.touch(META);
    };

    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        rewind(ctx.number - 1);
        firstBlock ??= ctx.number;
        const entry: BlockEntry = {
          block: ctx.number,
          activity: activityOf(ctx, watched, ignored),
          undo: { fedThrough, baselines: [], lastFired: [] },
        };
        // Blocks leaving the window become history: fold them into each account's baseline.
        const feedTo = ctx.number - p.windowBlocks;
        for (const old of blocks) {
          if (old.block <= fedThrough || old.block > feedTo) continue;
          for (const [account, act] of Object.entries(old.activity)) {
            const prev = baselines.get(account);
            entry.undo.baselines.push([account, prev ?? null]);
            setBaseline(account, { rate: rateAt(prev, old.block) + alpha * act.count, at: old.block });
          }
        }
        fedThrough = Math.max(fedThrough, feedTo);
        if (ctx.number % p.windowBlocks === 0 || baselines.size > p.maxAccounts) evict(entry, feedTo, ctx.number);
        blocks.push(entry);
        observed += 1;
        changed.touch(BLOCK + entry.block);
        changed.touch(META);
        keepBlocks((b) => b.block > ctx.number - p.windowBlocks - p.reorgDepth);

        if (observed <= p.warmupBlocks) return [];
        const inWindow = blocks.filter((b) => b.block > ctx.number - p.windowBlocks);
        const findings: Finding[] = [];
        for (const [account, now] of Object.entries(entry.activity)) {
          const fired = lastFired.get(account);
          if (fired !== undefined && fired > ctx.number - p.windowBlocks) continue;
          let count = 0;
          for (const b of inWindow) count += b.activity[account]?.count ?? 0;
          const baselinePerWindow = correctedRateAt(baselines.get(account), feedTo) * p.windowBlocks;
          const threshold = p.factor * Math.max(baselinePerWindow, p.baselineFloor);
          if (count < p.minCount || count <= threshold) continue;
          // The evidence is gathered only for an account that fires: every active account is counted at
          // every block, and its window's transactions run to hundreds.
          const perContract: Record<string, number> = {};
          const txs: string[] = [];
          for (const b of inWindow) {
            const act = b.activity[account];
            if (!act) continue;
            for (const tx of act.txs) txs.push(tx);
            for (const [c, n] of Object.entries(act.contracts)) perContract[c] = (perContract[c] ?? 0) + n;
          }
          entry.undo.lastFired.push([account, fired ?? null]);
          setFired(account, ctx.number);
          const top = Object.entries(perContract).sort((x, y) => y[1] - x[1])[0][0];
          findings.push(
            makeFinding({
              detectorId: ID,
              severity: p.severity,
              title: `Account ${account} made ${count} transactions with protected contracts in ${p.windowBlocks} blocks (baseline ${baselinePerWindow.toFixed(2)})`,
              block: ctx,
              txHash: now.txs[0],
              contract: top,
              subject: account,
              evidence: {
                account,
                windowBlocks: p.windowBlocks,
                windowCount: count,
                baselinePerWindow: Number(baselinePerWindow.toFixed(4)),
                threshold: Number(threshold.toFixed(4)),
                factor: p.factor,
                ratio: baselinePerWindow > 0 ? Number((count / baselinePerWindow).toFixed(2)) : null,
                contracts: perContract,
                txs: txs.slice(-10),
              },
            }),
          );
        }
        return findings;
      },
      rewind,
      saveState: () => structuredClone(record()),
      saveChanges: () => changed.take(record, lookup),
      loadState(state: unknown): void {
        const entries = z.record(z.unknown()).parse(state);
        const meta = metaSchema.parse(entries[META]);
        observed = meta.observed;
        firstBlock = meta.firstBlock;
        fedThrough = meta.fedThrough;
        baselines = new Map();
        lastFired = new Map();
        blocks = [];
        for (const [key, value] of Object.entries(entries)) {
          if (key.startsWith(BASELINE)) baselines.set(key.slice(BASELINE.length), baselineSchema.parse(value));
          else if (key.startsWith(FIRED)) lastFired.set(key.slice(FIRED.length), z.number().parse(value));
          else if (key.startsWith(BLOCK)) blocks.push(blockEntrySchema.parse(value));
        }
        // The store returns entries in key order, not block order.
        blocks.sort((a, b) => a.block - b.block);
        changed.replaceAll();
      },
    };
  },
};
