import { z } from "zod";
import { getAddress, isAddress as isAddressGuard } from "ethers";

/** ethers' guard narrows strings to never on the false branch; a plain predicate keeps them strings. */
const isAddress = (value: string): boolean => isAddressGuard(value);

/** Addresses are checked and lowercased on load, so every later comparison is a plain string compare. */
const address = z
  .string()
  .refine((value) => isAddress(value), { message: "not a valid 0x-prefixed 20-byte address" })
  .transform((value) => getAddress(value).toLowerCase());

const name = z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '.', '_' or '-'");

export const tokenStandardSchema = z.enum(["erc20", "erc721", "erc1155"]);
export type TokenStandard = z.infer<typeof tokenStandardSchema>;

export const reportingTokenSchema = z
  .object({
    name,
    address,
    standard: tokenStandardSchema,
    /**
     * Only used when the token has no decimals() view: the chain's answer is what reports show.
     * Reports keep raw base units in CSV and JSON either way.
     */
    decimals: z.number().int().min(0).max(77).optional(),
    /**
     * Where balances come from. `events` folds Transfer logs (exact for standard tokens, and fast at any
     * block); `state` reads balanceOf at the report's block for every holder the events revealed, for
     * rebasing and share-based tokens whose balances change without a Transfer. Needs an archive node
     * for reports at past blocks.
     */
    balances: z.enum(["events", "state"]).default("events"),
  })
  .strict();

export const reportingAccountSchema = z.object({ name, address }).strict();

export const reportingGroupSchema = z
  .object({
    name,
    /** An industry label ("lending", "gambling"): `--group lending` selects every group with it. */
    industry: name.optional(),
    /** Account or token names from this section, or plain addresses. */
    members: z.array(z.string().min(1)).min(1),
  })
  .strict();

/** One of a game's events, by its ABI signature, and which of its fields are the bet id and the amount. */
const gameEventSchema = z
  .object({
    /** e.g. "event BetPlaced(uint256 indexed betId, address indexed player, uint256 stake)" */
    event: z.string().min(1),
    id: z.string().min(1),
    amount: z.string().min(1),
  })
  .strict();

/**
 * A game whose payouts the Gambler Watch audits from its own events: the bets it took, the payouts it
 * logged, and the return to player it advertises (a number, or a view returning basis points).
 */
export const reportingGameSchema = z
  .object({
    name,
    address,
    bet: gameEventSchema,
    payout: gameEventSchema,
    claimedRtp: z.number().gt(0).lt(10).optional(),
    /** A view without arguments returning the advertised return in basis points, e.g. "advertisedRtpBps()". */
    claimedRtpBpsView: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*\(\)$/).optional(),
    /** Owner and bankroll addresses: their deposits and withdrawals are funding, not bets or payouts. */
    bankroll: z.array(address).default([]),
  })
  .strict()
  .refine((g) => g.claimedRtp !== undefined || g.claimedRtpBpsView !== undefined, { message: "give claimedRtp or claimedRtpBpsView" });

export const reportingConfigSchema = z
  .object({
    /** The chain (one of `chains[].id`) the reports are about; defaults to the only configured chain. */
    chain: z.number().int().positive().optional(),
    /**
     * First block the indexer reads. Balances are folded from here, so it must not be later than the
     * deployment of any configured token; ether balances of accounts are anchored with eth_getBalance
     * at the block before.
     */
    fromBlock: z.number().int().min(0).default(0),
    tokens: z.array(reportingTokenSchema).default([]),
    accounts: z.array(reportingAccountSchema).default([]),
    groups: z.array(reportingGroupSchema).default([]),
    games: z.array(reportingGameSchema).default([]),
    /** Path of an edited copy of guardian/ledger/taxonomy.yaml (contract groups and their industries). */
    taxonomy: z.string().min(1).optional(),
    /** The system-wide index of every ERC-20/721 Transfer (`failsafe ledger index`). */
    systemWide: z
      .object({
        fromBlock: z.number().int().min(0).default(0),
        /** Blocks below the head the index stays, so that reorgs do not reach it. */
        confirmations: z.number().int().min(0).default(12),
        logChunkBlocks: z.number().int().min(1).max(100_000).default(2_000),
      })
      .strict()
      .default({}),
    /** eth_getLogs range per request while catching up. */
    logChunkBlocks: z.number().int().min(1).max(100_000).default(2_000),
    /**
     * The most balances one report re-checks against the node (balanceOf, eth_getBalance). A cap table
     * checks every holder whose balance changed since the last block a report verified, largest first, up
     * to this budget, and says which it did not check.
     */
    /** Older configs' fixed sample size; still accepted, and the budget is at least this. */
    sampleBalances: z.number().int().min(0).max(1_000).default(8),
    checkBudget: z.number().int().min(0).max(1_000_000).default(1_000),
    /** Statement rows whose running ether balance is reconciled with eth_getBalance at the row's block. */
    reconcileRows: z.number().int().min(0).max(1_000_000).default(64),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, string>();
    const claim = (key: string, where: (string | number)[]) => {
      const lower = key.toLowerCase();
      if (seen.has(lower)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: where, message: `name or address "${key}" is already used by ${seen.get(lower)}` });
      } else seen.set(lower, where.join("."));
    };
    cfg.tokens.forEach((t, i) => {
      claim(t.name, ["tokens", i, "name"]);
      claim(t.address, ["tokens", i, "address"]);
    });
    cfg.accounts.forEach((a, i) => {
      claim(a.name, ["accounts", i, "name"]);
      claim(a.address, ["accounts", i, "address"]);
    });
    const groupNames = new Set<string>();
    cfg.groups.forEach((g, i) => {
      if (groupNames.has(g.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["groups", i, "name"], message: `group "${g.name}" is defined twice` });
      groupNames.add(g.name);
      g.members.forEach((m, j) => {
        if (!isAddress(m) && !seen.has(m.toLowerCase())) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["groups", i, "members", j], message: `"${m}" is neither an address nor a token or account name of this section` });
        }
      });
    });
  });

export type ReportingConfig = z.infer<typeof reportingConfigSchema>;
export type ReportingToken = z.infer<typeof reportingTokenSchema>;
export type ReportingGame = z.infer<typeof reportingGameSchema>;

/** The chain the reports are about: `reporting.chain`, or the only configured chain. */
export function reportingChainId(config: { reporting?: ReportingConfig; chains: readonly { id: number }[] }): number | undefined {
  return config.reporting?.chain ?? (config.chains.length === 1 ? config.chains[0].id : undefined);
}
