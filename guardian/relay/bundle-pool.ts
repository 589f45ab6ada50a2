import { Transaction, keccak256 } from "ethers";

/** What a relay keeps of one `eth_sendBundle` call. */
export interface Bundle {
  /** keccak256 of the concatenated tx hashes, as Flashbots (and `FlashbotsBundleProvider.generateBundleHash`) computes it. */
  hash: string;
  blockNumber: number;
  txs: string[];
  txHashes: string[];
  minTimestamp?: number;
  maxTimestamp?: number;
  /** Lowercase hashes of the transactions allowed to revert without failing the bundle. */
  revertingTxHashes: Set<string>;
  replacementUuid?: string;
  /** The X-Flashbots-Signature address that sent it. */
  signer: string;
  receivedAt: Date;
  state: BundleState;
  simulatedAt?: Date;
  consideredAt?: Date;
  sealedAt?: Date;
  includedIn?: { number: number; hash: string };
  /** Why it did not land (failed simulation, cancelled, replaced, target block passed). */
  reason?: string;
  /** Sum of the priority fees and coinbase transfers it paid, once included. */
  validatorPayment?: bigint;
  gasUsed?: bigint;
}

export interface SignerTotals {
  included: number;
  validatorPayments: bigint;
  gasSimulated: bigint;
}

export type BundleState = "pending" | "included" | "failed" | "expired" | "cancelled" | "replaced";

export interface NewBundle {
  txs: string[];
  blockNumber: number;
  minTimestamp?: number;
  maxTimestamp?: number;
  revertingTxHashes?: string[];
  replacementUuid?: string;
  signer: string;
}

export class BundleValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleValidationError";
  }
}

export function bundleHashOf(txHashes: readonly string[]): string {
  return keccak256(`0x${txHashes.map((h) => h.slice(2)).join("")}`);
}

/** Decodes a signed raw transaction, naming the bundle index on failure. */
export function decodeSignedTx(raw: unknown, index: number, chainId: number): Transaction {
  if (typeof raw !== "string" || !/^0x[0-9a-fA-F]+$/.test(raw)) {
    throw new BundleValidationError(`txs[${index}] must be a 0x-prefixed signed transaction`);
  }
  let tx: Transaction;
  try {
    tx = Transaction.from(raw);
  } catch (err) {
    throw new BundleValidationError(`txs[${index}] is not a valid signed transaction: ${(err as Error).message}`);
  }
  if (!tx.isSigned() || !tx.from) throw new BundleValidationError(`txs[${index}] is not signed`);
  if (tx.chainId !== 0n && tx.chainId !== BigInt(chainId)) {
    throw new BundleValidationError(`txs[${index}] is for chain ${tx.chainId}, this relay serves chain ${chainId}`);
  }
  return tx;
}

/**
 * The relay's bundle book: bundles by target block, replacement by uuid, cancellation, and the
 * per-signer totals behind `flashbots_getUserStatsV2`. Bundles whose block has passed are kept (as
 * expired/included/failed) for a while so their stats stay answerable, then pruned.
 */
export class BundlePool {
  private readonly bundles = new Map<string, Bundle>();
  private readonly signerTotals = new Map<string, SignerTotals>();
  private readonly retainBlocks: number;

  constructor(
    private readonly chainId: number,
    options: { retainBlocks?: number } = {},
  ) {
    this.retainBlocks = options.retainBlocks ?? 256;
  }

  add(input: NewBundle, headNumber: number): Bundle {
    if (!Array.isArray(input.txs) || input.txs.length === 0) throw new BundleValidationError("txs must be a non-empty array");
    if (!Number.isSafeInteger(input.blockNumber) || input.blockNumber <= headNumber) {
      throw new BundleValidationError(`blockNumber ${input.blockNumber} is not after the head block ${headNumber}`);
    }
    const decoded = input.txs.map((raw, i) => decodeSignedTx(raw, i, this.chainId));
    const txHashes = decoded.map((tx) => tx.hash as string);
    const hash = bundleHashOf(txHashes);
    const bundle: Bundle = {
      hash,
      blockNumber: input.blockNumber,
      txs: input.txs,
      txHashes,
      minTimestamp: input.minTimestamp || undefined,
      maxTimestamp: input.maxTimestamp || undefined,
      revertingTxHashes: new Set((input.revertingTxHashes ?? []).map((h) => h.toLowerCase())),
      replacementUuid: input.replacementUuid,
      signer: input.signer,
      receivedAt: new Date(),
      state: "pending",
    };
    if (bundle.replacementUuid) {
      for (const other of this.bundles.values()) {
        if (other.state === "pending" && other.replacementUuid === bundle.replacementUuid && other.signer === bundle.signer) {
          other.state = "replaced";
          other.reason = `replaced by bundle ${hash}`;
        }
      }
    }
    this.bundles.set(key(hash, input.blockNumber), bundle);
    return bundle;
  }

  /** Cancels the signer's pending bundles with this uuid; returns their hashes. */
  cancel(replacementUuid: string, signer: string): string[] {
    const cancelled: string[] = [];
    for (const b of this.bundles.values()) {
      if (b.state === "pending" && b.replacementUuid === replacementUuid && b.signer === signer) {
        b.state = "cancelled";
        b.reason = "cancelled by eth_cancelBundle";
        cancelled.push(b.hash);
      }
    }
    return cancelled;
  }

  get(hash: string, blockNumber: number): Bundle | undefined {
    return this.bundles.get(key(hash.toLowerCase(), blockNumber));
  }

  /** Pending bundles for `blockNumber`, in arrival order. */
  pendingFor(blockNumber: number): Bundle[] {
    return [...this.bundles.values()].filter((b) => b.state === "pending" && b.blockNumber === blockNumber);
  }

  /** Marks bundles whose target block is at or below `minedNumber` and still pending as expired, and prunes old ones. */
  settle(minedNumber: number): void {
    for (const [k, b] of this.bundles) {
      if (b.state === "pending" && b.blockNumber <= minedNumber) {
        b.state = "expired";
        b.reason = `target block ${b.blockNumber} passed without inclusion`;
      }
      if (b.blockNumber < minedNumber - this.retainBlocks) this.bundles.delete(k);
    }
  }

  /** Records a simulation of the bundle (gas counts toward its signer's stats). */
  markSimulated(bundle: Bundle, gasUsed: bigint): void {
    bundle.simulatedAt ??= new Date();
    bundle.gasUsed = gasUsed;
    this.totalsOf(bundle.signer).gasSimulated += gasUsed;
  }

  markIncluded(bundle: Bundle, block: { number: number; hash: string }, validatorPayment: bigint): void {
    bundle.state = "included";
    bundle.sealedAt = new Date();
    bundle.includedIn = block;
    bundle.validatorPayment = validatorPayment;
    const totals = this.totalsOf(bundle.signer);
    totals.included++;
    totals.validatorPayments += validatorPayment;
  }

  markFailed(bundle: Bundle, reason: string): void {
    bundle.state = "failed";
    bundle.reason = reason;
  }

  /** All-time totals for one signer since the relay started. */
  userStats(signer: string): SignerTotals {
    return { ...this.totalsOf(signer) };
  }

  private totalsOf(signer: string): SignerTotals {
    let totals = this.signerTotals.get(signer);
    if (!totals) {
      totals = { included: 0, validatorPayments: 0n, gasSimulated: 0n };
      this.signerTotals.set(signer, totals);
    }
    return totals;
  }

  all(): Bundle[] {
    return [...this.bundles.values()];
  }
}

function key(hash: string, blockNumber: number): string {
  return `${hash}:${blockNumber}`;
}
