import { Interface, type LogDescription } from "ethers";
import { z } from "zod";
import type { BlockContext, TxContext } from "../context/types";
import { describeFrame, frameVisits, type FrameVisit } from "./call-tree";
import { jsonSafe, makeFinding } from "./finding";
import { contractsParam, selectContracts, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding } from "./types";

const ID = "privileged-change";

/** What changes who controls a contract or where it gets its truth from. */
const STANDARD_EVENTS = [
  "event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)",
  "event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner)",
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleAdminChanged(bytes32 indexed role, bytes32 indexed previousAdminRole, bytes32 indexed newAdminRole)",
  "event Upgraded(address indexed implementation)",
  "event AdminChanged(address previousAdmin, address newAdmin)",
  "event BeaconUpgraded(address indexed beacon)",
];

const params = z
  .object({
    contracts: contractsParam,
    /**
     * The governance timelock(s): a change whose call path passes through one of them (directly, through
     * executeBatch, or with a multicall on either side) counts as scheduled. Addresses or protected names.
     */
    timelocks: z.array(z.string().min(1)).default([]),
    /** More events that mean a privileged change, e.g. "event OracleUpdated(address oracle)". */
    extraEvents: z.array(z.string().min(1)).default([]),
    unscheduledSeverity: severitySchema.default("critical"),
    scheduledSeverity: severitySchema.nullable().default("info"),
  })
  .strict();

export type PrivilegedChangeParams = z.infer<typeof params>;

/**
 * Whether every state-changing frame of the emitter in the transaction ran beneath a timelock frame.
 * Logs carry no frame, so the emitter's own frames stand in for the emitting one: a transaction that
 * mixes a scheduled call with an unscheduled one is unscheduled.
 */
function scheduledThrough(tx: TxContext, emitter: string, timelocks: ReadonlySet<string>): { scheduled: boolean; created: boolean; path?: unknown[] } {
  if (!tx.trace) return { scheduled: false, created: false };
  const visits = frameVisits(tx.trace);
  const created = visits.some((v) => (v.frame.type === "CREATE" || v.frame.type === "CREATE2") && v.frame.to.toLowerCase() === emitter && !v.reverted);
  const mine: FrameVisit[] = visits.filter(
    (v) => v.context === emitter && !v.reverted && v.frame.type !== "STATICCALL" && !v.ancestors.some((a) => a.context === emitter),
  );
  if (mine.length === 0) return { scheduled: false, created };
  const scheduled = timelocks.size > 0 && mine.every((v) => v.ancestors.some((a) => timelocks.has(a.context)));
  return { scheduled, created, path: [...mine[0].ancestors, mine[0]].map(describeFrame) };
}

export const privilegedChangeDetector: DetectorDefinition<PrivilegedChangeParams> = {
  id: ID,
  description:
    "Ownership and role transfers, proxy upgrades (ERC-1967 Upgraded, AdminChanged, BeaconUpgraded) and configured oracle-source changes on protected contracts: critical unless scheduled through the configured timelock (multicalls included).",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const watched = new Map(contracts.map((c) => [c.address, c]));
    const timelocks = new Set(
      p.timelocks.map((t) => {
        if (/^0x[0-9a-fA-F]{40}$/.test(t)) return t.toLowerCase();
        const named = deps.contracts.find((c) => c.name === t);
        if (!named) throw new Error(`detector ${ID}: timelocks: "${t}" is neither an address nor a protected contract (known: ${deps.contracts.map((c) => c.name).join(", ") || "none"})`);
        return named.address;
      }),
    );
    let iface: Interface;
    try {
      iface = new Interface([...STANDARD_EVENTS, ...p.extraEvents]);
    } catch (err) {
      throw new Error(`detector ${ID}: extraEvents: ${(err as Error).message}`);
    }

    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        const findings: Finding[] = [];
        for (const tx of ctx.transactions) {
          if (tx.status === 0) continue;
          for (const log of tx.logs) {
            const c = watched.get(log.address);
            if (!c) continue;
            let event: LogDescription | null = null;
            try {
              event = iface.parseLog({ topics: log.topics, data: log.data });
            } catch {
              event = null;
            }
            if (!event) continue;
            const origin = scheduledThrough(tx, c.address, timelocks);
            if (origin.created) continue;
            const severity = origin.scheduled ? p.scheduledSeverity : p.unscheduledSeverity;
            if (severity === null) continue;
            const args = jsonSafe(Object.fromEntries(event.fragment.inputs.map((input, i) => [input.name || `arg${i}`, input.type === "address" ? String(event!.args[i]).toLowerCase() : event!.args[i]])));
            findings.push(
              makeFinding({
                detectorId: ID,
                severity,
                title: `${event.name} on ${c.name} ${origin.scheduled ? "executed through the timelock" : "NOT scheduled through the timelock"}`,
                block: ctx,
                txHash: tx.hash,
                contract: c.address,
                subject: `log:${log.logIndex}`,
                evidence: { event: event.name, contract: c.address, contractName: c.name, from: tx.from, args, scheduled: origin.scheduled, timelocks: [...timelocks], ...(origin.path ? { callPath: origin.path } : {}) },
              }),
            );
          }
        }
        return findings;
      },
    };
  },
};
