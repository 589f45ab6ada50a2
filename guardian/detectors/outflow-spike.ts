import { id as keccakText } from "ethers";
import { z } from "zod";
import type { BlockRef, RpcClient } from "../chain/types";
import type { BlockContext } from "../context/types";
import { frameVisits } from "./call-tree";
import { accountFlowsOfBlock } from "./account-flows";
import { decodeNumericWord } from "./abi-word";
import { makeFinding } from "./finding";
import { ChangedEntries, PrefetchedReads } from "./prefetch";
import { addressSchema, amountSchema, contractsParam, selectContracts, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding } from "./types";

const ID = "outflow-spike";
const NATIVE = "native";
const TRANSFER_TOPIC = keccakText("Transfer(address,address,uint256)").toLowerCase();
const BALANCE_OF = keccakText("balanceOf(address)").slice(0, 10);

/** `balanceOf(holder)` calldata, without ABI-encoding machinery on every block. */
function balanceOfCall(holder: string): string {
  return `${BALANCE_OF}${holder.slice(2).toLowerCase().padStart(64, "0")}`;
}

/** Shares are compared in millionths so the arithmetic stays exact on bigints. */
const SHARE_SCALE = 1_000_000n;

const shareSchema = z.number().gt(0).max(1);

const params = z
  .object({
    /** Names or addresses of the protected contracts to watch; all of them when omitted. */
    contracts: contractsParam,
    windowBlocks: z.number().int().positive().default(50),
    /**
     * `account-net` (default) counts, per receiving account, what left to it over the window minus what
     * it put in over the window: a whale's deposit then withdrawal (its own money) nets out, a flash-loan
     * lender that is repaid stays quiet, and deposits by other accounts cannot mask a drain. `tx-net`
     * counts, per transaction, what left minus what came back in that same transaction; `gross` counts
     * every transfer out.
     */
    measure: z.enum(["account-net", "tx-net", "gross"]).default("account-net"),
    assets: z
      .array(
        z
          .object({
            /** "native" or an ERC-20 token address. */
            asset: z.union([z.literal(NATIVE), addressSchema]),
            maxAmount: amountSchema.optional(),
            /** Outflow over the window as a share of what the contract held before it, e.g. 0.2. */
            maxShare: shareSchema.optional(),
          })
          .strict()
          .refine((a) => a.maxAmount !== undefined || a.maxShare !== undefined, { message: "set maxAmount, maxShare or both" }),
      )
      .default([]),
    /** Share threshold for every asset not listed in `assets`. */
    defaultMaxShare: shareSchema.optional(),
    severity: severitySchema.default("high"),
    /** Transfers kept as evidence. */
    largest: z.number().int().positive().default(5),
    /** Blocks kept beyond the window so a reorg this deep can be rewound exactly. */
    reorgDepth: z.number().int().nonnegative().default(64),
  })
  .strict()
  .refine((p) => p.assets.length > 0 || p.defaultMaxShare !== undefined, { message: "configure assets or defaultMaxShare" });

export type OutflowSpikeParams = z.infer<typeof params>;

interface Transfer {
  block: number;
  tx: string;
  kind: "erc20" | "native";
  to: string;
  amount: bigint;
}

interface Flow {
  contract: string;
  asset: string;
  /** Value that left in this block, as measured (gross, or net of what came back in the same tx). */
  out: bigint;
  /** The block's largest outgoing transfers, at most `largest`. */
  transfers: Transfer[];
  /** account-net only: per counterparty, what left to it minus what it put in, in this block. */
  accounts?: Record<string, bigint>;
}

interface BlockFlows {
  block: number;
  flows: Flow[];
}

/** How flows, holdings and findings name one watched contract's position in one asset. */
function flowKey(contract: string, asset: string): string {
  return `${contract}:${asset}`;
}

function addressFromTopic(topic: string): string {
  return `0x${topic.slice(-40)}`;
}

/** An address as an indexed event topic (left-padded to 32 bytes), lowercase like LogEntry topics. */
function topicOf(address: string): string {
  return `0x${address.slice(2).padStart(64, "0")}`;
}

function byAmountDesc(a: Transfer, b: Transfer): number {
  return a.amount < b.amount ? 1 : a.amount > b.amount ? -1 : 0;
}

/** What one transaction moved into and out of one watched contract, in one asset. */
interface TxFlow {
  contract: string;
  asset: string;
  out: bigint;
  in: bigint;
  transfers: Transfer[];
}

/**
 * Adds a movement to the transaction's flows: `outgoing` is the transfer when value left the contract,
 * undefined when it came in. The map is created on first use: most transactions move nothing watched.
 */
function addFlow(inTx: Map<string, TxFlow> | undefined, contract: string, asset: string, amount: bigint, outgoing: Transfer | undefined): Map<string, TxFlow> {
  const flows = inTx ?? new Map<string, TxFlow>();
  const key = flowKey(contract, asset);
  let t = flows.get(key);
  if (!t) flows.set(key, (t = { contract, asset, out: 0n, in: 0n, transfers: [] }));
  if (outgoing) {
    t.out += amount;
    t.transfers.push(outgoing);
  } else {
    t.in += amount;
  }
  return flows;
}

/**
 * Per watched contract and asset, what left it in this block. Runs on every block for every instance,
 * so it builds nothing for the (many) logs and frames that move nothing watched: Transfer logs are
 * matched on their topics as they stand, and addresses are spelled out only on a match.
 */
function flowsOfBlock(ctx: BlockContext, watched: ReadonlySet<string>, watchedTopics: ReadonlySet<string>, measure: "tx-net" | "gross", largest: number): Flow[] {
  const byKey = new Map<string, Flow>();
  for (const tx of ctx.transactions) {
    // A reverted transaction moved nothing.
    if (tx.status === 0) continue;
    let inTx: Map<string, TxFlow> | undefined;
    for (const log of tx.logs) {
      const topics = log.topics;
      // ERC-721 shares the topic but indexes the token id as a fourth topic.
      if (topics.length !== 3 || topics[0] !== TRANSFER_TOPIC || log.data.length !== 66 || topics[1] === topics[2]) continue;
      const fromWatched = watchedTopics.has(topics[1]);
      const toWatched = watchedTopics.has(topics[2]);
      if (!fromWatched && !toWatched) continue;
      const amount = BigInt(log.data);
      if (amount === 0n) continue;
      const from = addressFromTopic(topics[1]);
      const to = addressFromTopic(topics[2]);
      if (fromWatched) inTx = addFlow(inTx, from, log.address, amount, { block: ctx.number, tx: tx.hash, kind: "erc20", to, amount });
      if (toWatched) inTx = addFlow(inTx, to, log.address, amount, undefined);
    }
    // Native value leaves only a contract that ran, and every contract that ran is in `touched`; a token
    // can leave one that never ran (transferFrom by a spender), so the logs above are read for every tx.
    if (tx.trace && tx.touched.some((c) => watched.has(c))) {
      for (const v of frameVisits(tx.trace)) {
        const { type, value, from, to } = v.frame;
        if (value === 0n || v.reverted || type === "DELEGATECALL" || type === "STATICCALL" || from === to) continue;
        if (watched.has(from)) inTx = addFlow(inTx, from, NATIVE, value, { block: ctx.number, tx: tx.hash, kind: "native", to, amount: value });
        if (watched.has(to)) inTx = addFlow(inTx, to, NATIVE, value, undefined);
      }
    }
    if (!inTx) continue;
    for (const [key, t] of inTx) {
      // A flash loan lends and is repaid in one transaction; only what stays gone counts as tx-net.
      const out = measure === "gross" ? t.out : t.out > t.in ? t.out - t.in : 0n;
      if (out === 0n) continue;
      let f = byKey.get(key);
      if (!f) byKey.set(key, (f = { contract: t.contract, asset: t.asset, out: 0n, transfers: [] }));
      f.out += out;
      for (const transfer of t.transfers) f.transfers.push(transfer);
    }
  }
  for (const f of byKey.values()) {
    f.transfers.sort(byAmountDesc);
    f.transfers.length = Math.min(f.transfers.length, largest);
  }
  return [...byKey.values()];
}

/**
 * account-net: per watched contract and asset, every counterparty's net movement in the block, kept even
 * for blocks where value only came in (a deposit earlier in the window nets a later withdrawal).
 */
function accountNetFlowsOfBlock(ctx: BlockContext, watched: ReadonlySet<string>, watchedTopics: ReadonlySet<string>, largest: number): Flow[] {
  const byKey = new Map<string, Flow>();
  for (const a of accountFlowsOfBlock(ctx, watched, watchedTopics)) {
    const key = flowKey(a.contract, a.asset);
    let f = byKey.get(key);
    if (!f) byKey.set(key, (f = { contract: a.contract, asset: a.asset, out: 0n, transfers: [], accounts: {} }));
    f.accounts![a.account] = (f.accounts![a.account] ?? 0n) + a.out - a.in;
    if (a.out > 0n) {
      f.out += a.out;
      f.transfers.push({ block: ctx.number, tx: a.tx, kind: a.asset === NATIVE ? "native" : "erc20", to: a.account, amount: a.out });
    }
  }
  for (const f of byKey.values()) {
    f.transfers.sort(byAmountDesc);
    f.transfers.length = Math.min(f.transfers.length, largest);
  }
  return [...byKey.values()];
}

const transferState = z.object({
  block: z.number(),
  tx: z.string(),
  kind: z.enum(["erc20", "native"]),
  to: z.string(),
  amount: z.string().transform(BigInt),
});
const blockFlowsSchema = z.object({
  block: z.number(),
  flows: z.array(
    z.object({
      contract: z.string(),
      asset: z.string(),
      out: z.string().transform(BigInt),
      transfers: z.array(transferState),
      accounts: z.record(z.string().transform(BigInt)).optional(),
    }),
  ),
});

/** Saved as one entry per block of the window, so a block persists only its own flows. */
const BLOCK = "block:";

function serializeBlock(h: BlockFlows): unknown {
  return {
    block: h.block,
    flows: h.flows.map((f) => ({
      ...f,
      out: f.out.toString(),
      transfers: f.transfers.map((t) => ({ ...t, amount: t.amount.toString() })),
      ...(f.accounts ? { accounts: Object.fromEntries(Object.entries(f.accounts).map(([k, v]) => [k, v.toString()])) } : {}),
    })),
  };
}

function formatShare(millionths: bigint): string {
  return (Number(millionths) / Number(SHARE_SCALE)).toFixed(6);
}

export const outflowSpikeDetector: DetectorDefinition<OutflowSpikeParams> = {
  id: ID,
  description: "Value (ERC-20 transfers and native value) leaving a protected contract over a rolling window of blocks, above an absolute amount or a share of its holdings.",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const watched = new Set(contracts.map((c) => c.address));
    const watchedTopics = new Set(contracts.map((c) => topicOf(c.address)));
    const names = new Map(contracts.map((c) => [c.address, c.name]));
    const limits = new Map(p.assets.map((a) => [a.asset, a]));
    let history: BlockFlows[] = [];
    const changed = new ChangedEntries();
    /** This block's flows and the holdings their share checks need, read ahead of the block's turn. */
    const reads = new PrefetchedReads<{ flows: Flow[]; holdings: Map<string, bigint | undefined> }>();

    const shareLimit = (asset: string): number | undefined => {
      const limit = limits.get(asset);
      return limit ? limit.maxShare : p.defaultMaxShare;
    };

    /** What `contract` holds of `asset` at a block's state; undefined when a token cannot say. */
    const heldAt = async (rpc: RpcClient, blockTag: unknown, contract: string, asset: string, blockNumber: number): Promise<bigint | undefined> => {
      if (asset === NATIVE) return BigInt(await rpc.request<string>("eth_getBalance", [contract, blockTag]));
      const raw = await rpc.request<string>("eth_call", [{ to: asset, data: balanceOfCall(contract) }, blockTag]);
      try {
        return decodeNumericWord("uint256", raw);
      } catch {
        // Something that emits Transfer without answering balanceOf: the share cannot be known.
        deps.logger.warn({ asset, contract, block_number: blockNumber }, "balanceOf returned no usable value; share not checked");
        return undefined;
      }
    };

    /**
     * What the contract holds of the asset after the block: at the block's own state, or for a pending
     * transaction (no block yet), at the latest state less what the transaction takes out (as measured:
     * with `gross`, what comes back in the same transaction is not added back, which errs towards firing).
     */
    const holdingsAt = async (ctx: BlockContext, flow: Flow, early?: Promise<bigint | undefined>): Promise<bigint | undefined> => {
      const { contract, asset } = flow;
      if (!ctx.pending) return early ?? heldAt(deps.rpc, { blockHash: ctx.hash }, contract, asset, ctx.number);
      const held = await heldAt(deps.rpc, "latest", contract, asset, ctx.number);
      if (held === undefined) return undefined;
      return held > flow.out ? held - flow.out : 0n;
    };

    /**
     * The holdings a share check will need, read before the block's flows are known so they share the
     * block context's round trip: every watched contract with every asset that has its own maxShare.
     * Assets checked only through defaultMaxShare are read once the flows name them. On a block without
     * outflows these reads are spent for nothing; they are one eth_call each.
     */
    const sharePairs = contracts.flatMap((c) => p.assets.filter((a) => a.maxShare !== undefined).map((a) => ({ contract: c.address, asset: a.asset })));
    const readHoldingsEarly = (rpc: RpcClient, block: BlockRef): Map<string, Promise<bigint | undefined>> =>
      new Map(
        sharePairs.map(({ contract, asset }) => {
          const read = heldAt(rpc, { blockHash: block.hash }, contract, asset, block.number);
          // Surfaced when readBlock awaits it; a block that never gets its turn must not leave it unhandled.
          read.catch(() => undefined);
          return [flowKey(contract, asset), read];
        }),
      );

    /** The block's flows, and in one round trip the holdings of every flow whose share is checked. */
    const readBlock = async (ctx: BlockContext, early = new Map<string, Promise<bigint | undefined>>()) => {
      const flows = p.measure === "account-net" ? accountNetFlowsOfBlock(ctx, watched, watchedTopics, p.largest) : flowsOfBlock(ctx, watched, watchedTopics, p.measure, p.largest);
      const checked = flows.filter((f) => f.out > 0n && shareLimit(f.asset) !== undefined);
      // Issued together, so the RPC client sends them as one batch.
      const values = await Promise.all(checked.map((f) => holdingsAt(ctx, f, early.get(flowKey(f.contract, f.asset)))));
      return { flows, holdings: new Map(checked.map((f, i) => [flowKey(f.contract, f.asset), values[i]])) };
    };

    const keepHistory = (keep: (h: BlockFlows) => boolean): void => {
      const kept: BlockFlows[] = [];
      for (const h of history) {
        if (keep(h)) kept.push(h);
        else changed.touch(BLOCK + h.block);
      }
      history = kept;
    };
    const record = (): Record<string, unknown> => Object.fromEntries(history.map((h) => [BLOCK + h.block, serializeBlock(h)]));

    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        // Re-processing a block (a restart before the cursor moved, or a replay) replaces its contribution.
        const { flows: current, holdings: holdingsOf } = await (ctx.pending ? readBlock(ctx) : reads.take(ctx.hash, () => readBlock(ctx)));
        keepHistory((h) => h.block < ctx.number && h.block > ctx.number - p.windowBlocks - p.reorgDepth);
        history.push({ block: ctx.number, flows: current });
        changed.touch(BLOCK + ctx.number);
        const inWindow = history.filter((h) => h.block > ctx.number - p.windowBlocks);

        const findings: Finding[] = [];
        for (const f of current) {
          if (f.out === 0n) continue;
          const maxAmount = limits.get(f.asset)?.maxAmount;
          const maxShare = shareLimit(f.asset);
          if (maxAmount === undefined && maxShare === undefined) continue;
          let measured = 0n;
          const transfers: Transfer[] = [];
          const perAccount = new Map<string, bigint>();
          for (const h of inWindow) {
            for (const g of h.flows) {
              if (g.contract !== f.contract || g.asset !== f.asset) continue;
              if (g.accounts) for (const [a, v] of Object.entries(g.accounts)) perAccount.set(a, (perAccount.get(a) ?? 0n) + v);
              else measured += g.out;
              transfers.push(...g.transfers);
            }
          }
          // account-net: only what an account took beyond what it put in during the window.
          for (const v of perAccount.values()) if (v > 0n) measured += v;
          if (measured === 0n) continue;
          const overAmount = maxAmount !== undefined && measured > maxAmount;
          let holdings: bigint | undefined;
          let share: bigint | undefined;
          let overShare = false;
          if (maxShare !== undefined) {
            holdings = holdingsOf.get(flowKey(f.contract, f.asset));
            if (holdings !== undefined) {
              // What it held before the window is roughly what it holds now plus what left since.
              share = (measured * SHARE_SCALE) / (holdings + measured);
              overShare = share > BigInt(Math.round(maxShare * Number(SHARE_SCALE)));
            }
          }
          if (!overAmount && !overShare) continue;
          transfers.sort(byAmountDesc);
          const name = names.get(f.contract) ?? f.contract;
          findings.push(
            makeFinding({
              detectorId: ID,
              severity: p.severity,
              title: `Outflow spike from ${name}: ${measured} ${f.asset === NATIVE ? "wei" : `of token ${f.asset}`} over ${p.windowBlocks} blocks`,
              block: ctx,
              txHash: f.transfers[0].tx,
              contract: f.contract,
              subject: flowKey(f.contract, f.asset),
              evidence: {
                contract: f.contract,
                contractName: name,
                asset: f.asset,
                measure: p.measure,
                windowBlocks: p.windowBlocks,
                fromBlock: Math.max(0, ctx.number - p.windowBlocks + 1),
                toBlock: ctx.number,
                windowTotal: measured,
                blockOut: f.out,
                trigger: overAmount && overShare ? "amount+share" : overAmount ? "amount" : "share",
                ...(maxAmount !== undefined ? { maxAmount } : {}),
                ...(maxShare !== undefined ? { maxShare, holdings: holdings ?? null, share: share === undefined ? null : formatShare(share) } : {}),
                largestTransfers: transfers.slice(0, p.largest),
              },
            }),
          );
        }
        return findings;
      },
      prefetch(block, context, rpc) {
        const early = readHoldingsEarly(rpc, block);
        reads.start(block.hash, async () => readBlock(await context, early));
      },
      rewind(blockNumber: number): void {
        keepHistory((h) => h.block <= blockNumber);
      },
      saveState: () => record(),
      saveChanges: () =>
        changed.take(record, (key) => {
          const h = history.find((x) => BLOCK + x.block === key);
          return h && serializeBlock(h);
        }),
      loadState(state: unknown): void {
        const entries = z.record(blockFlowsSchema).parse(state);
        history = Object.values(entries).sort((a, b) => a.block - b.block);
        changed.replaceAll();
      },
    };
  },
};
