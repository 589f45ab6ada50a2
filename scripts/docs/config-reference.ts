/**
 * Generates the configuration reference (docs/config-reference.md) and the JSON Schema editors use for YAML
 * completion (docs/failsafe.schema.json) from the zod schemas the guardian validates its config with, so the
 * docs cannot say something the loader does not do.
 *
 *   npm run docs:config            # rewrite both files
 *   npm run docs:config -- --check # exit 3 if either file is stale (the test suite runs this check)
 *
 * Descriptions come from the JSDoc comments above each key in the schema sources: an object's comments are
 * matched to the runtime zod object by its set of keys, which needs no change to the schemas themselves.
 */
import { readFileSync, writeFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { z } from "zod";
import { zodToJsonSchema } from "zod-to-json-schema";
import { configSchema } from "../../guardian/config/schema";
import { detectorRegistry } from "../../guardian/detectors/registry";
import { notifierRegistry } from "../../guardian/notifiers/registry";
import { responderRegistry } from "../../guardian/responders/registry";

const root = resolve(__dirname, "../..");
export const referencePath = join(root, "docs/config-reference.md");
export const jsonSchemaPath = join(root, "docs/failsafe.schema.json");

type Docs = Map<string, string>; // "<sorted keys>|<key>" -> description

/** JSDoc text above every property of every object literal passed to a `z.object(...)`-like call. */
export function collectDocs(dir = join(root, "guardian")): Docs {
  const docs: Docs = new Map();
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts")) files.push(p);
    }
  };
  walk(dir);
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (!text.includes("z.object")) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isObjectLiteralExpression(node.arguments[0])) {
        const callee = node.expression.getText(source);
        if (/\.(object|strictObject)$/.test(callee)) {
          const literal = node.arguments[0];
          const keys = literal.properties.map((p) => propertyName(p, source)).filter((k): k is string => !!k);
          const signature = [...keys].sort().join(",");
          for (const prop of literal.properties) {
            const key = propertyName(prop, source);
            const doc = key && jsDoc(prop, source);
            if (key && doc) docs.set(`${signature}|${key}`, doc);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return docs;
}

function propertyName(p: ts.ObjectLiteralElementLike, source: ts.SourceFile): string | undefined {
  if (!p.name) return undefined;
  if (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) return p.name.text;
  return p.name.getText(source);
}

function jsDoc(node: ts.Node, source: ts.SourceFile): string | undefined {
  const ranges = ts.getLeadingCommentRanges(source.text, node.getFullStart()) ?? [];
  const blocks = ranges.map((r) => source.text.slice(r.pos, r.end)).filter((c) => c.startsWith("/**"));
  if (blocks.length === 0) return undefined;
  return blocks[blocks.length - 1]
    .replace(/^\/\*\*|\*\/$/g, "")
    .split("\n")
    .map((l) => l.replace(/^\s*\* ?/, "").trim())
    .filter(Boolean)
    .join(" ");
}

// ---------------------------------------------------------------- walking the runtime schema

interface Row {
  path: string;
  type: string;
  default?: string;
  constraints: string;
  description: string;
}

function unwrap(s: z.ZodTypeAny): { inner: z.ZodTypeAny; optional: boolean; def?: unknown } {
  let optional = false;
  let def: unknown;
  for (;;) {
    if (s instanceof z.ZodDefault) {
      def = s._def.defaultValue();
      optional = true;
      s = s._def.innerType;
    } else if (s instanceof z.ZodOptional) {
      optional = true;
      s = s.unwrap();
    } else if (s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodEffects) s = s.innerType();
    else if (s instanceof z.ZodLazy) s = s.schema;
    else if (s instanceof z.ZodPipeline) s = s._def.in;
    else if (s instanceof z.ZodBranded) s = s.unwrap();
    else return { inner: s, optional, def };
  }
}

function typeName(s: z.ZodTypeAny): string {
  const { inner } = unwrap(s);
  if (inner instanceof z.ZodString) return "string";
  if (inner instanceof z.ZodNumber) return inner.isInt ? "integer" : "number";
  if (inner instanceof z.ZodBigInt) return "bigint";
  if (inner instanceof z.ZodBoolean) return "boolean";
  if (inner instanceof z.ZodLiteral) return JSON.stringify(inner.value);
  if (inner instanceof z.ZodEnum) return (inner.options as string[]).map((o) => `\`${o}\``).join(" \\| ");
  if (inner instanceof z.ZodNativeEnum) return Object.values(inner.enum).filter((v) => typeof v === "string").join(" \\| ");
  if (inner instanceof z.ZodArray) {
    const element = typeName(inner.element);
    return element.includes(" or ") ? `(${element})[]` : `${element}[]`;
  }
  if (inner instanceof z.ZodRecord) return `map of ${typeName(inner.valueSchema)}`;
  if (inner instanceof z.ZodObject) return "object";
  if (inner instanceof z.ZodUnion || inner instanceof z.ZodDiscriminatedUnion) {
    const names = (inner.options as z.ZodTypeAny[]).map(typeName);
    return [...new Set(names)].join(" or ");
  }
  if (inner instanceof z.ZodTuple) return "tuple";
  if (inner instanceof z.ZodUnknown || inner instanceof z.ZodAny) return "any";
  return inner.constructor.name.replace(/^Zod/, "").toLowerCase();
}

function constraints(s: z.ZodTypeAny): string {
  const { inner } = unwrap(s);
  const out: string[] = [];
  const checks = (inner._def as { checks?: { kind: string; value?: unknown; inclusive?: boolean }[] }).checks ?? [];
  for (const c of checks) {
    if (c.kind === "min") out.push(`${c.inclusive === false ? ">" : "≥"} ${String(c.value)}`);
    else if (c.kind === "max") out.push(`${c.inclusive === false ? "<" : "≤"} ${String(c.value)}`);
    else if (c.kind === "regex") out.push("pattern");
    else if (c.kind === "url") out.push("URL");
  }
  if (inner instanceof z.ZodArray) {
    if (inner._def.minLength) out.push(`≥ ${inner._def.minLength.value} items`);
    if (inner._def.maxLength) out.push(`≤ ${inner._def.maxLength.value} items`);
  }
  if (inner instanceof z.ZodUnion && (inner.options as z.ZodTypeAny[]).some((o) => isEnvReference(o))) {
    out.push("or `{ env: NAME }`");
  }
  return out.join(", ");
}

function isEnvReference(s: z.ZodTypeAny): boolean {
  const { inner } = unwrap(s);
  return inner instanceof z.ZodObject && Object.keys(inner.shape).join() === "env";
}

function formatDefault(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "object" && v !== null && Object.keys(v).length === 0) return Array.isArray(v) ? "`[]`" : "`{}`";
  const text = JSON.stringify(v);
  return text.length > 60 ? "(see schema)" : `\`${text}\``;
}

function walk(schema: z.ZodTypeAny, path: string, docs: Docs, rows: Row[], description = ""): void {
  const { inner, optional, def } = unwrap(schema);
  if (path) {
    rows.push({
      path,
      type: typeName(schema) + (optional ? "" : " (required)"),
      default: formatDefault(def),
      constraints: constraints(schema),
      description: description || (schema.description ?? ""),
    });
  }
  // A choice of object forms (`store: { sqlite } | { postgres }`): every form's keys, under the same path.
  const forms = inner instanceof z.ZodUnion ? (inner.options as z.ZodTypeAny[]).map((o) => unwrap(o).inner) : [];
  if (forms.length > 0 && forms.every((f) => f instanceof z.ZodObject && !isEnvReference(f))) {
    const seen = new Set<string>();
    for (const form of forms as z.ZodObject<z.ZodRawShape>[]) {
      const shape = form.shape as Record<string, z.ZodTypeAny>;
      const signature = Object.keys(shape).sort().join(",");
      for (const [key, child] of Object.entries(shape)) {
        if (seen.has(key)) continue;
        seen.add(key);
        walk(child, `${path}.${key}`, docs, rows, docs.get(`${signature}|${key}`) ?? "");
      }
    }
    return;
  }
  const object = inner instanceof z.ZodObject ? inner : undefined;
  const element = inner instanceof z.ZodArray ? unwrap(inner.element).inner : undefined;
  const record = inner instanceof z.ZodRecord ? unwrap(inner.valueSchema).inner : undefined;
  const target = object ?? (element instanceof z.ZodObject ? element : undefined) ?? (record instanceof z.ZodObject ? record : undefined);
  if (!target) return;
  const prefix = object ? path : element ? `${path}[]` : `${path}.<name>`;
  const shape = target.shape as Record<string, z.ZodTypeAny>;
  const signature = Object.keys(shape).sort().join(",");
  for (const [key, child] of Object.entries(shape)) {
    walk(child, prefix ? `${prefix}.${key}` : key, docs, rows, docs.get(`${signature}|${key}`) ?? "");
  }
}

function table(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines = ["| key | type | default | constraints | what |", "| --- | --- | --- | --- | --- |"];
  for (const r of rows) {
    lines.push(`| \`${r.path}\` | ${r.type} | ${r.default ?? ""} | ${esc(r.constraints)} | ${esc(r.description)} |`);
  }
  return lines.join("\n");
}

export function renderReference(docs: Docs = collectDocs()): string {
  const out: string[] = [
    "# Configuration reference",
    "",
    "Generated from the zod schemas in `guardian/` by `npm run docs:config`; the test suite fails when this page or",
    "[`failsafe.schema.json`](failsafe.schema.json) is stale. Every key below is checked when the file is loaded",
    "(`failsafe config check`); unknown keys are errors. Secrets are never literal: where a key accepts",
    "`{ env: NAME }` the value comes from that environment variable.",
    "",
    "Editors: point the YAML language server at the JSON Schema for completion and checks, e.g. first line",
    "`# yaml-language-server: $schema=./node_modules/@failsafe-eth/guardian/docs/failsafe.schema.json`, or the",
    "path of `docs/failsafe.schema.json` in a clone.",
    "",
    "## The file",
    "",
  ];
  const rows: Row[] = [];
  walk(configSchema as unknown as z.ZodTypeAny, "", docs, rows);
  out.push(table(rows), "");
  out.push("## Detectors", "", "Enabled under `chains[].detectors` (chain-wide) or `contracts[].detectors` (per contract) as");
  out.push("`id: true` (defaults) or `id: { params }`.", "");
  for (const d of [...detectorRegistry].sort((a, b) => a.id.localeCompare(b.id))) section(out, `\`${d.id}\``, d.params, docs);
  out.push("## Notifiers", "", "Named entries under `notifiers:`; `type` picks one of these.", "");
  for (const n of notifierRegistry) section(out, `\`type: ${n.type}\``, n.params, docs);
  out.push("## Responders", "", "Named entries under `responders:`; `type` picks one of these.", "");
  for (const r of responderRegistry) section(out, `\`type: ${r.type}\``, r.params, docs);
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

function section(out: string[], title: string, params: z.ZodTypeAny, docs: Docs): void {
  const rows: Row[] = [];
  walk(params, "", docs, rows);
  out.push(`### ${title}`, "");
  out.push(rows.length ? table(rows) : "No parameters.", "");
}

// ---------------------------------------------------------------- JSON Schema

type Json = Record<string, unknown>;

export function renderJsonSchema(docs: Docs = collectDocs()): string {
  // The config's inferred type is too deep for zodToJsonSchema's generics: hand it the schema untyped.
  const toJsonSchema = zodToJsonSchema as (schema: unknown, options: object) => unknown;
  const base = toJsonSchema(configSchema, {
    name: "FailsafeConfig",
    $refStrategy: "none",
    effectStrategy: "input",
  }) as Json;
  const root = (base.definitions as Record<string, Json>).FailsafeConfig;
  describe(root, docs);
  const detectorProps: Record<string, Json> = {};
  for (const d of detectorRegistry) {
    const params = toJson(d.params, docs);
    detectorProps[d.id] = { anyOf: [{ const: true }, params] };
  }
  const detectors: Json = { type: "object", properties: detectorProps, additionalProperties: false };
  const props = root.properties as Record<string, Json>;
  setDetectors(props.chains, detectors);
  setDetectors(props.contracts, detectors);
  const plugin = (registry: readonly { type: string; params: z.ZodTypeAny }[]): Json => ({
    type: "object",
    additionalProperties: {
      anyOf: registry.map((entry) => {
        const params = toJson(entry.params, docs);
        const properties = { ...((params.properties as Json) ?? {}), type: { const: entry.type } };
        return { ...params, type: "object", properties, required: ["type", ...((params.required as string[]) ?? [])] };
      }),
    },
  });
  props.notifiers = plugin(notifierRegistry);
  props.responders = plugin(responderRegistry);
  const schema = {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://failsafe.invalid/failsafe.schema.json",
    title: "Failsafe guardian configuration",
    description: "Generated by `npm run docs:config` from the guardian's zod schemas.",
    ...root,
  };
  return JSON.stringify(schema, null, 2) + "\n";
}

function toJson(s: z.ZodTypeAny, docs: Docs): Json {
  const json = (zodToJsonSchema as (schema: unknown, options: object) => unknown)(s, { $refStrategy: "none", effectStrategy: "input" }) as Json;
  delete json.$schema;
  describe(json, docs);
  return json;
}

function setDetectors(section: Json | undefined, detectors: Json): void {
  const items = (section?.items as Json | undefined) ?? (section?.type === "array" ? undefined : section);
  const props = items?.properties as Record<string, Json> | undefined;
  if (props?.detectors) props.detectors = detectors;
}

/** Adds descriptions to JSON Schema objects whose key sets match a documented zod object. */
function describe(node: unknown, docs: Docs): void {
  if (Array.isArray(node)) return node.forEach((n) => describe(n, docs));
  if (typeof node !== "object" || node === null) return;
  const obj = node as Json;
  const props = obj.properties as Record<string, Json> | undefined;
  if (props) {
    const signature = Object.keys(props).sort().join(",");
    for (const [key, child] of Object.entries(props)) {
      const doc = docs.get(`${signature}|${key}`);
      if (doc && typeof child === "object" && child && !child.description) child.description = doc;
    }
  }
  for (const value of Object.values(obj)) describe(value, docs);
}

// ---------------------------------------------------------------- command

function main(): void {
  const check = process.argv.includes("--check");
  const docs = collectDocs();
  const outputs: [string, string][] = [
    [referencePath, renderReference(docs)],
    [jsonSchemaPath, renderJsonSchema(docs)],
  ];
  const stale = outputs.filter(([path, text]) => {
    try {
      return readFileSync(path, "utf8") !== text;
    } catch {
      return true;
    }
  });
  if (check) {
    for (const [path] of stale) console.error(`error: ${relative(root, path)} is stale; run npm run docs:config`);
    process.exit(stale.length ? 3 : 0);
  }
  for (const [path, text] of outputs) writeFileSync(path, text);
  console.log(`wrote ${outputs.map(([p]) => relative(root, p)).join(" and ")}`);
}

if (require.main === module) main();
