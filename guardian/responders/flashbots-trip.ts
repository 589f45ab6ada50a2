import { FlashbotsBundleProvider } from "@flashbots/ethers-provider-bundle";
import { Wallet, getAddress, keccak256, solidityPacked, type TransactionReceipt } from "ethers";
import type { Logger } from "pino";
import { z } from "zod";
import { CircuitBreaker__factory } from "../../typechain-types";
import { redactUrl } from "../chain/rpc";
import { decodeRevert, nextBaseFee } from "../relay/bundle-simulator";
import { FeePolicy, feeParamsSchema, type Fees } from "./fee-policy";
import { GuardianKeyError, keySourceSchema, loadGuardianKey } from "./guardian-key";
import { NonceManager, type NonceLease } from "./nonce-manager";
import { RpcClientProvider } from "./rpc-provider";
import { readBidInputs } from "./bid-inputs";
import { bidParamsSchema, tripBid } from "./trip-bid";
import type { ResponderDefinition, ResponderDeps, TimelineEntry, TripOutcome, TripRequest, TripResponder } from "./types";

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name");
const httpUrl = z.string().refine((s) => /^https?:\/\/[^\s/]+/i.test(s) && URL.canParse(s), "expected an http(s) URL");

export const flashbotsTripParams = z
  .object({
    /** Every relay or builder endpoint the bundle goes to. */
    relays: z.array(z.object({ name: z.string().min(1).optional(), url: httpUrl }).strict()).min(1, "configure at least one relay or builder"),
    /** The guardian key (holder of GUARDIAN_ROLE): `{ keyEnv }` or `{ keystore, passwordEnv }`. */
    signer: keySourceSchema,
    /** Key that signs X-Flashbots-Signature (builder reputation). A fresh random key per start if unset. */
    authKeyEnv: envName.optional(),
    /** Each submission targets this many upcoming blocks. */
    targetBlocks: z.number().int().min(1).max(25).default(3),
    /** Give up after this many blocks without inclusion. */
    maxBlocks: z.number().int().min(1).max(1_000).default(25),
    /** Fixed gas limit for the trip; estimated (+25%) when unset. */
    gasLimit: z.number().int().min(21_000).optional(),
    fees: feeParamsSchema.default({}),
    /**
     * Opening bid set from competing tips and the value at risk (trip-bid.ts), so the first submission already
     * competes with an attacker who bids. On by default; `bid: false` opens at `fees.priorityFeeGwei` alone.
     */
    bid: z.union([bidParamsSchema, z.literal(false)]).default({}),
    /** Also broadcast the trip to the public mempool once this many blocks passed without inclusion. */
    publicFallbackAfterBlocks: z.number().int().min(1).optional(),
    pollIntervalMs: z.number().int().min(10).max(60_000).default(250),
    /** Log the bundle that would be sent and send nothing. */
    dryRun: z.boolean().default(false),
  })
  .strict();

export type FlashbotsTripParams = z.infer<typeof flashbotsTripParams>;

const breakerInterface = CircuitBreaker__factory.createInterface();
const ALREADY_KNOWN = /already known|already imported|known transaction|nonce too low|replacement transaction underpriced/i;

interface Relay {
  label: string;
  provider: FlashbotsBundleProvider;
}

interface SentVersion {
  hash: string;
  /** Unset for a version an earlier process sent (known only by hash). */
  fees?: Fees;
}

/**
 * Trips a CircuitBreaker through private bundles: simulate, sign with the guardian key, send to every
 * relay for each of the next `targetBlocks` blocks, and resubmit every block with a higher priority fee
 * (within caps) until the trip is included or the breaker is seen tripped by anyone. One trip per breaker
 * at a time (concurrent requests share it), one nonce lease per transaction (fee bumps replace it).
 */
export class FlashbotsTripResponder implements TripResponder {
  readonly type = "flashbots-trip";
  private readonly log: Logger;
  private readonly provider: RpcClientProvider;
  private readonly keys: Promise<{ signer: Wallet; auth: Wallet }>;
  private relays?: Promise<Relay[]>;
  private nonces?: NonceManager;
  private readonly inFlight = new Map<string, Promise<TripOutcome>>();
  private readonly closing = new AbortController();
  /** Versions of trip transactions that also went to the public mempool. */
  private readonly sentPublicly = new Set<string>();

  constructor(
    readonly name: string,
    private readonly params: FlashbotsTripParams,
    private readonly deps: ResponderDeps,
  ) {
    this.log = deps.logger.child({ stage: "responder", responder: name });
    this.provider = new RpcClientProvider(deps.rpc);
    // Decrypting a keystore takes a while: start now, so an incident never waits on it.
    this.keys = this.loadKeys();
    this.keys.catch(() => undefined);
  }

  /** The guardian's address (after `start`). */
  async address(): Promise<string> {
    return (await this.keys).signer.address;
  }

  async start(): Promise<void> {
    this.relays ??= this.connectRelays();
    await this.relays;
  }

  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.inFlight.values()]);
    this.provider.destroy();
  }

  trip(request: TripRequest): Promise<TripOutcome> {
    const key = request.breaker.toLowerCase();
    const running = this.inFlight.get(key);
    if (running) {
      this.log.info({ breaker: key, incident_id: request.incidentId }, "trip already in flight for this breaker; joining it");
      return running;
    }
    const run = this.runTrip(request).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, run);
    return run;
  }

  private async loadKeys(): Promise<{ signer: Wallet; auth: Wallet }> {
    const env = this.deps.env ?? process.env;
    const signer = await loadGuardianKey(this.params.signer, { env, baseDir: this.deps.baseDir });
    let auth: Wallet;
    if (this.params.authKeyEnv) auth = await loadGuardianKey({ keyEnv: this.params.authKeyEnv }, { env });
    else auth = new Wallet(Wallet.createRandom().privateKey);
    return { signer, auth };
  }

  private async connectRelays(): Promise<Relay[]> {
    const { signer, auth } = await this.keys;
    this.nonces = new NonceManager(() => this.provider.getTransactionCount(signer.address, "latest"));
    const relays = await Promise.all(
      this.params.relays.map(async (r) => ({
        label: r.name ?? redactUrl(r.url),
        provider: await FlashbotsBundleProvider.create(this.provider, auth, r.url, this.deps.chainId),
      })),
    );
    this.log.info(
      { guardian: signer.address, auth_signer: auth.address, relays: relays.map((r) => r.label), dry_run: this.params.dryRun },
      "trip responder ready",
    );
    return relays;
  }

  private async runTrip(request: TripRequest): Promise<TripOutcome> {
    const breakerAddress = getAddress(request.breaker);
    const timeline: TimelineEntry[] = [
      { step: "detected", at: new Date(request.detectedAt).toISOString(), ms: 0, ...(request.detectedBlock !== undefined ? { blockNumber: request.detectedBlock } : {}) },
    ];
    const bundleHashes: string[] = [];
    const mark = (step: TimelineEntry["step"], extra: Omit<TimelineEntry, "step" | "at" | "ms"> = {}) => {
      const entry: TimelineEntry = { step, at: new Date().toISOString(), ms: Date.now() - request.detectedAt, ...extra };
      timeline.push(entry);
      return entry;
    };
    const finish = (status: TripOutcome["status"], extra: Partial<TripOutcome> = {}): TripOutcome => {
      const outcome: TripOutcome = { status, incidentId: request.incidentId, breaker: breakerAddress.toLowerCase(), bundleHashes, timeline, ...extra };
      this.log.info(
        { incident_id: request.incidentId, breaker: outcome.breaker, status, tx_hash: outcome.txHash, block_number: outcome.blockNumber, via: outcome.via, bundle_hashes: bundleHashes, error: outcome.error },
        `trip ${status}`,
      );
      return outcome;
    };
    const log = this.log.child({ incident_id: request.incidentId, breaker: breakerAddress.toLowerCase() });

    let relays: Relay[];
    let signer: Wallet;
    try {
      await this.start();
      relays = (await this.relays) as Relay[];
      signer = (await this.keys).signer;
    } catch (err) {
      const message = err instanceof GuardianKeyError ? err.message : `responder not ready: ${(err as Error).message}`;
      mark("failed", { detail: message });
      return finish("failed", { error: message });
    }

    const breaker = CircuitBreaker__factory.connect(breakerAddress, this.provider);
    const dryRun = this.params.dryRun || request.dryRun === true;
    const signal = request.signal ? AbortSignal.any([this.closing.signal, request.signal]) : this.closing.signal;
    const versions: SentVersion[] = (request.knownTxHashes ?? []).map((hash) => ({ hash }));
    const uuids = new Set<string>();
    let lease: NonceLease | undefined;

    try {
      // Every read the first submission needs, at once: an incident is a race.
      const reads = await Promise.all([
        this.trippedBy(breakerAddress),
        this.params.gasLimit !== undefined
          ? Promise.resolve({ ok: true as const, limit: BigInt(this.params.gasLimit) })
          : breaker.trip.estimateGas(request.incidentId, { from: signer.address }).then(
              (estimate) => ({ ok: true as const, limit: (estimate * 125n) / 100n }),
              (err: unknown) => ({ ok: false as const, reason: describeRevert(err) }),
            ),
        this.provider.getBlock("latest"),
        dryRun ? Promise.resolve(undefined) : (this.nonces as NonceManager).reserve(),
      ]);
      const [before, gas, head] = reads;
      lease = reads[3];
      if (before) {
        mark("already-tripped", { detail: `tripped for incident ${before.incidentId} by ${before.guardian}` });
        return finish("already-tripped", { trippedBy: before });
      }
      if (!gas.ok) {
        mark("failed", { detail: `trip would revert: ${gas.reason}` });
        return finish("failed", { error: `trip would revert for guardian ${signer.address}: ${gas.reason}` });
      }
      if (!head) throw new Error("the node returned no latest block");
      const gasLimit = gas.limit;
      const data = breakerInterface.encodeFunctionData("trip", [request.incidentId]);
      const bid = this.params.bid !== false
        ? tripBid(this.params.bid, await readBidInputs(this.deps.rpc, this.params.bid, { breaker: breakerAddress, head: head.number, gasLimit, minimumTipGwei: this.params.fees.priorityFeeGwei, pendingAttackerTip: request.frontRun?.maxPriorityFeePerGas }))
        : undefined;
      if (bid) log.info({ tip: bid.tip.toString(), tip_cap: bid.tipCap.toString(), reason: bid.reason, top_competing_tip: bid.topCompetingTip.toString() }, "opening bid");
      const fees = new FeePolicy(this.params.fees, request.frontRun, nextBaseFeeOf(head), bid);
      if (request.frontRun && fees.outbidCapped) {
        log.warn({ attacker_tx: request.frontRun.txHash, attacker_priority_fee: request.frontRun.maxPriorityFeePerGas.toString(), cap: fees.maxPriorityFee.toString() }, "attacker pays more than the priority fee cap; bidding the cap");
      }
      let nonce = lease?.nonce ?? (await this.provider.getTransactionCount(signer.address, "pending"));

      let current = head;
      let simulated = false;
      for (let waited = 0; ; waited++) {
        const blockFees = fees.current(nextBaseFeeOf(current));
        if (!blockFees) {
          log.warn({ block_number: current.number, base_fee: String(current.baseFeePerGas), cap: fees.maxFee.toString() }, "base fee above the max fee cap; not sending this block");
        } else {
          const raw = await signer.signTransaction({
            type: 2,
            chainId: this.deps.chainId,
            to: breakerAddress,
            data,
            nonce,
            gasLimit,
            maxFeePerGas: blockFees.maxFeePerGas,
            maxPriorityFeePerGas: blockFees.maxPriorityFeePerGas,
          });
          const txHash = keccak256(raw);
          if (!simulated) {
            const sim = await this.simulate(relays[0], raw, current.number + 1, signer.address, breakerAddress, data);
            if (!sim.ok) {
              mark("failed", { blockNumber: current.number, detail: `simulation failed: ${sim.reason}` });
              return finish("failed", { error: `simulation failed: ${sim.reason}` });
            }
            mark("simulated", { blockNumber: current.number, txHash, detail: `${sim.method}: gasUsed ${sim.gasUsed}, trip returns ${sim.tripReturns}` });
            simulated = true;
            if (!sim.tripReturns) {
              const by = await this.trippedBy(breakerAddress);
              mark("already-tripped", { blockNumber: current.number, detail: "trip() would return false: the breaker is already tripped" });
              return finish("already-tripped", by ? { trippedBy: by } : {});
            }
          }
          const targets = Array.from({ length: this.params.targetBlocks }, (_, i) => current.number + 1 + i);
          if (dryRun) {
            log.info(
              { dry_run: true, relays: relays.map((r) => r.label), target_blocks: targets, tx: { hash: txHash, from: signer.address, to: breakerAddress, data, nonce, gas_limit: gasLimit.toString(), max_fee_per_gas: blockFees.maxFeePerGas.toString(), max_priority_fee_per_gas: blockFees.maxPriorityFeePerGas.toString(), raw } },
              "dry run: would send this trip bundle",
            );
            mark("dry-run", { blockNumber: current.number, txHash, priorityFeePerGas: blockFees.maxPriorityFeePerGas.toString(), detail: `would send to ${relays.length} relay(s) for blocks ${targets.join(", ")}` });
            return finish("dry-run", { txHash });
          }
          versions.push({ hash: txHash, fees: blockFees });
          // Committed before the transaction leaves the process: a restart then knows it may land.
          await request.journal?.({ phase: "signed", txHash, nonce, timeline: [...timeline], bundleHashes: [...bundleHashes] });
          const bundleHash = await this.sendBundles(relays, raw, targets, request.incidentId, signer.address, uuids, log);
          if (bundleHash && !bundleHashes.includes(bundleHash)) bundleHashes.push(bundleHash);
          mark(waited === 0 && !request.knownTxHashes?.length ? "sent" : "resubmitted", {
            blockNumber: current.number,
            txHash,
            priorityFeePerGas: blockFees.maxPriorityFeePerGas.toString(),
            ...(bundleHash ? { bundleHashes: [bundleHash] } : { detail: "no relay accepted the bundle" }),
          });
          await request.journal?.({ phase: "sent", txHash, nonce, timeline: [...timeline], bundleHashes: [...bundleHashes] });
          if (this.params.publicFallbackAfterBlocks !== undefined && waited >= this.params.publicFallbackAfterBlocks) {
            await this.broadcastPublicly(raw, txHash, log);
            mark("public-fallback", { blockNumber: current.number, txHash, priorityFeePerGas: blockFees.maxPriorityFeePerGas.toString() });
          }
        }

        const next = await this.nextBlock(current.number, signal);
        if (!next) {
          if (this.closing.signal.aborted && !request.signal?.aborted) {
            // A shutdown, not a decision to stop: the bundles stay at the relays and the next start resumes the trip.
            mark("interrupted", { detail: "responder closing (shutdown); bundles left pending, resumed on the next start" });
            return finish("interrupted");
          }
          await this.cancelBundles(relays, uuids);
          mark("aborted", { detail: "request aborted" });
          return finish("aborted");
        }
        current = next;

        let landed = await this.findIncluded(versions);
        if (!landed) {
          const by = await this.trippedBy(breakerAddress);
          // Our own trip may have landed between the receipt lookup and the state read: look again.
          if (by) landed = await this.findIncluded(versions);
          if (by && !landed) {
            await this.cancelBundles(relays, uuids);
            mark("already-tripped", { blockNumber: current.number, detail: `tripped for incident ${by.incidentId} by ${by.guardian}` });
            return finish("already-tripped", { trippedBy: by });
          }
        }
        if (landed) {
          const verified = await this.verifyInclusion(landed.receipt, request.incidentId, breakerAddress);
          const extra = { blockNumber: landed.receipt.blockNumber, blockHash: landed.receipt.blockHash, txHash: landed.version.hash, ...(landed.version.fees ? { priorityFeePerGas: landed.version.fees.maxPriorityFeePerGas.toString() } : {}) };
          const via = this.sentPublicly.has(landed.version.hash) ? "public" : "bundle";
          if (!verified.ok) {
            mark("failed", { ...extra, detail: verified.reason });
            return finish("failed", { error: verified.reason, via, txHash: extra.txHash, blockNumber: extra.blockNumber, blockHash: extra.blockHash });
          }
          if (!verified.tripped) {
            const by = await this.trippedBy(breakerAddress);
            mark("already-tripped", { ...extra, detail: "our trip was included but the breaker was already tripped in that block" });
            return finish("already-tripped", { via, txHash: extra.txHash, blockNumber: extra.blockNumber, blockHash: extra.blockHash, ...(by ? { trippedBy: by } : {}) });
          }
          // The other target blocks' bundles can no longer land (the nonce is used); spare the builders.
          void this.cancelBundles(relays, uuids);
          mark("included", { ...extra, detail: `transaction index ${landed.receipt.index}` });
          return finish("included", { via, txHash: extra.txHash, blockNumber: extra.blockNumber, blockHash: extra.blockHash });
        }
        if (lease && (await this.provider.getTransactionCount(signer.address, "latest")) > lease.nonce && !(await this.findIncluded(versions))) {
          // Another transaction from this key (another process?) used our nonce: none of our versions can land.
          log.warn({ nonce: lease.nonce }, "trip nonce was used by another transaction of the guardian key; re-signing with a new nonce");
          lease.release();
          lease = await (this.nonces as NonceManager).reserve();
          nonce = lease.nonce;
        }
        if (waited + 1 >= this.params.maxBlocks) {
          await this.cancelBundles(relays, uuids);
          const reason = `not included within ${this.params.maxBlocks} blocks`;
          mark("failed", { blockNumber: current.number, detail: reason });
          return finish("failed", { error: reason });
        }
        fees.bump();
      }
    } catch (err) {
      log.error({ err }, "trip failed");
      mark("failed", { detail: (err as Error).message });
      return finish("failed", { error: (err as Error).message });
    } finally {
      lease?.release();
    }
  }

  private async simulate(
    relay: Relay,
    raw: string,
    targetBlock: number,
    from: string,
    to: string,
    data: string,
  ): Promise<{ ok: true; method: string; gasUsed: number; tripReturns: boolean } | { ok: false; reason: string }> {
    try {
      const sim = await relay.provider.simulate([raw], targetBlock);
      if (!("error" in sim)) {
        const result = sim.results[0];
        if ("error" in result) return { ok: false, reason: `${relay.label} eth_callBundle: ${describeRevertData(result.revert) || result.error}` };
        return { ok: true, method: "eth_callBundle", gasUsed: result.gasUsed, tripReturns: decodeTripResult(result.value) };
      }
      if (sim.error.code !== -32601) return { ok: false, reason: `${relay.label} eth_callBundle: ${sim.error.message}` };
    } catch (err) {
      this.log.warn({ relay: relay.label, err: { message: (err as Error).message } }, "eth_callBundle unavailable; simulating with eth_call");
    }
    try {
      const [out, gas] = await Promise.all([
        this.provider.call({ from, to, data, blockTag: "latest" }),
        this.provider.estimateGas({ from, to, data }),
      ]);
      return { ok: true, method: "eth_call", gasUsed: Number(gas), tripReturns: decodeTripResult(out) };
    } catch (err) {
      return { ok: false, reason: `eth_call: ${describeRevert(err)}` };
    }
  }

  private async sendBundles(
    relays: Relay[],
    raw: string,
    targets: number[],
    incidentId: string,
    guardian: string,
    uuids: Set<string>,
    log: Logger,
  ): Promise<string | undefined> {
    let bundleHash: string | undefined;
    await Promise.all(
      relays.flatMap((relay) =>
        targets.map(async (target) => {
          // One uuid per incident and target block: a fee bump for the same block replaces the older bundle.
          const replacementUuid = uuidFor(incidentId, target, guardian);
          uuids.add(replacementUuid);
          try {
            const sent = await relay.provider.sendRawBundle([raw], target, { replacementUuid });
            if ("error" in sent) {
              log.warn({ relay: relay.label, target_block: target, relay_error: sent.error.message, code: sent.error.code }, "relay refused the trip bundle");
              return;
            }
            bundleHash = sent.bundleHash;
          } catch (err) {
            log.warn({ relay: relay.label, target_block: target, err: { message: (err as Error).message } }, "could not reach relay");
          }
        }),
      ),
    );
    return bundleHash;
  }

  private async broadcastPublicly(raw: string, txHash: string, log: Logger): Promise<void> {
    try {
      await this.provider.broadcastTransaction(raw);
      this.sentPublicly.add(txHash);
      log.warn({ tx_hash: txHash }, "trip not included through bundles; broadcast to the public mempool");
    } catch (err) {
      if (!ALREADY_KNOWN.test((err as Error).message)) log.warn({ tx_hash: txHash, err: { message: (err as Error).message } }, "public broadcast refused");
    }
  }

  private async cancelBundles(relays: Relay[], uuids: Set<string>): Promise<void> {
    await Promise.all(
      relays.flatMap((relay) => [...uuids].map((uuid) => relay.provider.cancelBundles(uuid).catch(() => undefined))),
    );
  }

  /** Resolves with the first block above `after`, or undefined when aborted. */
  private async nextBlock(after: number, signal: AbortSignal) {
    while (!signal.aborted) {
      const block = await this.provider.getBlock("latest");
      if (block && block.number > after) return block;
      await sleep(this.params.pollIntervalMs, signal);
    }
    return undefined;
  }

  private async findIncluded(versions: SentVersion[]): Promise<{ version: SentVersion; receipt: TransactionReceipt } | undefined> {
    for (const version of versions) {
      const receipt = await this.provider.getTransactionReceipt(version.hash);
      if (!receipt) continue;
      // After a reorg a node may still serve the receipt from the orphaned block (anvil does): only a canonical one counts.
      const block = await this.provider.getBlock(receipt.blockNumber);
      if (block?.hash === receipt.blockHash) return { version, receipt };
    }
    return undefined;
  }

  /** Checks the receipt against the canonical block and reads whether this transaction did the tripping. */
  private async verifyInclusion(receipt: TransactionReceipt, incidentId: string, breaker: string): Promise<{ ok: true; tripped: boolean } | { ok: false; reason: string }> {
    const block = await this.provider.getBlock(receipt.blockNumber);
    if (!block || block.hash !== receipt.blockHash || !block.transactions.includes(receipt.hash)) {
      return { ok: false, reason: `tx ${receipt.hash} is not in the canonical block ${receipt.blockNumber}` };
    }
    if (receipt.status !== 1) return { ok: false, reason: `trip tx ${receipt.hash} reverted in block ${receipt.blockNumber}` };
    const tripped = receipt.logs.some((l) => {
      if (l.address.toLowerCase() !== breaker.toLowerCase()) return false;
      const parsed = breakerInterface.parseLog(l);
      return parsed?.name === "Tripped" && parsed.args.incidentId === incidentId;
    });
    return { ok: true, tripped };
  }

  private async trippedBy(breaker: string): Promise<{ incidentId: string; guardian: string } | undefined> {
    const contract = CircuitBreaker__factory.connect(breaker, this.provider);
    if (!(await contract.isTripped())) return undefined;
    const incident = await contract.incident();
    return { incidentId: incident.incidentId, guardian: incident.guardian.toLowerCase() };
  }
}

function nextBaseFeeOf(block: { baseFeePerGas: bigint | null; gasUsed: bigint; gasLimit: bigint }): bigint {
  return nextBaseFee({ baseFeePerGas: block.baseFeePerGas ?? 0n, gasUsed: block.gasUsed, gasLimit: block.gasLimit });
}

function decodeTripResult(value: string | undefined): boolean {
  if (!value || value === "0x") return true;
  return breakerInterface.decodeFunctionResult("trip", value)[0] as boolean;
}

/** Names a revert by the breaker's custom errors (AccessControl included) or its Error(string) reason. */
export function describeRevertData(data: string | undefined): string {
  if (!data || data === "0x") return "";
  try {
    const parsed = breakerInterface.parseError(data);
    if (parsed) return `${parsed.name}(${parsed.args.map((a) => String(a)).join(", ")})`;
  } catch {
    // not one of the breaker's errors
  }
  return decodeRevert(data);
}

function describeRevert(err: unknown): string {
  const e = err as { data?: string; info?: { error?: { data?: string } }; shortMessage?: string; message?: string };
  const data = typeof e.data === "string" ? e.data : typeof e.info?.error?.data === "string" ? e.info.error.data : undefined;
  return describeRevertData(data) || e.shortMessage || e.message || String(err);
}

/** A stable RFC 4122-shaped uuid (version 4 bits set) from the incident, target block and guardian. */
export function uuidFor(incidentId: string, targetBlock: number, guardian: string): string {
  const h = keccak256(solidityPacked(["bytes32", "uint256", "address"], [incidentId, targetBlock, guardian])).slice(2, 34).split("");
  h[12] = "4";
  h[16] = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export const flashbotsTripResponder: ResponderDefinition<FlashbotsTripParams, FlashbotsTripResponder> = {
  type: "flashbots-trip",
  description: "Trips a CircuitBreaker with CircuitBreaker.trip(incidentId) through Flashbots-style private bundles, resubmitting with fee bumps until included",
  params: flashbotsTripParams,
  create: (name, params, deps) => new FlashbotsTripResponder(name, params, deps),
};
