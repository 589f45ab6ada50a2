import { isAddress as isAddressGuard } from "ethers";
import type { ReportingConfig, ReportingGame, ReportingToken, TokenStandard } from "./config";
import type { ReadScope } from "./chain-reader";

const isAddress = (value: string): boolean => isAddressGuard(value);

/** A named address the reports know: a configured token, a configured account or a group member. */
export interface NamedAddress {
  name: string;
  address: string;
}

/** Thrown for a report argument that names nothing configured or is malformed; the CLI prints it plainly. */
export class ReportArgumentError extends Error {
  constructor(readonly argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.name = "ReportArgumentError";
  }
}

/**
 * The reporting section resolved once: which tokens to decode, whose ether to follow (accounts and every
 * group member that is not a token), and how names map to addresses.
 */
export class ReportingScope implements ReadScope {
  readonly standards: ReadonlyMap<string, TokenStandard>;
  readonly accounts: ReadonlySet<string>;
  /** Tokens configured with `balances: state`: balanceOf at the block, for holders the events reveal. */
  readonly stateTokens: ReadonlySet<string>;
  private readonly names = new Map<string, string>();
  private readonly labels = new Map<string, string>();

  constructor(readonly config: ReportingConfig) {
    this.standards = new Map(config.tokens.map((t) => [t.address, t.standard]));
    this.stateTokens = new Set(config.tokens.filter((t) => t.balances === "state").map((t) => t.address));
    for (const t of config.tokens) this.remember(t.name, t.address);
    for (const a of config.accounts) this.remember(a.name, a.address);
    for (const g of config.games ?? []) if (!this.names.has(g.name.toLowerCase())) this.remember(g.name, g.address);
    const accounts = new Set(config.accounts.map((a) => a.address));
    for (const g of config.groups) for (const m of g.members) {
      const address = this.resolveMember(m);
      if (!this.standards.has(address)) accounts.add(address);
    }
    this.accounts = accounts;
  }

  private remember(name: string, address: string) {
    this.names.set(name.toLowerCase(), address);
    this.labels.set(address, name);
  }

  private resolveMember(member: string): string {
    return isAddress(member) ? member.toLowerCase() : this.names.get(member.toLowerCase())!;
  }

  /** The configured name of an address, or the address itself. */
  label(address: string): string {
    return this.labels.get(address) ?? address;
  }

  tokens(): readonly ReportingToken[] {
    return this.config.tokens;
  }

  /** `--token` accepts a configured token's name or address. */
  token(argument: string, value: string): ReportingToken {
    const address = this.names.get(value.toLowerCase()) ?? (isAddress(value) ? value.toLowerCase() : undefined);
    if (!address && /^0x/i.test(value)) throw new ReportArgumentError(argument, `"${value}" is not a valid address`);
    const token = this.config.tokens.find((t) => t.address === address);
    if (!token) {
      const known = this.config.tokens.map((t) => t.name).join(", ") || "none configured";
      throw new ReportArgumentError(argument, `unknown token "${value}" (configured tokens: ${known})`);
    }
    return token;
  }

  /** `--account`/`--contract` accept a configured name or any well-formed address. */
  address(argument: string, value: string): NamedAddress {
    const named = this.names.get(value.toLowerCase());
    if (named) return { name: this.label(named), address: named };
    if (!isAddress(value)) throw new ReportArgumentError(argument, `"${value}" is neither a configured name nor a valid address`);
    const address = value.toLowerCase();
    return { name: this.label(address), address };
  }

  /** `--game` names a configured game, by name or address. */
  game(argument: string, value: string): ReportingGame {
    const games = this.config.games ?? [];
    const game = games.find((g) => g.name.toLowerCase() === value.toLowerCase() || g.address === value.toLowerCase());
    if (!game) throw new ReportArgumentError(argument, `unknown game "${value}" (configured games: ${games.map((g) => g.name).join(", ") || "none configured"})`);
    return game;
  }

  /** The configured game at `address`, if any. */
  gameAt(address: string): ReportingGame | undefined {
    return (this.config.games ?? []).find((g) => g.address === address);
  }

  /** Ether of an address is only known if the indexer follows it. */
  followsEther(address: string): boolean {
    return this.accounts.has(address);
  }

  /** `--group` names a group, or an industry label shared by several groups. */
  group(argument: string, value: string): { name: string; members: NamedAddress[] } {
    const byName = this.config.groups.filter((g) => g.name === value);
    const groups = byName.length > 0 ? byName : this.config.groups.filter((g) => g.industry === value);
    if (groups.length === 0) {
      const known = [...new Set(this.config.groups.flatMap((g) => [g.name, ...(g.industry ? [g.industry] : [])]))].join(", ") || "none configured";
      throw new ReportArgumentError(argument, `unknown group or industry "${value}" (known: ${known})`);
    }
    const members = new Map<string, NamedAddress>();
    for (const g of groups) for (const m of g.members) {
      const address = this.resolveMember(m);
      members.set(address, { name: this.label(address), address });
    }
    return { name: value, members: [...members.values()] };
  }

  /** What the index was built for; a different fingerprint means the stored balances do not fit. */
  fingerprint(): string {
    return JSON.stringify({
      fromBlock: this.config.fromBlock,
      tokens: [...this.standards.entries()].sort(),
      accounts: [...this.accounts].sort(),
      // Only when used, so that indexes built before the mode existed stay valid.
      ...(this.stateTokens.size > 0 ? { stateTokens: [...this.stateTokens].sort() } : {}),
    });
  }
}
