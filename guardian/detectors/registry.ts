import type { DetectorDefinition } from "./types";
import { reentrancyDetector } from "./reentrancy";
import { invariantDetector } from "./invariant";
import { outflowSpikeDetector } from "./outflow-spike";
import { activeAccountsDetector } from "./active-accounts";
import { flashLoanDetector } from "./flash-loan";
import { reorgDetector } from "./reorg";
import { failsafeWatchDetector } from "./failsafe-watch";
import { outflowWindowDetector } from "./outflow-window";
import { allowanceDetector } from "./allowance";
import { exploitDeploymentDetector } from "./exploit-deployment";
import { privilegedChangeDetector } from "./privileged-change";
import { repeatedCallsDetector } from "./repeated-calls";

/**
 * Every detector the guardian knows, by id. Adding a detector is one file exporting a
 * DetectorDefinition plus one line here.
 */
export const detectorRegistry: readonly DetectorDefinition<any>[] = [
  reentrancyDetector,
  invariantDetector,
  outflowSpikeDetector,
  activeAccountsDetector,
  flashLoanDetector,
  reorgDetector,
  failsafeWatchDetector,
  outflowWindowDetector,
  allowanceDetector,
  exploitDeploymentDetector,
  privilegedChangeDetector,
  repeatedCallsDetector,
];

export function findDetector(id: string): DetectorDefinition<any> | undefined {
  return detectorRegistry.find((d) => d.id === id);
}
