import type { BlockRef } from "../chain/types";
import { ETHER } from "./movement";
import { anchorOf, check, type Amount, type Check, type Report } from "./report";
import { resolveBlock, type ReportDeps } from "./report-context";
import type { NamedAddress } from "./reporting-scope";
import { balanceOfAt, etherBalanceAt } from "./onchain";
import { modeText, tokenView, unverifiableText } from "./token-view";

export interface AssetHolding {
  asset: string;
  /** Token address or "ether". */
  token: string;
  standard: string;
  tokenId: string;
  balance: Amount;
}

/**
 * What `address` holds at `block`: ether if the indexer follows it, and every configured token (each
 * ERC-1155 id it holds). Reads maintained state (head balances at the head, the entries' balances before), except
 * for `balances: state` tokens, read with balanceOf at the block. Tokens set aside are left out.
 */
export async function holdingsAt(deps: ReportDeps, address: string, block: BlockRef): Promise<AssetHolding[]> {
  const { store, scope } = deps;
  const at = block.number === store.cursor()!.number ? undefined : block.number;
  const aside = store.unverifiable();
  const out: AssetHolding[] = [];
  if (scope.followsEther(address)) {
    out.push({ asset: "ETH", token: ETHER, standard: "native", tokenId: "", balance: { amount: store.balance(ETHER, "", address, at), decimals: 18, symbol: "ETH" } });
  }
  for (const token of scope.tokens()) {
    const view = tokenView(store, scope, token, aside);
    if (view.unverifiable) continue;
    const symbol = view.symbol ?? undefined;
    if (token.standard === "erc1155") {
      for (const { tokenId, balance } of store.idsOf(token.address, address, block.number)) {
        out.push({ asset: token.name, token: token.address, standard: token.standard, tokenId, balance: { amount: balance, decimals: 0, symbol } });
      }
    } else {
      const amount = view.mode === "state" ? await balanceOfAt(deps.rpc, token, address, "", block.number) : store.balance(token.address, "", address, at);
      out.push({ asset: token.name, token: token.address, standard: token.standard, tokenId: "", balance: { amount, decimals: view.decimals, symbol } });
    }
  }
  return out;
}

/** Notes every report on several tokens carries: tokens set aside, and what the chain did not say. */
export function tokenNotes(deps: ReportDeps): string[] {
  const aside = deps.store.unverifiable();
  return deps.scope.tokens().flatMap((t) => {
    const view = tokenView(deps.store, deps.scope, t, aside);
    return view.unverifiable ? [unverifiableText(view.unverifiable, t.name)] : [...view.notes, ...(view.mode === "state" ? [`${t.name}: balances ${modeText(view, deps.store.cursor()!.number).replace(/ at block \d+/, " at the report's block")}`] : [])];
  });
}

/** Every holding re-read from the node at the block: balanceOf for tokens, eth_getBalance for ether. */
export async function checkHoldings(deps: ReportDeps, address: string, holdings: readonly AssetHolding[], block: BlockRef): Promise<Check[]> {
  const checks: Check[] = [];
  for (const h of holdings) {
    if (h.token === ETHER) {
      checks.push(check(`eth_getBalance(${address}) at block ${block.number}`, await etherBalanceAt(deps.rpc, address, block.number), h.balance.amount));
    } else {
      const token = deps.scope.token("token", h.token);
      const label = `${token.name}.balanceOf(${address}${h.tokenId ? `, ${h.tokenId}` : ""}) at block ${block.number}`;
      checks.push(check(label, await balanceOfAt(deps.rpc, token, address, h.tokenId, block.number), h.balance.amount));
    }
  }
  return checks;
}

export function etherNotFollowedNote(deps: ReportDeps, member: NamedAddress): string[] {
  return deps.scope.followsEther(member.address) ? [] : [`ether of ${member.name} is not followed: add it to reporting.accounts to include it`];
}

export async function holdingsReport(deps: ReportDeps, options: { account: string; block?: string }): Promise<Report> {
  const account = deps.scope.address("--account", options.account);
  const block = await resolveBlock(deps, "--block", options.block);
  const holdings = await holdingsAt(deps, account.address, block);
  return {
    kind: "holdings",
    title: `Holdings of ${account.name}`,
    chainId: deps.rpc.chainId,
    anchor: anchorOf(block),
    summary: [["account", account.name === account.address ? account.address : `${account.name} (${account.address})`]],
    sections: [
      {
        title: "holdings",
        columns: ["asset", "standard", "token", "id", "balance"],
        rows: holdings.map((h) => [h.asset, h.standard, h.token, h.tokenId, h.balance]),
      },
    ],
    checks: await checkHoldings(deps, account.address, holdings, block),
    notes: [...etherNotFollowedNote(deps, account), ...tokenNotes(deps)],
  };
}
