import { Transaction, toQuantity } from "ethers";
import type { Logger } from "pino";
import type { RpcClient } from "../chain/types";
import type { Bundle, BundlePool } from "./bundle-pool";
import { effectiveGasPrice, nextBaseFee, simulateBundle, type BundleSimulation, type RpcBlock } from "./bundle-simulator";

export interface BuiltBlock {
  number: number;
  hash: string;
  timestamp: number;
  /** Hashes of the bundles that landed, in block order. */
  includedBundles: string[];
  failedBundles: { hash: string; reason: string }[];
  /** Public (mempool) transactions mined after the bundles. */
  publicTxCount: number;
}

interface PoolTx {
  hash: string;
  from: string;
  nonce: number;
  raw: string;
  tx: Transaction;
}

interface RpcBlockWithHashes extends RpcBlock {
  transactions: string[];
}

interface PoolTxJson {
  hash: string;
  type: string;
  chainId?: string;
  nonce: string;
  gas: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  to: string | null;
  value: string;
  input: string;
  accessList?: { address: string; storageKeys: string[] }[];
  authorizationList?: unknown[];
  r: string;
  s: string;
  v: string;
  yParity?: string;
  from: string;
}

interface Candidate {
  bundle: Bundle;
  simulation: BundleSimulation;
}

/**
 * Builds blocks on an anvil node the way a block builder does with bundles: the bundles for the block
 * go first (highest effective gas price first, each all-or-nothing), then the public mempool in fee
 * order. Anvil has no builder API, so the mechanism is:
 *
 * 1. take the public transactions out of anvil's pool (`txpool_content` gives them with their
 *    signatures, so they are re-serialised exactly; `anvil_dropTransaction` removes them);
 * 2. simulate each bundle for the block (eth_simulateV1) and drop the ones that fail on their own;
 * 3. `evm_snapshot`, submit the bundle transactions, then the public ones, and `evm_mine`. Anvil must run
 *    with `--order fifo`, so the block holds them in exactly that order;
 * 4. check every bundle transaction's receipt; if a bundle failed in combination with the ones before
 *    it, `evm_revert` and build again without it.
 *
 * Public transactions that cannot be re-serialised from the pool (blob transactions, unsigned
 * impersonated ones) stay in anvil's pool and are mined ahead of the bundles; they are logged.
 */
export class BlockBuilder {
  constructor(
    private readonly rpc: RpcClient,
    private readonly pool: BundlePool,
    private readonly logger: Logger,
  ) {}

  async build(): Promise<BuiltBlock> {
    const head = await this.rpc.request<RpcBlockWithHashes>("eth_getBlockByNumber", ["latest", false]);
    const headNumber = Number(head.number);
    const target = headNumber + 1;
    // Anvil picks the real timestamp (honouring evm_increaseTime and evm_setNextBlockTimestamp); this
    // estimate is only for simulation, and bundles' timestamp windows are checked against the mined block.
    const timestamp = Math.max(Number(head.timestamp) + 1, Math.floor(Date.now() / 1000));
    const baseFee = nextBaseFee({
      baseFeePerGas: BigInt(head.baseFeePerGas ?? 0),
      gasUsed: BigInt(head.gasUsed),
      gasLimit: BigInt(head.gasLimit),
    });

    const publicTxs = orderPublicTxs(await this.takePublicTxs(), baseFee);
    const failed: { hash: string; reason: string }[] = [];
    const fail = (bundle: Bundle, reason: string) => {
      this.pool.markFailed(bundle, reason);
      failed.push({ hash: bundle.hash, reason });
      this.logger.info({ bundle_hash: bundle.hash, block_number: target, reason }, "bundle dropped from block");
    };

    let candidates = await this.simulateCandidates(target, headNumber, timestamp, head.miner, fail);
    for (;;) {
      const snapshot = candidates.length > 0 ? await this.rpc.request<string>("evm_snapshot", []) : undefined;
      const refused = await this.submitBundles(candidates);
      if (refused) {
        await this.undo(snapshot, candidates, []);
        fail(refused.bundle, refused.reason);
        candidates = candidates.filter((c) => c.bundle !== refused.bundle);
        continue;
      }
      const publicSent = await this.submitPublic(publicTxs);
      await this.rpc.request("evm_mine", []);
      const block = await this.rpc.request<RpcBlockWithHashes>("eth_getBlockByNumber", [toQuantity(target), false]);
      const broken = await this.findBrokenBundle(candidates, block);
      if (broken) {
        await this.undo(snapshot, candidates, publicSent);
        fail(broken.bundle, broken.reason);
        candidates = candidates.filter((c) => c.bundle !== broken.bundle);
        continue;
      }
      for (const c of candidates) this.pool.markIncluded(c.bundle, { number: target, hash: block.hash }, BigInt(c.simulation.coinbaseDiff));
      this.pool.settle(target);
      const built: BuiltBlock = {
        number: target,
        hash: block.hash,
        timestamp: Number(block.timestamp),
        includedBundles: candidates.map((c) => c.bundle.hash),
        failedBundles: failed,
        publicTxCount: block.transactions.length - candidates.reduce((n, c) => n + c.bundle.txs.length, 0),
      };
      this.logger.debug({ block_number: target, block_hash: block.hash, bundles: built.includedBundles.length, public_txs: built.publicTxCount }, "block built");
      return built;
    }
  }

  private async simulateCandidates(
    target: number,
    stateBlock: number,
    timestamp: number,
    coinbase: string,
    fail: (bundle: Bundle, reason: string) => void,
  ): Promise<Candidate[]> {
    const candidates: Candidate[] = [];
    for (const bundle of this.pool.pendingFor(target)) {
      bundle.consideredAt = new Date();
      let simulation: BundleSimulation;
      try {
        simulation = await simulateBundle(this.rpc, bundle.txs, { blockNumber: target, stateBlock, timestamp, coinbase });
      } catch (err) {
        fail(bundle, (err as Error).message);
        continue;
      }
      this.pool.markSimulated(bundle, BigInt(simulation.totalGasUsed));
      const reverted = simulation.results.find((r) => r.error !== undefined && !bundle.revertingTxHashes.has(r.txHash.toLowerCase()));
      if (reverted) {
        fail(bundle, `tx ${reverted.txHash} reverts: ${reverted.revert || reverted.error}`);
        continue;
      }
      candidates.push({ bundle, simulation });
    }
    // A builder maximises its payment: the best-paying bundle per gas goes first; ties keep arrival order.
    return candidates.sort((a, b) => {
      const diff = BigInt(b.simulation.bundleGasPrice) - BigInt(a.simulation.bundleGasPrice);
      return diff > 0n ? 1 : diff < 0n ? -1 : a.bundle.receivedAt.getTime() - b.bundle.receivedAt.getTime();
    });
  }

  private async submitBundles(candidates: Candidate[]): Promise<{ bundle: Bundle; reason: string } | undefined> {
    for (const { bundle } of candidates) {
      for (const raw of bundle.txs) {
        try {
          await this.rpc.request("eth_sendRawTransaction", [raw]);
        } catch (err) {
          return { bundle, reason: `node refused a bundle transaction: ${(err as Error).message}` };
        }
      }
    }
    return undefined;
  }

  /** Re-adds the public transactions after the bundles; ones a bundle made invalid (same nonce) are dropped, as a builder would. */
  private async submitPublic(publicTxs: PoolTx[]): Promise<string[]> {
    const sent: string[] = [];
    for (const p of publicTxs) {
      try {
        await this.rpc.request("eth_sendRawTransaction", [p.raw]);
        sent.push(p.hash);
      } catch (err) {
        this.logger.debug({ tx_hash: p.hash, err: { message: (err as Error).message } }, "public transaction no longer valid after bundles; dropped");
      }
    }
    return sent;
  }

  private async findBrokenBundle(candidates: Candidate[], block: RpcBlockWithHashes): Promise<{ bundle: Bundle; reason: string } | undefined> {
    const position = new Map(block.transactions.map((h, i) => [h.toLowerCase(), i]));
    const timestamp = Number(block.timestamp);
    // Pool transactions that could not be taken out come first; after them, each bundle must sit
    // contiguously, in order, before every public transaction.
    let previous = -1;
    for (const c of candidates) {
      const { minTimestamp, maxTimestamp } = c.bundle;
      if ((minTimestamp && timestamp < minTimestamp) || (maxTimestamp && timestamp > maxTimestamp)) {
        return { bundle: c.bundle, reason: `block timestamp ${timestamp} is outside the bundle's [${minTimestamp ?? 0}, ${maxTimestamp ?? "∞"}]` };
      }
      for (const hash of c.bundle.txHashes) {
        const index = position.get(hash.toLowerCase());
        if (index === undefined) return { bundle: c.bundle, reason: `tx ${hash} was not included (nonce or gas conflict with an earlier bundle)` };
        if (previous >= 0 && index !== previous + 1) return { bundle: c.bundle, reason: `tx ${hash} landed at index ${index}, not right after index ${previous}` };
        previous = index;
        if (c.bundle.revertingTxHashes.has(hash.toLowerCase())) continue;
        const receipt = await this.rpc.request<{ status: string }>("eth_getTransactionReceipt", [hash]);
        if (BigInt(receipt.status) !== 1n) return { bundle: c.bundle, reason: `tx ${hash} reverted in the block` };
      }
    }
    return undefined;
  }

  private async undo(snapshot: string | undefined, candidates: Candidate[], publicSent: string[]): Promise<void> {
    if (snapshot !== undefined) await this.rpc.request("evm_revert", [snapshot]);
    // Whatever was submitted but not mined would otherwise sit in the pool ahead of the next attempt.
    const hashes = [...candidates.flatMap((c) => c.bundle.txHashes), ...publicSent];
    for (const hash of hashes) await this.rpc.request("anvil_dropTransaction", [hash]);
  }

  private async takePublicTxs(): Promise<PoolTx[]> {
    const content = await this.rpc.request<{ pending: Record<string, Record<string, PoolTxJson>>; queued: Record<string, Record<string, PoolTxJson>> }>(
      "txpool_content",
      [],
    );
    const taken: PoolTx[] = [];
    for (const bySender of [content.pending, content.queued]) {
      for (const byNonce of Object.values(bySender ?? {})) {
        for (const json of Object.values(byNonce)) {
          const tx = reserialize(json);
          if (!tx) {
            this.logger.warn({ tx_hash: json.hash, type: json.type }, "pool transaction cannot be re-serialised; it stays ahead of bundles");
            continue;
          }
          taken.push({ hash: json.hash, from: json.from.toLowerCase(), nonce: Number(json.nonce), raw: tx.serialized, tx });
        }
      }
    }
    for (const t of taken) await this.rpc.request("anvil_dropTransaction", [t.hash]);
    return taken;
  }
}

/** Rebuilds a signed transaction from its JSON-RPC form; undefined when it cannot reproduce the same hash. */
function reserialize(json: PoolTxJson): Transaction | undefined {
  const type = Number(json.type);
  if (type === 3) return undefined; // blob sidecars are not in txpool_content
  try {
    const tx = Transaction.from({
      type,
      chainId: json.chainId !== undefined ? BigInt(json.chainId) : undefined,
      nonce: Number(json.nonce),
      gasLimit: BigInt(json.gas),
      to: json.to,
      value: BigInt(json.value),
      data: json.input,
      ...(type === 0 || type === 1 ? { gasPrice: BigInt(json.gasPrice ?? 0) } : { maxFeePerGas: BigInt(json.maxFeePerGas ?? 0), maxPriorityFeePerGas: BigInt(json.maxPriorityFeePerGas ?? 0) }),
      ...(type !== 0 ? { accessList: json.accessList ?? [] } : {}),
      ...(type === 4 ? { authorizationList: json.authorizationList as never } : {}),
      signature: { r: json.r, s: json.s, v: type === 0 ? BigInt(json.v) : 27 + Number(json.yParity ?? json.v) },
    });
    return tx.hash?.toLowerCase() === json.hash.toLowerCase() ? tx : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Orders public transactions as a fee-maximising builder: repeatedly take the sender whose next
 * transaction (by nonce) pays the highest effective tip. Nonce order per sender is always kept.
 */
function orderPublicTxs(txs: PoolTx[], baseFee: bigint): PoolTx[] {
  const bySender = new Map<string, PoolTx[]>();
  for (const t of txs) {
    const list = bySender.get(t.from) ?? [];
    list.push(t);
    bySender.set(t.from, list);
  }
  for (const list of bySender.values()) list.sort((a, b) => a.nonce - b.nonce);
  const tip = (t: PoolTx) => effectiveGasPrice(t.tx, baseFee) - baseFee;
  const ordered: PoolTx[] = [];
  while (bySender.size > 0) {
    let best: [string, PoolTx[]] | undefined;
    for (const entry of bySender) if (!best || tip(entry[1][0]) > tip(best[1][0])) best = entry;
    const [sender, list] = best as [string, PoolTx[]];
    ordered.push(list.shift() as PoolTx);
    if (list.length === 0) bySender.delete(sender);
  }
  return ordered;
}
