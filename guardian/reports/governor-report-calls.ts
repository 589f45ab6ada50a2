import { ZeroHash, getAddress } from "ethers";
import { ICircuitBreaker__factory, IPausableVault__factory, TimelockedRecovery__factory } from "../../typechain-types";
import { formatAmount, humanSpan } from "./governor-format";
import type { GovernorReport, ReportedDecision } from "./governor-report";

/** One argument of a call, as the ABI names it, with the value a governor checks. */
export interface DecodedArg {
  name: string;
  type: string;
  /** The exact value (hex, address or decimal string). */
  value: string;
  /** The same value for people: "this incident", "10,000 fsUSD", "2026-12-06T10:00:00Z (in 2 days)". */
  human: string;
}

export interface DecodedCall {
  /** Who the call goes to, as people know it. */
  target: string;
  targetLabel: string;
  signature: string;
  args: DecodedArg[];
}

const interfaces = [ICircuitBreaker__factory.createInterface(), IPausableVault__factory.createInterface(), TimelockedRecovery__factory.createInterface()];

function thousands(value: string): string {
  return value.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Names the addresses the report knows: the breaker, the protected contract, the timelock, the vault's assets. */
function labeller(r: GovernorReport) {
  const known = new Map<string, string>();
  known.set(r.breaker.address.toLowerCase(), `the breaker${r.breaker.name ? ` ${r.breaker.name}` : ""}`);
  if (r.contract.address !== r.breaker.address) known.set(r.contract.address.toLowerCase(), `the protected contract${r.contract.name ? ` ${r.contract.name}` : ""}`);
  if (r.timelock) known.set(r.timelock.address.toLowerCase(), "the TimelockedRecovery");
  if ("assets" in r.funds) for (const a of r.funds.assets) if (a.asset !== "native") known.set(a.asset.toLowerCase(), `the token ${a.symbol}`);
  return (address: string) => known.get(address.toLowerCase());
}

function decode(data: string, r: GovernorReport, context: { token?: string }): DecodedCall["args"] & { signature?: string } {
  for (const iface of interfaces) {
    const parsed = (() => {
      try {
        return iface.parseTransaction({ data });
      } catch {
        return null;
      }
    })();
    if (!parsed) continue;
    const label = labeller(r);
    const now = Date.parse(r.switch.readAt) / 1000;
    const args: DecodedArg[] = parsed.fragment.inputs.map((input, i) => {
      const raw = parsed.args[i] as unknown;
      const value = typeof raw === "string" ? raw : String(raw);
      let human = value;
      if (input.type === "address") human = label(value) ? `${label(value)} (${getAddress(value)})` : getAddress(value);
      else if (input.type === "bytes32") {
        human = value.toLowerCase() === r.incidentId.toLowerCase() ? "this incident's id" : value === ZeroHash ? "none" : value.toLowerCase() === r.switch.currentIncidentId.toLowerCase() ? "the breaker's current incident" : value;
      } else if (input.name === "expiresAt") human = `${new Date(Number(value) * 1000).toISOString()} (${humanSpan(Number(value) - now)}, chain time)`;
      else if (input.name === "delay") human = `${thousands(value)} s (${humanSpan(Number(value)).replace(/^in /, "")})`;
      else if (input.name === "amount") {
        const asset = "assets" in r.funds ? r.funds.assets.find((a) => a.asset !== "native" && context.token && a.asset.toLowerCase() === context.token.toLowerCase()) : undefined;
        human = asset ? formatAmount(value, asset.decimals, asset.symbol) : `${thousands(value)} base units`;
      } else if (input.type === "bytes") human = "the call above";
      else if (input.type.startsWith("uint")) human = thousands(value);
      return { name: input.name, type: input.type, value, human };
    });
    return Object.assign(args, { signature: parsed.fragment.format("sighash") });
  }
  return [];
}

/** The decision's final call and the timelock's schedule call, decoded with argument names and human values. */
export function decodeDecision(d: ReportedDecision, r: GovernorReport): { action: DecodedCall; schedule: DecodedCall } | undefined {
  const p = d.payload;
  if (!p) return undefined;
  const label = labeller(r);
  const token = p.action.args.token;
  const actionArgs = decode(p.action.data, r, { token });
  const scheduleArgs = decode(p.timelock.schedule.data, r, { token });
  return {
    action: { target: p.action.to, targetLabel: label(p.action.to) ?? p.action.to, signature: actionArgs.signature ?? p.action.signature, args: [...actionArgs] },
    schedule: { target: p.timelock.address, targetLabel: label(p.timelock.address) ?? p.timelock.address, signature: scheduleArgs.signature ?? "schedule", args: [...scheduleArgs] },
  };
}
