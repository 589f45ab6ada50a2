import { concat, keccak256, toBeHex } from "ethers";
import type { Logger } from "pino";
import type { RpcClient } from "../chain/types";
import type { FindingSink } from "../decisions/types";
import type { Detector, Finding } from "../detectors/types";
import { normalizeCallFrame, reachedProtected } from "./call-frame";
import { txContextOf } from "./build-block-context";
import { collectLogs, detectPending } from "./pending-context";
import type { TracedFrame } from "./pending-simulation";
import type { BlockContext } from "./types";

/** The exploit-deployment detector's id: its findings name the contracts worth probing. */
const DEPLOYMENT_DETECTOR = "exploit-deployment";
/** Entry points simulated per new contract; exploit contracts expose a handful (attack, withdraw, sweep). */
const MAX_ENTRY_POINTS = 12;
/**
 * New contracts waiting to be probed. Deploying a contract that names a protected address costs the attacker
 * gas; probing it costs the guardian up to MAX_ENTRY_POINTS traces. The queue is bounded so that a block full
 * of decoy deployments costs a bounded amount of node time, and it runs beside the pipeline, never inside a
 * block, so decoys cannot delay the head. The mined attack is still caught the ordinary way.
 */
const MAX_QUEUED = 16;
/** Four zero words after the selector: functions taking up to four static arguments decode (as zeros). */
const ZERO_ARGS = "00".repeat(32 * 4);
/** 15M gas per simulated call: flash-loan exploits use a few million; a gas-burning decoy costs the node less. */
const SIMULATION_GAS = "0xe4e1c0";
/** Node time one new contract may take; its remaining entry points are skipped after this (and logged). */
const PROBE_BUDGET_MS = 5_000;

/**
 * Function selectors a contract's dispatcher compares calldata against: `PUSH4 <selector>` followed by `EQ`
 * (solc and vyper both dispatch this way). PUSH data is skipped while walking, so bytes inside other pushes
 * or the metadata are not read as code.
 */
export function dispatcherSelectors(runtimeCode: string): string[] {
  const code = runtimeCode.startsWith("0x") ? runtimeCode.slice(2) : runtimeCode;
  const bytes = code.length / 2;
  const at = (i: number) => parseInt(code.slice(i * 2, i * 2 + 2), 16);
  const out: string[] = [];
  for (let i = 0; i < bytes; i++) {
    const op = at(i);
    if (op === 0x63 && i + 5 < bytes && at(i + 5) === 0x14) {
      const selector = `0x${code.slice((i + 1) * 2, (i + 5) * 2)}`;
      if (!out.includes(selector)) out.push(selector);
    }
    if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
  }
  return out;
}

interface ProbeTarget {
  created: string;
  deployer: string;
  block: BlockContext;
}

export interface DeploymentProbeOptions {
  rpc: RpcClient;
  protectedAddresses: Iterable<string>;
  /** The chain's detector instances, shared with the pipeline (their windowed state is saved and restored). */
  detectors: readonly Detector[];
  /** Where flagged simulations go: the same sinks as pending transactions. */
  sinks: readonly FindingSink[];
  logger: Logger;
  /** The pipeline's lock: detector state must not be saved/restored in the middle of a mined block. */
  exclusive: <T>(run: () => Promise<T>) => Promise<T>;
}

/**
 * Simulates a newly deployed contract that references a protected one before its deployer uses it: each of
 * its entry points is called from the deployer on the state after the deployment's block, and the simulated
 * call goes through the whole detector suite as a pending transaction would. A finding is an attack in
 * waiting, so the pending-trip path answers it before the first attack transaction is even sent.
 *
 * The simulation only proves what the code does when called with no or zero arguments. An exploit that needs
 * arguments, a payment, or a condition the attacker arranges later simulates as nothing, and is left to the
 * mined-block and pending detection. Severity comes from the detectors, which judge outcomes, so a contract
 * that only withdraws its own deposit is not an attack here either.
 *
 * A sink on the chain's pipeline: it sees each block's findings after they are committed.
 */
export class DeploymentProbe implements FindingSink {
  readonly name = "deployment-probe";
  private readonly protectedSet: Set<string>;
  private readonly queued: ProbeTarget[] = [];
  private running: Promise<void> = Promise.resolve();
  private draining = false;
  private closed = false;

  constructor(private readonly options: DeploymentProbeOptions) {
    this.protectedSet = new Set([...options.protectedAddresses].map((a) => a.toLowerCase()));
  }

  async onFindings(findings: Finding[], block: BlockContext): Promise<void> {
    if (block.pending || this.closed) return;
    const seen = new Set(this.queued.map((t) => t.created));
    for (const f of findings) {
      if (f.detectorId !== DEPLOYMENT_DETECTOR) continue;
      const created = String(f.evidence.created ?? "").toLowerCase();
      const deployer = String(f.evidence.deployer ?? "").toLowerCase();
      if (!created || !deployer || seen.has(created)) continue;
      seen.add(created);
      if (this.queued.length >= MAX_QUEUED) {
        this.options.logger.warn({ created, block_number: block.number, queued: this.queued.length }, "deployment probe queue full; new contract not simulated");
        continue;
      }
      this.queued.push({ created, deployer, block });
    }
    if (this.queued.length > 0 && !this.draining) {
      this.draining = true;
      this.running = this.drain();
    }
  }

  /** Resolves when every queued contract has been probed. */
  idle(): Promise<void> {
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queued.length = 0;
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      for (let target = this.queued.shift(); target; target = this.queued.shift()) {
        try {
          await this.probe(target);
        } catch (err) {
          this.options.logger.warn({ created: target.created, err: { message: (err as Error).message } }, "could not simulate a new contract");
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async probe({ created, deployer, block }: ProbeTarget): Promise<void> {
    const { rpc, logger } = this.options;
    const blockTag = toBeHex(block.number);
    const code = await rpc.request<string>("eth_getCode", [created, blockTag]);
    const selectors = dispatcherSelectors(code).slice(0, MAX_ENTRY_POINTS);
    const nonce = await rpc.request<string>("eth_getTransactionCount", [deployer, blockTag]);
    const started = Date.now();
    for (const [i, selector] of selectors.entries()) {
      if (this.closed) return;
      if (Date.now() - started > PROBE_BUDGET_MS) {
        logger.warn({ created, skipped: selectors.slice(i), budget_ms: PROBE_BUDGET_MS }, "deployment probe out of time for this contract; its other entry points are not simulated");
        return;
      }
      const input = selector + ZERO_ARGS;
      const call = { from: deployer, to: created, value: "0x0", input, gas: SIMULATION_GAS, nonce };
      const trace = await rpc.request<TracedFrame>("debug_traceCall", [call, blockTag, { tracer: "callTracer", tracerConfig: { withLog: true } }]);
      if (trace.error) continue;
      const logs = collectLogs(trace);
      const touched = reachedProtected(this.protectedSet, trace, logs.map((l) => l.address));
      if (touched.length === 0) continue;
      const frame = normalizeCallFrame(trace);
      const hash = keccak256(concat([block.hash, created, selector])).toLowerCase();
      const ctx: BlockContext = {
        chainId: rpc.chainId,
        number: block.number + 1,
        hash,
        parentHash: block.hash,
        timestamp: block.timestamp + 1,
        transactions: [txContextOf({ hash, ...call }, { index: 0, gasPrice: 0n, status: 1, gasUsed: frame.gasUsed, logs, trace: frame, touched })],
        pending: true,
      };
      const findings = await this.options.exclusive(() => detectPending(this.options.detectors, ctx, logger));
      if (findings.length === 0) continue;
      for (const f of findings) {
        f.title = `Simulated call ${selector} on new contract ${created}: ${f.title}`;
        f.evidence = { ...f.evidence, simulatedEntryPoint: { created, deployer, selector, deployedInBlock: block.number } };
      }
      logger.warn({ created, deployer, selector, findings: findings.map((f) => `${f.detectorId}:${f.severity}`) }, "a new contract's entry point attacks protected contracts in simulation");
      for (const sink of this.options.sinks) {
        try {
          await sink.onFindings(findings, ctx);
        } catch (err) {
          logger.error({ err, sink: sink.name }, "sink failed on simulated findings");
        }
      }
    }
  }
}
