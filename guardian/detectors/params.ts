import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { SEVERITIES, type ProtectedContract, type Severity } from "./types";

export const severitySchema = z.enum(SEVERITIES as [Severity, ...Severity[]]);

export const addressSchema = z
  .string()
  .refine((s) => isAddress(s), { message: "expected a 0x-prefixed 20-byte hex address" })
  .transform((s) => getAddress(s).toLowerCase());

export const selectorSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{8}$/, "expected a 4-byte selector such as 0xa9059cbb")
  .transform((s) => s.toLowerCase());

/**
 * Token amounts in base units. YAML cannot hold a uint256 as a number, so strings are the normal form;
 * "1e21" style is accepted because thresholds are usually round.
 */
export const amountSchema = z.union([z.string(), z.number()]).transform((raw, ctx) => {
  const text = String(raw).replace(/_/g, "").trim();
  const sci = /^(\d+)(?:\.(\d+))?e(\d+)$/i.exec(text);
  if (sci) {
    const [, whole, frac = "", exp] = sci;
    const shift = Number(exp) - frac.length;
    if (shift >= 0) return BigInt(whole + frac) * 10n ** BigInt(shift);
  } else if (/^\d+$/.test(text)) {
    return BigInt(text);
  }
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a whole amount in base units, got "${raw}"` });
  return z.NEVER;
});

/**
 * The protected contracts a detector instance watches: all of them, or the ones named (by name or
 * address) in its `contracts` parameter.
 */
export function selectContracts(all: readonly ProtectedContract[], wanted: readonly string[] | undefined, detectorId: string): ProtectedContract[] {
  if (wanted === undefined) return [...all];
  return wanted.map((key) => {
    const found = all.find((c) => c.name === key || c.address === key.toLowerCase());
    if (!found) {
      const known = all.map((c) => c.name).join(", ") || "none";
      throw new Error(`detector ${detectorId}: contracts: "${key}" is not a protected contract (known: ${known})`);
    }
    return found;
  });
}

export const contractsParam = z.array(z.string().min(1)).min(1).optional();
