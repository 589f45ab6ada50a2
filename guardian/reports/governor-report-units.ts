import { getAddress, isAddress, type Provider } from "ethers";
import { IERC20Metadata__factory } from "../../typechain-types";
import { chainText, formatAmount } from "./governor-format";

/** What a token calls itself, read from the chain (symbol capped: it is attacker-chosen). */
export interface TokenUnits {
  symbol: string;
  decimals: number;
}

/** Evidence keys that hold an amount of the finding's asset, in base units. */
const AMOUNT_KEYS = new Set(["windowTotal", "blockOut", "maxAmount", "holdings", "amount", "outflow", "inflow", "value", "balance", "loss", "profit"]);
const ADDRESS_IN_TITLE = /\bof token (0x[0-9a-fA-F]{40})\b/g;

/** Every token a set of findings names (evidence.asset, "of token 0x…" in titles), for one metadata read each. */
export function tokensOf(findings: { title: string; evidence: Record<string, unknown> }[]): string[] {
  const out = new Set<string>();
  for (const f of findings) {
    const asset = f.evidence.asset;
    if (typeof asset === "string" && isAddress(asset)) out.add(getAddress(asset));
    for (const m of f.title.matchAll(ADDRESS_IN_TITLE)) out.add(getAddress(m[1]));
  }
  return [...out];
}

/** Reads symbol and decimals of each token; a token that does not answer is left out (shown in base units). */
export async function readTokenUnits(provider: Provider, tokens: string[]): Promise<Map<string, TokenUnits>> {
  const out = new Map<string, TokenUnits>();
  await Promise.all(
    tokens.map(async (t) => {
      const token = IERC20Metadata__factory.connect(t, provider);
      const [symbol, decimals] = await Promise.all([token.symbol().catch(() => undefined), token.decimals().catch(() => undefined)]);
      if (symbol !== undefined && decimals !== undefined && decimals <= 77n) out.set(t.toLowerCase(), { symbol: chainText(symbol), decimals: Number(decimals) });
    }),
  );
  return out;
}

function unitsFor(asset: unknown, tokens: Map<string, TokenUnits>): TokenUnits | undefined {
  if (asset === "native" || asset === "eth" || asset === "ETH") return { symbol: "ETH", decimals: 18 };
  return typeof asset === "string" ? tokens.get(asset.toLowerCase()) : undefined;
}

/**
 * A detector's title in human units: "240000000000 of token 0x5FbD…" becomes "240,000 USDC (0x5FbD…)" and
 * "5000000000000000000 wei" becomes "5 ETH". Amounts of tokens that did not answer stay as they were.
 */
export function humanTitle(title: string, tokens: Map<string, TokenUnits>): string {
  return title
    .replace(/\b(\d+) of token (0x[0-9a-fA-F]{40})\b/g, (m, amount: string, token: string) => {
      const u = tokens.get(token.toLowerCase());
      return u ? `${formatAmount(amount, u.decimals, u.symbol)} (${token})` : m;
    })
    .replace(/\b(\d+) wei\b/g, (_m, amount: string) => formatAmount(amount, 18, "ETH"));
}

/** The evidence's amounts of its asset, in human units, keyed like the evidence; empty when the asset is unknown. */
export function humanEvidence(evidence: Record<string, unknown>, tokens: Map<string, TokenUnits>): Record<string, string> {
  const u = unitsFor(evidence.asset, tokens);
  if (!u) return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(evidence)) {
    if (!AMOUNT_KEYS.has(key)) continue;
    const text = typeof value === "bigint" ? value.toString() : typeof value === "string" || typeof value === "number" ? String(value) : undefined;
    if (text !== undefined && /^\d+$/.test(text)) out[key] = formatAmount(text, u.decimals, u.symbol);
  }
  return out;
}
