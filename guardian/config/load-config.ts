import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { parseDocument, YAMLError } from "yaml";
import type { z } from "zod";
import { configSchema, type GuardianConfig } from "./schema";
import type { ProtectedContract } from "../detectors/types";

/** One problem in a config file, pinned to its path (`chains[0].rpc[1]`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A config that cannot be used. Its message lists every problem; the CLI prints it without a stack. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      issues.length === 1 && !issues[0].path
        ? `${file}: ${issues[0].message}`
        : `${file}: invalid config\n${issues.map((i) => `  ${i.path ? `${i.path}: ` : ""}${i.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

export interface LoadedConfig {
  file: string;
  config: GuardianConfig;
  /** Protected contracts per chain id, with their ABIs resolved. */
  contracts: Map<number, ProtectedContract[]>;
}

export function formatPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else out += out === "" ? s : `.${s}`;
  }
  return out;
}

/**
 * zod reports a failed union as one "invalid input" issue; for `url | { env }` fields that hides the
 * useful message. Pick the branch that got furthest (fewest type mismatches) and report its issues.
 */
function flattenIssues(issues: readonly z.ZodIssue[]): z.ZodIssue[] {
  const out: z.ZodIssue[] = [];
  for (const issue of issues) {
    if (issue.code === "invalid_union" && issue.unionErrors.length > 0) {
      const score = (e: z.ZodError) => e.issues.filter((i) => i.code === "invalid_type" && i.path.length === issue.path.length).length;
      const best = [...issue.unionErrors].sort((a, b) => score(a) - score(b))[0];
      out.push(...flattenIssues(best.issues));
    } else {
      out.push(issue);
    }
  }
  return out;
}

/** Keys whose values are credentials: the file may only name the environment variable holding them. */
const SECRET_KEY = /^(private_?key|signing_?key|password|passphrase|secret|api_?key|auth_?token|token|mnemonic)$/i;

function literalSecrets(node: unknown, at: (string | number)[], out: ConfigIssue[]): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => literalSecrets(v, [...at, i], out));
  } else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (SECRET_KEY.test(k) && (typeof v === "string" || typeof v === "number")) {
        out.push({ path: formatPath([...at, k]), message: "secrets must come from the environment: write { env: VARIABLE_NAME }" });
      } else {
        literalSecrets(v, [...at, k], out);
      }
    }
  }
}

/** Parses and validates config text; `file` is used in messages and to resolve relative ABI paths. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e: YAMLError) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "",
        message: e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, ""),
      })),
    );
  }
  const raw = doc.toJS() as unknown;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: "", message: "expected a YAML mapping with at least a `chains` section" }]);
  }
  const secretIssues: ConfigIssue[] = [];
  literalSecrets(raw, [], secretIssues);

  const parsed = configSchema.safeParse(raw);
  const issues = [
    ...secretIssues,
    ...(parsed.success ? [] : flattenIssues(parsed.error.issues).map((i) => ({ path: formatPath(i.path), message: i.message }))),
  ];
  if (!parsed.success || issues.length > 0) throw new ConfigError(file, dedupe(issues));

  const config = parsed.data;
  const contracts = new Map<number, ProtectedContract[]>(config.chains.map((c) => [c.id, []]));
  const abiIssues: ConfigIssue[] = [];
  config.contracts.forEach((c, i) => {
    try {
      const abi = resolveAbi(c.abi, path.dirname(path.resolve(file)));
      contracts.get(c.chain)?.push({ name: c.name, address: c.address, abi });
    } catch (err) {
      abiIssues.push({ path: formatPath(["contracts", i, "abi"]), message: (err as Error).message });
    }
  });
  if (abiIssues.length > 0) throw new ConfigError(file, abiIssues);
  return { file, config, contracts };
}

export function loadConfig(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ path: "", message: code === "ENOENT" ? "file not found (pass --config <file> or set FAILSAFE_CONFIG; the default is ./failsafe.yaml)" : `cannot read the file (${code ?? (err as Error).message})` }]);
  }
  return parseConfig(text, file);
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
let typechainIndex: Record<string, unknown> | undefined;

/**
 * `abi` is a TypeChain contract name (our own contracts, from typechain-types) or a JSON file: either a
 * bare ABI array or an artifact with an `abi` field (external protocols, hardhat/foundry artifacts).
 */
export function resolveAbi(spec: string, baseDir: string): readonly unknown[] {
  if (spec.endsWith(".json") || spec.includes("/") || spec.includes(path.sep)) {
    const file = path.resolve(baseDir, spec);
    if (!existsSync(file)) throw new Error(`ABI file ${file} not found`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new Error(`ABI file ${file} is not valid JSON (${(err as Error).message})`);
    }
    const abi = Array.isArray(json) ? json : (json as { abi?: unknown })?.abi;
    if (!Array.isArray(abi)) throw new Error(`ABI file ${file} holds neither an ABI array nor an object with an "abi" array`);
    return abi;
  }
  if (!typechainIndex) {
    const dir = path.join(PROJECT_ROOT, "typechain-types");
    if (!existsSync(dir)) throw new Error(`no TypeChain typings in ${dir}; run \`npx hardhat compile\` first`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    typechainIndex = require(dir) as Record<string, unknown>;
  }
  const factory = typechainIndex[`${spec}__factory`] as { abi?: readonly unknown[] } | undefined;
  if (!factory?.abi) {
    const known = Object.keys(typechainIndex)
      .filter((k) => k.endsWith("__factory"))
      .map((k) => k.slice(0, -"__factory".length));
    throw new Error(`no TypeChain contract named "${spec}" (known: ${known.join(", ") || "none"}); or give a path to a JSON ABI file`);
  }
  return factory.abi;
}
