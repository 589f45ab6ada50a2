import type { Provider } from "ethers";
import type { Finding } from "../detectors/types";
import { escapeTerminal } from "../reports/governor-format";
import { humanTitle, readTokenUnits, tokensOf, type TokenUnits } from "../reports/governor-report-units";

const visible = (u: TokenUnits): TokenUnits => ({ ...u, symbol: escapeTerminal(u.symbol) });

/** Rewrites findings' titles in human units ("21.3 COL", "10 ETH") for the people an alert goes to. */
export type FindingHumanizer = (findings: Finding[]) => Promise<Finding[]>;

/**
 * Token symbols and decimals read from each finding's chain, cached per token. An alert never waits long on
 * them: a read that takes over `timeoutMs` leaves that alert in base units (the same text the log and the store
 * keep), and a token that does not answer is asked again only after `retryMs`. Symbols are the token's own
 * text: capped when read (chainText), their control and bidi characters shown as visible escapes here, since an
 * alert title travels to SMS and chat apps that render them, and every channel escapes its own syntax on top.
 */
export function findingHumanizer(providerFor: (chainId: number) => Provider, options: { timeoutMs?: number; retryMs?: number } = {}): FindingHumanizer {
  const timeoutMs = options.timeoutMs ?? 1_500;
  const retryMs = options.retryMs ?? 60_000;
  const known = new Map<string, TokenUnits>();
  const missingSince = new Map<string, number>();

  const learn = async (chainId: number, tokens: string[]): Promise<void> => {
    const now = Date.now();
    const wanted = tokens.filter((t) => !known.has(`${chainId}:${t.toLowerCase()}`) && now - (missingSince.get(`${chainId}:${t.toLowerCase()}`) ?? -Infinity) >= retryMs);
    if (wanted.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const read = readTokenUnits(providerFor(chainId), wanted).catch(() => new Map<string, TokenUnits>());
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    const units = await Promise.race([read, late]);
    clearTimeout(timer);
    for (const t of wanted) {
      const key = `${chainId}:${t.toLowerCase()}`;
      const u = units?.get(t.toLowerCase());
      if (u) known.set(key, visible(u));
      else if (units) missingSince.set(key, now);
    }
    // A late answer still fills the cache for the next alert.
    if (!units) void read.then((m) => m.forEach((u, t) => known.set(`${chainId}:${t}`, visible(u))));
  };

  return async (findings) => {
    const byChain = new Map<number, Finding[]>();
    for (const f of findings) byChain.set(f.chainId, [...(byChain.get(f.chainId) ?? []), f]);
    await Promise.all([...byChain].map(([chainId, fs]) => learn(chainId, tokensOf(fs)).catch(() => undefined)));
    return findings.map((f) => {
      const units = new Map<string, TokenUnits>();
      for (const [key, u] of known) if (key.startsWith(`${f.chainId}:`)) units.set(key.slice(key.indexOf(":") + 1), u);
      const title = humanTitle(f.title, units);
      return title === f.title ? f : { ...f, title };
    });
  };
}
