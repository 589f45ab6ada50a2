import type { GovernancePayload } from "./governance-payloads";
import type { GovernorReport } from "./governor-report";

/** One file a governor hands to a tool: the Safe app's Transaction Builder, a Governor front end, a script. */
export interface PayloadDownload {
  name: string;
  /** What the file is for, in a few words. */
  label: string;
  content: unknown;
}

/** The file name prefix every file of one incident's report shares: `governor-<first 12 hex of the id>`. */
export function reportBase(r: Pick<GovernorReport, "incidentId">): string {
  return `governor-${r.incidentId.slice(2, 14)}`;
}

/**
 * The decision's payload as the files governors import: the Safe Transaction Builder batches (schedule now,
 * execute after the delay), the Governor proposal (both forms) and the bare timelock calls.
 */
export function payloadDownloads(r: Pick<GovernorReport, "incidentId">, p: GovernancePayload): PayloadDownload[] {
  const base = `${reportBase(r)}.${p.decision}`;
  return [
    { name: `${base}.safe-schedule.json`, label: "Safe batch: schedule", content: p.safe.schedule },
    { name: `${base}.safe-execute.json`, label: "Safe batch: execute after the delay", content: p.safe.execute },
    { name: `${base}.governor.json`, label: "Governor proposal", content: { chainId: p.chainId, ...p.governor } },
    { name: `${base}.timelock.json`, label: "Timelock calls", content: { chainId: p.chainId, title: p.title, action: p.action, ...p.timelock } },
  ];
}
