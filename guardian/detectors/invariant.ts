import path from "node:path";
import { Interface, type FunctionFragment, type InterfaceAbi } from "ethers";
import { z } from "zod";
import type { RpcClient } from "../chain/types";
import { RpcResponseError } from "../chain/errors";
import type { BlockContext } from "../context/types";
import { decodeNumericWord } from "./abi-word";
import { makeFinding } from "./finding";
import { PrefetchedReads } from "./prefetch";
import {
  InvariantEvaluationError,
  callsOf,
  compare,
  evaluate,
  parseInvariant,
  type Expr,
  type Invariant,
  type Value,
} from "./invariant-expression";
import { addressSchema, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Evidence, Finding, Severity } from "./types";

const ID = "invariant";

/** What a code hook returns for each invariant it finds broken at the block. */
export interface InvariantViolation {
  /** Names what is broken; part of the finding id, so keep it stable across blocks. */
  subject: string;
  title?: string;
  severity?: Severity;
  contract?: string;
  evidence?: Evidence;
}

/** A custom invariant in TypeScript: a module exporting one of these. */
export type InvariantHook = (ctx: BlockContext, rpc: RpcClient) => InvariantViolation[] | Promise<InvariantViolation[]>;

const params = z
  .object({
    invariants: z
      .array(
        z
          .object({
            name: z.string().min(1),
            /** e.g. `token.totalSupply() <= eth.balance(wrapper)`; syntax is checked here, names at create. */
            expr: z
              .string()
              .min(1)
              .superRefine((expr, ctx) => {
                try {
                  parseInvariant(expr);
                } catch (err) {
                  ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
                }
              }),
            severity: severitySchema.default("critical"),
          })
          .strict(),
      )
      .default([]),
    hooks: z
      .array(
        z
          .object({
            name: z.string().min(1),
            /** Path to a .ts/.js module, absolute or relative to the working directory. */
            module: z.string().min(1),
            export: z.string().min(1).default("default"),
            severity: severitySchema.default("critical"),
          })
          .strict(),
      )
      .default([]),
    /** Contracts the expressions read that are not protected themselves, e.g. a vault's asset. */
    extraContracts: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z_$][\w$]*$/, "expected an identifier usable in expressions"),
            address: addressSchema,
            /** Human-readable fragments, e.g. "function balanceOf(address) view returns (uint256)". */
            abi: z.array(z.string()).min(1),
          })
          .strict(),
      )
      .default([]),
    /** `on-break` reports when an invariant starts failing; `every-block` on every block it fails. */
    mode: z.enum(["on-break", "every-block"]).default("on-break"),
    /** A view that reverts or divides by zero while evaluating; `null` only logs it. */
    errorSeverity: severitySchema.nullable().default("high"),
  })
  .strict()
  .refine((p) => p.invariants.length + p.hooks.length > 0, { message: "configure at least one invariant or hook" });

export type InvariantParams = z.infer<typeof params>;

interface BoundContract {
  address: string;
  iface: Interface;
}

type CallExpr = Extract<Expr, { kind: "call" }>;

interface CompiledInvariant {
  name: string;
  expr: string;
  severity: Severity;
  parsed: Invariant;
  /** The function each call resolves to, checked at load time. */
  fragments: Map<CallExpr, FunctionFragment | "balance">;
  /**
   * The first protected contract the expression reads: what a broken invariant is about, so the decision
   * policy can route the finding to that contract's breaker.
   */
  contract?: string;
}

const HISTORY_BLOCKS = 256;

interface EvaluationResult {
  holds: boolean;
  left: bigint;
  right: bigint;
  /** Each view call's value, by its text. */
  leaves: Record<string, bigint>;
}

/** One invariant at one block: its values, or why it could not be evaluated there. */
type Evaluation = { inv: CompiledInvariant; result: EvaluationResult } | { inv: CompiledInvariant; error: Error };

function isNumericType(t: string): boolean {
  return /^u?int\d*$/.test(t) || t === "bool";
}

function compile(
  inv: InvariantParams["invariants"][number],
  contracts: ReadonlyMap<string, BoundContract>,
  protectedNames: ReadonlySet<string>,
): CompiledInvariant {
  const where = `detector ${ID}: invariant "${inv.name}"`;
  let parsed: Invariant;
  try {
    parsed = parseInvariant(inv.expr);
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
  const fragments = new Map<CallExpr, FunctionFragment | "balance">();
  const known = (): string => [...contracts.keys()].join(", ") || "none";
  const checkNames = (e: Expr): void => {
    if (e.kind === "name" && !contracts.has(e.name)) throw new Error(`${where}: unknown contract "${e.name}" (known: ${known()})`);
    if (e.kind === "neg") checkNames(e.operand);
    if (e.kind === "binary") {
      checkNames(e.left);
      checkNames(e.right);
    }
    if (e.kind === "call") e.args.forEach(checkNames);
  };
  checkNames(parsed.left);
  checkNames(parsed.right);
  for (const call of [...callsOf(parsed.left), ...callsOf(parsed.right)]) {
    if (call.target === "eth") {
      if (call.method !== "balance" || call.args.length !== 1) {
        throw new Error(`${where}: "${call.text}": the only eth function is eth.balance(address)`);
      }
      fragments.set(call, "balance");
      continue;
    }
    const contract = contracts.get(call.target);
    if (!contract) throw new Error(`${where}: "${call.text}": unknown contract "${call.target}" (known: ${known()})`);
    const candidates = contract.iface.fragments.filter(
      (f): f is FunctionFragment => f.type === "function" && (f as FunctionFragment).name === call.method && (f as FunctionFragment).inputs.length === call.args.length,
    );
    if (candidates.length !== 1) {
      throw new Error(
        `${where}: "${call.text}": ${candidates.length === 0 ? "no" : "more than one"} function ${call.method} with ${call.args.length} argument(s) in ${call.target}'s ABI`,
      );
    }
    const fn = candidates[0];
    if (!fn.constant) throw new Error(`${where}: "${call.text}": ${call.method} is not a view function`);
    if (fn.outputs.length !== 1 || !isNumericType(fn.outputs[0].type)) {
      throw new Error(`${where}: "${call.text}": ${call.method} must return one integer or bool`);
    }
    fn.inputs.forEach((input, i) => {
      const arg = call.args[i];
      const isAddressArg = arg.kind === "name" || arg.kind === "address";
      if (input.type === "address" ? !isAddressArg : !isNumericType(input.type) || isAddressArg) {
        throw new Error(`${where}: "${call.text}": argument ${i + 1} does not fit parameter type ${input.type}`);
      }
    });
    fragments.set(call, fn);
  }
  const calls = [...callsOf(parsed.left), ...callsOf(parsed.right)];
  const read = calls.flatMap((c) => [c.target, ...c.args.flatMap((a) => (a.kind === "name" ? [a.name] : []))]).find((n) => protectedNames.has(n));
  return { name: inv.name, expr: inv.expr, severity: inv.severity, parsed, fragments, ...(read ? { contract: contracts.get(read)!.address } : {}) };
}

function loadHook(hook: InvariantParams["hooks"][number]): InvariantHook {
  const file = path.resolve(hook.module);
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`detector ${ID}: hook "${hook.name}": cannot load module ${file}: ${(err as Error).message}`);
  }
  const fn = mod[hook.export];
  if (typeof fn !== "function") {
    throw new Error(`detector ${ID}: hook "${hook.name}": ${file} has no exported function "${hook.export}"`);
  }
  return fn as InvariantHook;
}

/** A contract the invariant reads has no code at this block (not deployed yet): the invariant does not apply. */
class ContractAbsentError extends Error {}

/** A view that reverted is a fact about the block's state; a node that failed to answer is not. */
function isExecutionRevert(err: unknown): boolean {
  return err instanceof RpcResponseError && (err.code === 3 || /revert/i.test(err.shortMessage));
}

export const invariantDetector: DetectorDefinition<InvariantParams> = {
  id: ID,
  description: "Declarative invariants (and TypeScript hooks) evaluated at every block's own state via eth_call.",
  params,
  create(p, deps): Detector {
    const contracts = new Map<string, BoundContract>();
    for (const c of deps.contracts) contracts.set(c.name, { address: c.address, iface: new Interface(c.abi as InterfaceAbi) });
    for (const c of p.extraContracts) {
      if (contracts.has(c.name)) throw new Error(`detector ${ID}: extraContracts: "${c.name}" is already a protected contract`);
      contracts.set(c.name, { address: c.address, iface: new Interface(c.abi) });
    }
    if (contracts.has("eth")) throw new Error(`detector ${ID}: "eth" is reserved for eth.balance(...); rename that contract`);
    const protectedNames = new Set(deps.contracts.map((c) => c.name));
    const compiled = p.invariants.map((inv) => compile(inv, contracts, protectedNames));
    const hooks = p.hooks.map((h) => ({ ...h, fn: loadHook(h) }));
    /**
     * Subjects broken at recently evaluated blocks, for on-break mode; trimmed and rewound. Blocks where
     * everything held are left out: a missing previous block and one where nothing was broken both make
     * every current break fresh, so the saved state stays empty while the invariants hold.
     */
    let history: { block: number; broken: string[] }[] = [];

    /** Calldata by call: the same views are read at every block, and encoding hashes (selector, checksums). */
    const calldata = new Map<string, string>();
    const encoded = (target: BoundContract, fragment: FunctionFragment, args: (bigint | string)[]): string => {
      const key = `${target.address}:${fragment.format()}:${args.join(",")}`;
      let data = calldata.get(key);
      if (data === undefined) {
        data = target.iface.encodeFunctionData(fragment, args);
        if (calldata.size < 4096) calldata.set(key, data);
      }
      return data;
    };
    const evaluateAt = async (rpc: RpcClient, blockHash: string, inv: CompiledInvariant, cache: Map<string, Promise<bigint>>): Promise<EvaluationResult> => {
      const blockTag = { blockHash };
      const leaves: Record<string, bigint> = {};
      const env = {
        resolveName: (name: string) => contracts.get(name)!.address,
        call: async (call: CallExpr, args: Value[]): Promise<bigint> => {
          const fragment = inv.fragments.get(call)!;
          const plain = args.map((a) => (typeof a === "bigint" ? a : a.address));
          let value: Promise<bigint>;
          if (fragment === "balance") {
            const key = `balance:${plain[0]}`;
            value = cache.get(key) ?? rpc.request<string>("eth_getBalance", [plain[0], blockTag]).then(BigInt);
            cache.set(key, value);
          } else {
            const target = contracts.get(call.target)!;
            const data = encoded(target, fragment, plain);
            const key = `call:${target.address}:${data}`;
            value =
              cache.get(key) ??
              rpc.request<string>("eth_call", [{ to: target.address, data }, blockTag]).then(async (raw) => {
                if (raw === "0x") {
                  const code = await deps.rpc.request<string>("eth_getCode", [target.address, blockTag]);
                  if (code === "0x") throw new ContractAbsentError(`${call.target} has no code at this block`);
                  throw new InvariantEvaluationError(`${call.text} returned no data`);
                }
                try {
                  return decodeNumericWord(fragment.outputs[0].type, raw);
                } catch {
                  throw new InvariantEvaluationError(`${call.text} returned data that does not decode as ${fragment.outputs[0].type}`);
                }
              });
            cache.set(key, value);
          }
          const result = await value;
          leaves[call.text] = result;
          return result;
        },
      };
      const [left, right] = await Promise.all([evaluate(inv.parsed.left, env), evaluate(inv.parsed.right, env)]);
      if (typeof left !== "bigint" || typeof right !== "bigint") {
        throw new InvariantEvaluationError("both sides of the comparison must be numbers");
      }
      return { holds: compare(inv.parsed.op, left, right), left, right, leaves };
    };

    /**
     * Every declarative invariant at one block's state. The views are read at every block, not only at
     * blocks that touched the contracts they name: a view's result can change without any transaction to
     * its contract (an oracle or token it reads, a rate that accrues with the timestamp, a proxy's new
     * implementation), so skipping a quiet block could miss the break. The reads start with the block's
     * context (prefetch) and go out as one batch, so they cost the pipeline little.
     */
    const evaluateBlock = (blockHash: string, rpc: RpcClient = deps.rpc): Promise<Evaluation[]> => {
      const cache = new Map<string, Promise<bigint>>();
      return Promise.all(
        compiled.map(async (inv): Promise<Evaluation> => {
          try {
            return { inv, result: await evaluateAt(rpc, blockHash, inv, cache) };
          } catch (err) {
            if (err instanceof ContractAbsentError || err instanceof InvariantEvaluationError || isExecutionRevert(err)) return { inv, error: err as Error };
            throw err;
          }
        }),
      );
    };
    const reads = new PrefetchedReads<Evaluation[]>();

    return {
      id: ID,
      prefetch(block, _context, rpc) {
        // The views need only the block's hash: they travel in the same batch as the block's context.
        if (compiled.length > 0) reads.start(block.hash, () => evaluateBlock(block.hash, rpc));
      },
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        // A simulated pending block has no hash to evaluate views at.
        if (ctx.pending) return [];
        const broken: { subject: string; finding: Finding }[] = [];
        const base = { detectorId: ID, block: ctx } as const;

        const evaluations = compiled.length > 0 ? await reads.take(ctx.hash, () => evaluateBlock(ctx.hash)) : [];
        for (const evaluation of evaluations) {
          const { inv } = evaluation;
          const subject = `invariant:${inv.name}`;
          if ("error" in evaluation) {
            const err = evaluation.error;
            if (err instanceof ContractAbsentError) {
              deps.logger.debug({ invariant: inv.name, block_number: ctx.number, reason: err.message }, "invariant does not apply yet");
              continue;
            }
            deps.logger.warn({ err, invariant: inv.name, block_number: ctx.number }, "invariant could not be evaluated");
            if (p.errorSeverity === null) continue;
            broken.push({
              subject,
              finding: makeFinding({
                ...base,
                severity: p.errorSeverity,
                title: `Invariant "${inv.name}" could not be evaluated: ${err.message}`,
                subject,
                evidence: { invariant: inv.name, expr: inv.expr, error: err.message },
              }),
            });
            continue;
          }
          const r = evaluation.result;
          if (r.holds) continue;
          broken.push({
            subject,
            finding: makeFinding({
              ...base,
              severity: inv.severity,
              title: `Invariant "${inv.name}" broken: ${inv.expr}`,
              subject,
              ...(inv.contract ? { contract: inv.contract } : {}),
              evidence: {
                invariant: inv.name,
                expr: inv.expr,
                left: { expr: inv.parsed.leftText, value: r.left },
                right: { expr: inv.parsed.rightText, value: r.right },
                operator: inv.parsed.op,
                values: r.leaves,
                difference: r.left - r.right,
              },
            }),
          });
        }
        for (const hook of hooks) {
          const violations = await hook.fn(ctx, deps.rpc);
          for (const v of violations) {
            const subject = `hook:${hook.name}:${v.subject}`;
            broken.push({
              subject,
              finding: makeFinding({
                ...base,
                severity: v.severity ?? hook.severity,
                title: v.title ?? `Invariant hook "${hook.name}" reports ${v.subject}`,
                subject,
                ...(v.contract ? { contract: v.contract.toLowerCase() } : {}),
                evidence: { hook: hook.name, subject: v.subject, ...(v.evidence ?? {}) },
              }),
            });
          }
        }

        const previous = history.find((h) => h.block === ctx.number - 1);
        history = history.filter((h) => h.block < ctx.number && h.block > ctx.number - HISTORY_BLOCKS);
        if (broken.length > 0) history.push({ block: ctx.number, broken: broken.map((b) => b.subject) });
        const fresh =
          p.mode === "every-block" || !previous ? broken : broken.filter((b) => !previous.broken.includes(b.subject));
        return fresh.map((b) => b.finding).sort((a, b) => a.id.localeCompare(b.id));
      },
      rewind(blockNumber: number): void {
        history = history.filter((h) => h.block <= blockNumber);
      },
      saveState: () => ({ history }),
      loadState(state: unknown): void {
        const parsed = z.object({ history: z.array(z.object({ block: z.number(), broken: z.array(z.string()) })) }).parse(state);
        history = parsed.history;
      },
    };
  },
};
