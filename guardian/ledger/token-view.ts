import type { ReportingToken } from "./config";
import type { IndexStore, UnverifiableToken } from "./index-store";
import type { ReportingScope } from "./reporting-scope";

/** How a report shows and sources one token: what the chain said about it and which balance mode it uses. */
export interface TokenView {
  token: ReportingToken;
  /** Decimals amounts are shown with; 0 (base units) when the token gave none that make sense. */
  decimals: number;
  symbol: string | null;
  name: string | null;
  mode: "events" | "state";
  /** What a reader must know: metadata the chain did not give, the balance mode. */
  notes: string[];
  unverifiable?: UnverifiableToken;
}

export function tokenView(store: Pick<IndexStore, "tokenMetadata" | "unverifiable">, scope: ReportingScope, token: ReportingToken, aside = store.unverifiable()): TokenView {
  const meta = store.tokenMetadata(token.address);
  const notes = (meta?.notes ?? ["the token had no code when the index last read it; decimals, name and symbol are unknown"]).map((n) => `${token.name}: ${n}`);
  const fallback = token.standard === "erc20" ? (token.decimals ?? 0) : 0;
  return {
    token,
    decimals: meta ? (meta.decimals ?? 0) : fallback,
    symbol: meta?.symbol ?? null,
    name: meta?.name ?? null,
    mode: scope.stateTokens.has(token.address) ? "state" : "events",
    notes,
    unverifiable: aside.get(token.address),
  };
}

/** One line saying where a token's balances came from, for a report's summary. */
export function modeText(view: TokenView, block: number): string {
  return view.mode === "state"
    ? `from state: balanceOf at block ${block} for every holder its Transfer events revealed`
    : "from events: Transfer logs folded since reporting.fromBlock";
}

export function unverifiableText(u: UnverifiableToken, name: string): string {
  return `${name} is unverifiable since block ${u.blockNumber} and left out: ${u.reason}`;
}
