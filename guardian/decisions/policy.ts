import { SEVERITIES, type Finding, type Severity } from "../detectors/types";
import type { PolicyConfig, PolicyRule } from "./policy-config";

export interface Decision {
  action: "trip" | "alert";
  /** Index into `policy.rules`, or "default" when no rule matched. */
  rule: number | "default";
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/**
 * Decides what one finding calls for. `contractName` is the configured name of the finding's contract,
 * so rules can name contracts either way.
 */
export function decide(finding: Finding, policy: Pick<PolicyConfig, "rules" | "tripSeverity">, contractName?: string): Decision {
  // Some findings are about something a trip cannot stop (an allowance drains the owner's tokens without
  // calling the owner; a breaker cannot revoke it): the detector says so, and no rule turns it into a trip.
  const tripCanHelp = finding.evidence.tripCanHelp !== false;
  for (const [i, rule] of policy.rules.entries()) {
    if (matches(rule, finding, contractName)) return { action: tripCanHelp ? rule.action : "alert", rule: i };
  }
  return { action: tripCanHelp && rank(finding.severity) >= rank(policy.tripSeverity) ? "trip" : "alert", rule: "default" };
}

function matches(rule: PolicyRule, f: Finding, contractName?: string): boolean {
  if (rule.detectors && !rule.detectors.includes(f.detectorId)) return false;
  if (rule.severities && !rule.severities.includes(f.severity)) return false;
  if (rule.minSeverity && rank(f.severity) < rank(rule.minSeverity)) return false;
  if (rule.contracts) {
    const names = rule.contracts.map((c) => c.toLowerCase());
    if (!f.contract || !(names.includes(f.contract.toLowerCase()) || (contractName !== undefined && names.includes(contractName.toLowerCase())))) return false;
  }
  return true;
}

/**
 * The protected contracts whose breakers a finding may trip (lowercase, the finding's own contract first). A
 * read-only reentrancy is filed against its victim, the contract that acted on the stale read, and names the
 * contract read (`evidence.contractRead`): the loss runs through both, and a breaker configured for either
 * stops it. Before findings named the victim they were filed against the contract read, so a breaker tied to
 * it (a pool whose callbacks open the window, guarding the lender that prices off it) must keep tripping.
 */
export function breakerContractsOf(finding: Finding): string[] {
  const out: string[] = [];
  if (finding.contract) out.push(finding.contract.toLowerCase());
  const read = finding.evidence.readOnly === true ? finding.evidence.contractRead : undefined;
  if (typeof read === "string" && !out.includes(read.toLowerCase())) out.push(read.toLowerCase());
  return out;
}
