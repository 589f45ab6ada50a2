import { Interface, id as keccakText, type EventFragment, type LogDescription } from "ethers";
import { z } from "zod";
import type { BlockContext, TxContext } from "../context/types";
import {
  CircuitBreaker__factory,
  IPausableVault__factory,
  TimelockedRecovery__factory,
} from "../../typechain-types";
import { describeFrame, selectorOf, frameVisits, type FrameVisit } from "./call-tree";
import { jsonSafe, makeFinding } from "./finding";
import { contractsParam, selectContracts, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding, ProtectedContract } from "./types";

const ID = "failsafe-watch";

/** Every event our failsafe contracts can emit, from their TypeChain ABIs. */
const failsafeEvents = (() => {
  const seen = new Map<string, EventFragment>();
  for (const abi of [CircuitBreaker__factory.abi, IPausableVault__factory.abi, TimelockedRecovery__factory.abi]) {
    for (const f of new Interface(abi).fragments) {
      if (f.type === "event") seen.set((f as EventFragment).topicHash, f as EventFragment);
    }
  }
  return new Interface([...seen.values()]);
})();

/** What each event means for the people who watch the breaker. */
const TRIPS = new Set(["Tripped"]);
const LIMITS = new Set(["OutflowLimitReached"]);
/** Changes that governance makes: each must arrive through the timelock's execute. */
const CHANGES = new Set([
  "Lifted",
  "Ratified",
  "TripDurationSet",
  "TripCooldownSet",
  "OperationExemptionSet",
  "OutflowLimitSet",
  "GuardianRotated",
  "RoleGranted",
  "RoleRevoked",
  "RoleAdminChanged",
  "RedeemRequestCancelled",
  "RedeemRequestRedirected",
  "LossRecognized",
  "ClaimDelaySet",
  "Recovered",
  "MinDelayChange",
]);
/** Proposals on the timelock: not changes yet, but what governance is about to do. */
const PROPOSALS = new Set(["CallScheduled", "Cancelled"]);

const EXECUTE_SELECTORS = new Set(
  ["execute(address,uint256,bytes,bytes32,bytes32)", "executeBatch(address[],uint256[],bytes[],bytes32,bytes32)"].map((s) =>
    keccakText(s).slice(0, 10),
  ),
);

const params = z
  .object({
    /** The breakers and vaults to watch (names or addresses); by default every protected contract with a Tripped event. */
    contracts: contractsParam,
    /** The governance timelock (name of a protected contract, or address); by default the protected contract with CallExecuted. */
    timelock: z.string().min(1).optional(),
    tripSeverity: severitySchema.default("high"),
    limitReachedSeverity: severitySchema.default("medium"),
    /** A change executed through the timelock, as it should be; `null` stops reporting them. */
    scheduledChangeSeverity: severitySchema.nullable().default("info"),
    /** A change that did not come through the timelock. */
    unscheduledChangeSeverity: severitySchema.default("critical"),
    proposalSeverity: severitySchema.nullable().default("low"),
  })
  .strict();

export type FailsafeWatchParams = z.infer<typeof params>;

function hasEvent(c: ProtectedContract, name: string): boolean {
  try {
    return new Interface(c.abi as never).getEvent(name) !== null;
  } catch {
    return false;
  }
}

function resolveTimelock(all: readonly ProtectedContract[], wanted: string | undefined): string {
  if (wanted !== undefined) {
    if (/^0x[0-9a-fA-F]{40}$/.test(wanted)) return wanted.toLowerCase();
    const named = all.find((c) => c.name === wanted);
    if (!named) throw new Error(`detector ${ID}: timelock: "${wanted}" is neither an address nor a protected contract (known: ${all.map((c) => c.name).join(", ") || "none"})`);
    return named.address;
  }
  const found = all.filter((c) => hasEvent(c, "CallExecuted"));
  if (found.length !== 1) {
    throw new Error(`detector ${ID}: timelock: set it to the governance timelock's name or address (${found.length} protected contracts look like one)`);
  }
  return found[0].address;
}

/**
 * How a change reached the contract. `timelock`: the same transaction holds the timelock's CallExecuted
 * for this target, and the trace shows the timelock calling the target with that calldata from within
 * execute/executeBatch. `deployment`: the contract was created in this transaction (initial settings).
 */
function originOf(tx: TxContext, emitter: string, timelock: string, executed: LogDescription[]): { origin: "timelock" | "deployment" | "unscheduled"; operationId?: string; callers?: unknown[] } {
  const visits: readonly FrameVisit[] = tx.trace ? frameVisits(tx.trace) : [];
  const created = visits.some((v) => (v.frame.type === "CREATE" || v.frame.type === "CREATE2") && v.frame.to.toLowerCase() === emitter && !v.reverted);
  if (created) return { origin: "deployment" };

  const callers = visits.find((v) => v.context === emitter && v.frame.type !== "STATICCALL" && !v.reverted);
  const path = callers ? [...callers.ancestors, callers].map(describeFrame) : undefined;
  for (const ex of executed) {
    if ((ex.args.target as string).toLowerCase() !== emitter) continue;
    const data = (ex.args.data as string).toLowerCase();
    const confirmed =
      !tx.trace ||
      visits.some(
        (v) =>
          v.frame.from.toLowerCase() === timelock &&
          v.context === emitter &&
          v.frame.input.toLowerCase() === data &&
          !v.reverted &&
          v.ancestors.some((a) => a.context === timelock && EXECUTE_SELECTORS.has(selectorOf(a.frame.input))),
      );
    if (confirmed) return { origin: "timelock", operationId: ex.args.id as string, ...(path ? { callers: path } : {}) };
  }
  return { origin: "unscheduled", ...(path ? { callers: path } : {}) };
}

export const failsafeWatchDetector: DetectorDefinition<FailsafeWatchParams> = {
  id: ID,
  description: "Events of the failsafe contracts themselves: trips, limit hits, governance changes (flagging any that bypassed the timelock) and timelock proposals.",
  params,
  create(p, deps): Detector {
    const watchedContracts =
      p.contracts !== undefined ? selectContracts(deps.contracts, p.contracts, ID) : deps.contracts.filter((c) => hasEvent(c, "Tripped"));
    const timelock = resolveTimelock(deps.contracts, p.timelock);
    const names = new Map(deps.contracts.map((c) => [c.address, c.name]));
    const emitters = new Set([...watchedContracts.map((c) => c.address), timelock]);
    if (watchedContracts.length === 0) {
      throw new Error(`detector ${ID}: no failsafe contract to watch; name them in contracts (no protected contract has a Tripped event)`);
    }

    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        const findings: Finding[] = [];
        for (const tx of ctx.transactions) {
          if (tx.status === 0) continue;
          const decoded: { log: TxContext["logs"][number]; event: LogDescription }[] = [];
          for (const log of tx.logs) {
            const emitter = log.address.toLowerCase();
            if (!emitters.has(emitter)) continue;
            const event = failsafeEvents.parseLog({ topics: log.topics, data: log.data });
            if (event) decoded.push({ log, event });
          }
          const executed = decoded.filter((d) => d.log.address.toLowerCase() === timelock && d.event.name === "CallExecuted").map((d) => d.event);

          for (const { log, event } of decoded) {
            const emitter = log.address.toLowerCase();
            const name = names.get(emitter) ?? emitter;
            const args = jsonSafe(
              Object.fromEntries(
                event.fragment.inputs.map((input, i) => [input.name, input.type === "address" ? String(event.args[i]).toLowerCase() : event.args[i]]),
              ),
            ) as Record<string, unknown>;
            const base = {
              detectorId: ID,
              block: ctx,
              txHash: tx.hash,
              contract: emitter,
              subject: `log:${log.logIndex}`,
            } as const;
            const evidence = { event: event.name, contract: emitter, contractName: name, logIndex: log.logIndex, from: tx.from, args };

            if (TRIPS.has(event.name)) {
              findings.push(makeFinding({ ...base, severity: p.tripSeverity, title: `${name} tripped (incident ${String(args.incidentId)})`, evidence }));
            } else if (LIMITS.has(event.name)) {
              findings.push(makeFinding({ ...base, severity: p.limitReachedSeverity, title: `${name} hit its outflow limit for ${String(args.asset)}`, evidence }));
            } else if (PROPOSALS.has(event.name) && emitter === timelock) {
              if (p.proposalSeverity === null) continue;
              findings.push(
                makeFinding({
                  ...base,
                  severity: p.proposalSeverity,
                  title: event.name === "Cancelled" ? `Timelock operation ${String(args.id)} cancelled` : `Timelock operation scheduled on ${names.get(String(args.target).toLowerCase()) ?? String(args.target)}`,
                  evidence,
                }),
              );
            } else if (CHANGES.has(event.name)) {
              const origin = originOf(tx, emitter, timelock, executed);
              if (origin.origin === "deployment") continue;
              const scheduled = origin.origin === "timelock";
              const severity = scheduled ? p.scheduledChangeSeverity : p.unscheduledChangeSeverity;
              if (severity === null) continue;
              findings.push(
                makeFinding({
                  ...base,
                  severity,
                  title: `${event.name} on ${name} ${scheduled ? "executed through the timelock" : "NOT scheduled through the timelock"}`,
                  evidence: { ...evidence, scheduled, timelock, ...origin },
                }),
              );
            }
          }
        }
        return findings;
      },
    };
  },
};
