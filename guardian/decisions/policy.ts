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
