import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { RpcClient } from "../../../guardian/chain/types";
import { RpcResponseError } from "../../../guardian/chain/errors";
import type { BlockContext, CallFrame, TxContext } from "../../../guardian/context/types";
import type { ProtectedContract } from "../../../guardian/detectors/types";
import {
  AaveStylePool__factory,
  BalancerStyleVault__factory,
  BuggyWrappedEther__factory,
  FlashMintToken__factory,
  PausableVault__factory,
  TimelockedRecovery__factory,
  VulnerableBank__factory,
} from "../../../typechain-types";

/**
 * Recorded block contexts, as the guardian built them from anvil, plus the JSON-RPC answers the detectors
 * needed at those blocks (eth_call, eth_getBalance). Bigints are stored as decimal strings.
 * `fixtures/record.ts` writes these files; the unit tests only read them.
 */
export interface BlockFixture {
  description: string;
  chainId: number;
  /** Protected contracts; `artifact` is the TypeChain contract whose ABI they use. */
  contracts: { name: string; address: string; artifact: keyof typeof FIXTURE_ABIS }[];
  /** Names for the addresses and transaction hashes the tests refer to. */
  labels: Record<string, string>;
  blocks: unknown[];
  rpc: RecordedCall[];
  /** Anything else the scenario recorded (e.g. a ReorgEvent). */
  extra?: Record<string, unknown>;
}

interface RecordedCall {
  method: string;
  params: unknown[];
  result?: unknown;
  error?: { code: number; message: string };
}

/** The TypeChain ABIs fixture contracts may name. */
export const FIXTURE_ABIS = {
  VulnerableBank: VulnerableBank__factory.abi,
  BuggyWrappedEther: BuggyWrappedEther__factory.abi,
  AaveStylePool: AaveStylePool__factory.abi,
  BalancerStyleVault: BalancerStyleVault__factory.abi,
  FlashMintToken: FlashMintToken__factory.abi,
  PausableVault: PausableVault__factory.abi,
  TimelockedRecovery: TimelockedRecovery__factory.abi,
} as const;

export const FIXTURE_DIR = path.join(__dirname, "fixtures");

export function serialise(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
}

function reviveFrame(raw: Record<string, unknown>): CallFrame {
  return {
    ...(raw as unknown as CallFrame),
    value: BigInt(raw.value as string),
    gasUsed: BigInt(raw.gasUsed as string),
    calls: (raw.calls as Record<string, unknown>[]).map(reviveFrame),
  };
}

export function reviveBlock(raw: unknown): BlockContext {
  const b = raw as Omit<BlockContext, "transactions"> & { transactions: Record<string, unknown>[] };
  return {
    ...b,
    transactions: b.transactions.map((t): TxContext => ({
      ...(t as unknown as TxContext),
      value: BigInt(t.value as string),
      gasPrice: BigInt(t.gasPrice as string),
      gasUsed: BigInt(t.gasUsed as string),
      ...(t.maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas: BigInt(t.maxPriorityFeePerGas as string) } : {}),
      trace: t.trace ? reviveFrame(t.trace as Record<string, unknown>) : null,
    })),
  };
}

const keyOf = (method: string, params: unknown[]): string => JSON.stringify([method, params]);

/** Answers exactly the calls that were recorded, and fails loudly on anything else. */
export class FixtureRpc implements RpcClient {
  private readonly answers = new Map<string, RecordedCall>();
  readonly asked: string[] = [];

  constructor(readonly chainId: number, calls: readonly RecordedCall[]) {
    for (const c of calls) this.answers.set(keyOf(c.method, c.params), c);
  }

  async request<T = unknown>(method: string, params: unknown[]): Promise<T> {
    const key = keyOf(method, serialise(params) as unknown[]);
    this.asked.push(key);
    const answer = this.answers.get(key);
    if (!answer) throw new Error(`fixture has no recorded answer for ${key}`);
    if (answer.error) throw new RpcResponseError({ url: "fixture", method, ...answer.error });
    return answer.result as T;
  }
}

/** Passes calls through to a live node and keeps every answer (errors included) for the fixture. */
export class RecordingRpc implements RpcClient {
  readonly calls: RecordedCall[] = [];

  constructor(private readonly inner: RpcClient) {}

  get chainId(): number {
    return this.inner.chainId;
  }

  async request<T = unknown>(method: string, params: unknown[]): Promise<T> {
    const recordedParams = serialise(params) as unknown[];
    const known = this.calls.find((c) => keyOf(c.method, c.params) === keyOf(method, recordedParams));
    try {
      const result = await this.inner.request<T>(method, params);
      if (!known) this.calls.push({ method, params: recordedParams, result });
      return result;
    } catch (err) {
      if (err instanceof RpcResponseError && !known) {
        this.calls.push({ method, params: recordedParams, error: { code: err.code, message: err.shortMessage.replace(`${method}: `, "") } });
      }
      throw err;
    }
  }
}

export interface LoadedFixture {
  fixture: BlockFixture;
  blocks: BlockContext[];
  rpc: FixtureRpc;
  contracts: ProtectedContract[];
  label(name: string): string;
  /** The recorded block that contains the labelled transaction. */
  blockOf(txLabel: string): BlockContext;
}

export function readBlockFixture(name: string): LoadedFixture {
  const fixture = JSON.parse(readFileSync(path.join(FIXTURE_DIR, `${name}.json`), "utf8")) as BlockFixture;
  const blocks = fixture.blocks.map(reviveBlock);
  const label = (l: string): string => {
    const v = fixture.labels[l];
    if (v === undefined) throw new Error(`fixture ${name} has no label "${l}"`);
    return v;
  };
  return {
    fixture,
    blocks,
    rpc: new FixtureRpc(fixture.chainId, fixture.rpc),
    contracts: fixture.contracts.map((c) => ({ name: c.name, address: c.address, abi: FIXTURE_ABIS[c.artifact] })),
    label,
    blockOf(txLabel: string): BlockContext {
      const hash = label(txLabel);
      const block = blocks.find((b) => b.transactions.some((t) => t.hash === hash));
      if (!block) throw new Error(`fixture ${name}: no recorded block contains ${txLabel} (${hash})`);
      return block;
    },
  };
}

export function writeBlockFixture(name: string, fixture: BlockFixture): void {
  writeFileSync(path.join(FIXTURE_DIR, `${name}.json`), `${JSON.stringify(serialise(fixture), null, 1)}\n`);
}
