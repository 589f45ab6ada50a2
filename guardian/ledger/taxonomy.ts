import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { getAddress, isAddress } from "ethers";

/** The taxonomy shipped with the ledger; `reporting.taxonomy` points at an edited copy instead. */
export const SHIPPED_TAXONOMY = path.join(__dirname, "taxonomy.yaml");

const address = z
  .string()
  .refine((v) => isAddress(v), { message: "not a valid 0x-prefixed 20-byte address" })
  .transform((v) => getAddress(v).toLowerCase());

const schema = z
  .object({
    industries: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1),
    chains: z.record(z.string().regex(/^\d+$/), z.array(z.object({ name: z.string().min(1), industry: z.string(), members: z.array(address).min(1) }).strict())),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [chain, groups] of Object.entries(t.chains)) {
      groups.forEach((g, i) => {
        if (!t.industries.includes(g.industry)) ctx.addIssue({ code: "custom", path: ["chains", chain, i, "industry"], message: `"${g.industry}" is not one of industries (${t.industries.join(", ")})` });
      });
    }
  });

export type Taxonomy = z.infer<typeof schema>;
export interface TaxonomyGroup {
  name: string;
  industry: string;
  members: string[];
}

export class TaxonomyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TaxonomyError";
  }
}

export function loadTaxonomy(file = SHIPPED_TAXONOMY): Taxonomy {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new TaxonomyError(`${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TaxonomyError(`${file}: ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** The groups of `chainId` named `value`, or every group of the industry `value`, merged into one. */
export function taxonomyGroup(taxonomy: Taxonomy, chainId: number, value: string): TaxonomyGroup | undefined {
  const groups = taxonomy.chains[String(chainId)] ?? [];
  const byName = groups.filter((g) => g.name === value);
  const picked = byName.length > 0 ? byName : groups.filter((g) => g.industry === value);
  if (picked.length === 0) return undefined;
  return { name: value, industry: [...new Set(picked.map((g) => g.industry))].join(", "), members: [...new Set(picked.flatMap((g) => g.members))] };
}
