import { z } from "zod";
import { getAddress, isAddress } from "ethers";
import { findDetector, detectorRegistry } from "../detectors/registry";
import { findResponder, responderRegistry } from "../responders/registry";
import { findNotifier, notifierRegistry } from "../notifiers/registry";
import { alertsConfigSchema } from "../notifiers/alert-routes";
import { reportingConfigSchema } from "./reporting";
import { policyConfigSchema } from "../decisions/policy-config";
import { governanceConfigSchema } from "./governance";
import { mempoolConfigSchema } from "../context/pending-context";
import { envReference } from "./env-reference";
import { livenessConfigSchema } from "../ops/liveness";

/**
 * The guardian's YAML config. Each section is one line of `configSchema` below; a stage that needs its
 * own section (alerts, policy, reporting) adds one import and one line there.
 */

/**
 * A value that may come from the environment instead of the file: `{ env: NAME }`. RPC URLs use it
 * because providers put API keys in them.
 */
function fromEnv<T extends z.ZodTypeAny>(inner: T) {
  return z.union([
    inner,
    envReference<z.infer<T>>((value) => {
      const checked = inner.safeParse(value);
      return checked.success ? { value: checked.data as z.infer<T> } : { problem: checked.error.issues[0].message };
    }),
  ]);
}

const httpUrl = z.string().refine((s) => /^https?:\/\/[^\s/]+/i.test(s) && URL.canParse(s), "expected an http(s) URL");
const wsUrl = z.string().refine((s) => /^wss?:\/\/[^\s/]+/i.test(s) && URL.canParse(s), "expected a ws(s) URL");

export const addressSchema = z
  .string()
  .refine((s) => isAddress(s), "expected a 0x-prefixed 20-byte hex address")
  .transform((s) => getAddress(s).toLowerCase());

const nameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, "use a letter first, then letters, digits, '.', '_' or '-'");

/** Detector parameters stay opaque here; `configSchema` checks them against each detector's own schema. */
const detectorsMap = z.record(z.string(), z.union([z.literal(true), z.record(z.string(), z.unknown())])).default({});

export const chainSchema = z
  .object({
    id: z.number().int().positive(),
    name: nameSchema.optional(),
    /** Tried in order; a retryable failure fails over to the next. */
    rpc: z.array(fromEnv(httpUrl)).min(1, "needs at least one RPC URL"),
    /** `eth_subscribe newHeads` for low latency; polling continues as a safety net. */
    ws: fromEnv(wsUrl).optional(),
    /** Blocks below the head after which a block counts as final (a `finalize` event). */
    confirmations: z.number().int().min(0).default(12),
    /** Unfinalized blocks kept linked; reorgs up to this depth resolve exactly. */
    maxReorgDepth: z.number().int().min(1).max(10_000).default(64),
    pollIntervalMs: z.number().int().min(50).default(2_000),
    rpcTimeoutMs: z.number().int().min(100).default(10_000),
    rpcMaxAttempts: z.number().int().min(1).max(50).default(8),
    /**
     * The wall clock is checked against each head block's timestamp: a difference over this many seconds is an
     * alert (signed webhooks, timelock readiness and incident times all depend on the clock).
     */
    maxClockSkewSeconds: z.number().int().min(1).default(120),
    /**
     * `callTracer` (debug_trace*, every client) or `parity` (trace_block: reth, erigon, nethermind, anvil;
     * much faster on anvil). Falls back to callTracer when the node lacks trace_block.
     */
    traces: z.enum(["callTracer", "parity"]).default("callTracer"),
    /**
     * Time budget for tracing one block, in ms. A block predicted (or seen) to take longer is traced the cheaper
     * ways instead (trace_block, only the transactions receipts name, receipts and logs alone) and raises a
     * `degraded-block` finding. Default: half the block time seen in block timestamps, within [500, 6000].
     */
    blockDeadlineMs: z.number().int().min(100).max(120_000).optional(),
    /** When the guardian alerts that it is behind the head or silent (metrics: failsafe_head_lag_seconds, ...). */
    liveness: livenessConfigSchema.default({}),
    /** Where to start when the store has no cursor for this chain yet. */
    startBlock: z.union([z.number().int().min(0), z.literal("latest")]).default("latest"),
    /** Chain-wide detectors (e.g. reorg), or detectors that select their contracts by parameter. */
    detectors: detectorsMap,
    /**
     * Watch the mempool too: pending transactions that reach a protected contract are simulated at the
     * pending state and run through this chain's detectors before they are mined. Off when omitted.
     */
    mempool: mempoolConfigSchema.optional(),
  })
  .strict();

export const contractSchema = z
  .object({
    name: nameSchema,
    /** The chain id this contract lives on (one of `chains[].id`). */
    chain: z.number().int().positive(),
    address: addressSchema,
    /** A TypeChain contract name from typechain-types (e.g. `VulnerableBank`), or a path to a JSON ABI file. */
    abi: z.string().min(1),
    /** Detectors watching this contract: `id: true` for defaults, or `id: { params }`. */
    detectors: detectorsMap,
  })
  .strict();

/** A postgres:// URL. One that holds a password must come from the environment (`{ env: NAME }`), as every secret. */
const postgresUrl = z.string().superRefine((s, ctx) => {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "expected a postgres:// URL (postgres://user@host:5432/database)" });
    return;
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "expected a postgres:// URL (postgres://user@host:5432/database)" });
  } else if (url.password !== "") {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "this URL holds a password: secrets must come from the environment: write { env: VARIABLE_NAME }" });
  }
});
const postgresUrlFromEnv = envReference<string>((value) => {
  try {
    const url = new URL(value);
    return url.protocol === "postgres:" || url.protocol === "postgresql:" ? { value } : { problem: "expected a postgres:// URL" };
  } catch {
    return { problem: "expected a postgres:// URL" };
  }
});

const DEFAULT_STORE_PATH = ".failsafe/guardian.sqlite";
const sqlitePath = z.string().min(1);

/**
 * Where the guardian keeps its state. `{ sqlite: { path } }` (the default) or `{ postgres: { url } }`, which several
 * guardians can share; `{ path }` alone is the SQLite form as it was before there was a choice. With PostgreSQL,
 * `path` still names the local SQLite file of what is not in PostgreSQL yet (the ledger's report index).
 */
export const storeSchema = z
  .union([
    z
      .object({
        /** The default backend: one SQLite file beside the guardian, one guardian per file. */
        sqlite: z.object({ path: sqlitePath.default(DEFAULT_STORE_PATH) }).strict(),
      })
      .strict(),
    z
      .object({
        /** A PostgreSQL database that several guardians share; migrated on start (or by `failsafe store migrate`). */
        postgres: z
          .object({
            /** `{ env: NAME }`; a literal postgres:// URL is accepted only without a password. */
            url: z.union([postgresUrl, postgresUrlFromEnv]),
            /** Connections this guardian opens at most. */
            poolSize: z.number().int().min(1).max(50).default(4),
            /**
             * Each chain is processed by the guardian holding its lease; a leader that stops renewing (killed, stalled,
             * cut off) is replaced after this many ms plus one attempt (a third of it). Keep it at most 1.5 block times
             * so a failover takes at most 2: the default suits 12-second blocks.
             */
            leaseMs: z.number().int().min(300).max(600_000).default(12_000),
            /**
             * An alert delivery is claimed by one guardian before it is sent; a claim whose guardian died is taken over
             * after this many ms (checked every quarter of it, at most every 15 s). Longer than the slowest notifier.
             */
            deliveryClaimMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
          })
          .strict(),
        /** The SQLite file: the whole store with SQLite, or, beside PostgreSQL, only the ledger's report index. */
        path: sqlitePath.default(DEFAULT_STORE_PATH),
      })
      .strict(),
    z.object({ path: sqlitePath.default(DEFAULT_STORE_PATH) }).strict(),
  ])
  .default({})
  .transform((store): StoreConfig => {
    if ("postgres" in store) return { backend: "postgres", path: store.path, postgres: store.postgres };
    if ("sqlite" in store) return { backend: "sqlite", path: store.sqlite.path };
    return { backend: "sqlite", path: store.path };
  });

export type StoreConfig =
  | { backend: "sqlite"; path: string }
  | { backend: "postgres"; path: string; postgres: { url: string; poolSize: number; leaseMs: number; deliveryClaimMs: number } };

const pluginMap = z.record(nameSchema, z.object({ type: z.string().min(1) }).passthrough()).default({});

export const configSchema = z
  .object({
    chains: z.array(chainSchema).min(1, "configure at least one chain"),
    contracts: z.array(contractSchema).default([]),
    /**
     * Where the guardian keeps its state: `{ sqlite: { path } }` (default; `{ path }` alone means the same) or
     * `{ postgres: { url: { env: NAME } }, path }`, shared by several guardians; `path` then holds only the ledger's index.
     */
    store: storeSchema,
    metrics: z
      .object({
        enabled: z.boolean().default(true),
        /** Metrics and health stay on loopback unless an operator deliberately exposes them. */
        host: z.string().default("127.0.0.1"),
        port: z.number().int().min(0).max(65_535).default(9464),
        /** Required (true) to bind anything but loopback: /metrics and /healthz then reach the network. */
        exposePublicly: z.boolean().default(false),
        /** /healthz is unhealthy when a chain is more than this many blocks behind the node's head. */
        maxLagBlocks: z.number().int().min(1).default(50),
        /** /healthz is unhealthy while the last error of a chain is more recent than this. */
        errorWindowMs: z.number().int().min(0).default(60_000),
      })
      .strict()
      .default({}),
    logging: z
      .object({
        level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
        /** `stdout`, `stderr`, or a file path. */
        destination: z.string().min(1).default("stdout"),
        /** Human-readable lines instead of JSON; default: on when the destination is a terminal. */
        pretty: z.boolean().optional(),
      })
      .strict()
      .default({}),
    responders: pluginMap,
    notifiers: pluginMap,
    alerts: alertsConfigSchema.default({}),
    policy: policyConfigSchema.default({}),
    reporting: reportingConfigSchema.optional(),
    governance: governanceConfigSchema.default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.metrics.enabled && !isLoopback(cfg.metrics.host) && !cfg.metrics.exposePublicly) {
      ctx.addIssue({ code: "custom", path: ["metrics", "host"], message: `"${cfg.metrics.host}" is not a loopback address; set metrics.exposePublicly: true to serve /metrics and /healthz beyond this host` });
    }
    const chainIds = new Set<number>();
    cfg.chains.forEach((chain, i) => {
      if (chainIds.has(chain.id)) ctx.addIssue({ code: "custom", path: ["chains", i, "id"], message: `chain ${chain.id} is configured twice` });
      chainIds.add(chain.id);
      if (chain.confirmations > chain.maxReorgDepth) {
        ctx.addIssue({ code: "custom", path: ["chains", i, "confirmations"], message: `must not exceed maxReorgDepth (${chain.maxReorgDepth})` });
      }
      for (const [id, params] of Object.entries(chain.detectors)) checkDetector(ctx, ["chains", i, "detectors", id], id, params, false);
      if (chain.mempool?.mode === "subscribe" && !chain.ws) {
        ctx.addIssue({ code: "custom", path: ["chains", i, "mempool", "mode"], message: '"subscribe" needs the chain\'s ws URL; set chains[].ws or use mode: poll' });
      }
    });

    const names = new Set<string>();
    const addresses = new Map<string, string>();
    cfg.contracts.forEach((c, i) => {
      if (names.has(c.name)) ctx.addIssue({ code: "custom", path: ["contracts", i, "name"], message: `contract name "${c.name}" is used twice` });
      names.add(c.name);
      const key = `${c.chain}:${c.address}`;
      if (addresses.has(key)) ctx.addIssue({ code: "custom", path: ["contracts", i, "address"], message: `address already configured as "${addresses.get(key)}"` });
      addresses.set(key, c.name);
      if (!chainIds.has(c.chain)) {
        ctx.addIssue({ code: "custom", path: ["contracts", i, "chain"], message: `no chain with id ${c.chain} in chains (known: ${[...chainIds].join(", ")})` });
      }
      for (const [id, params] of Object.entries(c.detectors)) checkDetector(ctx, ["contracts", i, "detectors", id], id, params, true);
    });

    checkPlugins(ctx, "responders", cfg.responders, findResponder, responderRegistry.map((r) => r.type));
    checkPlugins(ctx, "notifiers", cfg.notifiers, findNotifier, notifierRegistry.map((n) => n.type));
  });

export type GuardianConfig = z.infer<typeof configSchema>;
export type ChainConfig = z.infer<typeof chainSchema>;
export type ContractConfig = z.infer<typeof contractSchema>;

/**
 * Whether a detector's params have a `contracts` selector. Per-contract entries set it to that contract,
 * so `contracts[i].detectors.reentrancy: true` watches exactly contract i.
 */
export function acceptsContractSelector(schema: z.ZodTypeAny): boolean {
  let s: z.ZodTypeAny = schema;
  for (;;) {
    if (s instanceof z.ZodEffects) s = s.innerType();
    else if (s instanceof z.ZodDefault) s = s._def.innerType;
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else break;
  }
  return s instanceof z.ZodObject && "contracts" in s.shape;
}

function checkDetector(ctx: z.RefinementCtx, path: (string | number)[], id: string, raw: unknown, perContract: boolean): void {
  const def = findDetector(id);
  if (!def) {
    const known = detectorRegistry.map((d) => d.id).join(", ") || "none registered";
    ctx.addIssue({ code: "custom", path, message: `unknown detector "${id}" (known: ${known})` });
    return;
  }
  const params = raw === true ? {} : raw;
  if (perContract && !acceptsContractSelector(def.params)) {
    ctx.addIssue({ code: "custom", path, message: `detector "${id}" is chain-wide; enable it under chains[].detectors` });
    return;
  }
  if (perContract && typeof params === "object" && params !== null && "contracts" in params) {
    ctx.addIssue({ code: "custom", path: [...path, "contracts"], message: "is implied by the contract this entry sits under; remove it" });
    return;
  }
  const parsed = def.params.safeParse(params);
  if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [...path, ...issue.path] });
}

function checkPlugins(
  ctx: z.RefinementCtx,
  section: string,
  entries: Record<string, { type: string }>,
  find: (type: string) => { params: z.ZodTypeAny } | undefined,
  known: string[],
): void {
  for (const [name, entry] of Object.entries(entries)) {
    const def = find(entry.type);
    if (!def) {
      ctx.addIssue({ code: "custom", path: [section, name, "type"], message: `unknown ${section.slice(0, -1)} type "${entry.type}" (known: ${known.join(", ") || "none registered"})` });
      continue;
    }
    const { type: _type, ...params } = entry;
    const parsed = def.params.safeParse(params);
    if (!parsed.success) for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [section, name, ...issue.path] });
  }
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this host only. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}
