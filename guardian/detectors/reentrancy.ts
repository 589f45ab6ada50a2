import { z } from "zod";
import type { BlockContext, TxContext } from "../context/types";
import { describeFrame, frameVisits, selectorOf, type FrameVisit } from "./call-tree";
import { makeFinding } from "./finding";
import { contractsParam, selectContracts, selectorSchema, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding, ProtectedContract } from "./types";

const ID = "reentrancy";

const params = z
  .object({
    /** Names or addresses of the protected contracts to watch; all of them when omitted. */
    contracts: contractsParam,
    /** A re-entry that ran (was not refused by the contract's own guard): the contract is exploitable. */
    severity: severitySchema.default("critical"),
    /**
     * A re-entry the contract's own guard refused: every re-entering call reverted by itself (a
     * nonReentrant modifier), whatever became of the transaction. Evidence of an attempt, not of a loss,
     * and anyone can send one for the price of gas, so by default it alerts and does not trip.
     */
    refusedSeverity: severitySchema.nullable().default("high"),
    /**
     * Read-only reentrancy: a view of a contract read while that contract is mid-call (its state may be
     * inconsistent). The finding is filed against the contract that made the read (the victim) when it is
     * protected. This severity applies when the victim then moved value out in the same transaction...
     */
    readOnlyLossSeverity: severitySchema.default("critical"),
    /** ...and this one when it did not, or when only the contract read is protected. `null` ignores them. */
    readOnlySeverity: severitySchema.nullable().default("medium"),
    /**
     * Protection groups: contracts that share state (a pool and its ledger, a comptroller and its markets).
     * Entering any member through an outside contract while another member is mid-call is reentrancy
     * (A -> X -> B). Names or addresses of protected contracts.
     */
    groups: z.array(z.array(z.string().min(1)).min(2)).default([]),
    /** Re-entering calls that are known to be safe, e.g. a view the contract expects to be called back. */
    ignoreSelectors: z.array(selectorSchema).default([]),
    /** How many re-entry paths to keep as evidence per transaction. */
    maxPaths: z.number().int().positive().default(5),
  })
  .strict();

export type ReentrancyParams = z.infer<typeof params>;

interface Reentry {
  visit: FrameVisit;
  /** The frames from the group's outermost frame down to the re-entering one. */
  path: FrameVisit[];
  readOnly: boolean;
  /** The re-entering call reverted by itself: the contract's guard refused it. */
  refused: boolean;
  /** The contract that was mid-call when it (or a member of its group) was entered again. */
  outer: string;
}

function isCall(type: string): boolean {
  return type === "CALL" || type === "STATICCALL" || type === "CALLCODE";
}

/**
 * A re-entry is a frame running in a watched contract's context (or a member of its protection group)
 * whose parent runs outside the group while an ancestor already runs inside it: A -> X -> A, or
 * A -> X -> B with A and B in one group. Delegate calls keep their caller's context, so a proxy calling
 * its implementation is not a re-entry, and neither is a contract calling itself or a group member calling
 * another directly (that is the design, not a callback).
 */
function findReentries(tx: TxContext, groupOf: ReadonlyMap<string, number>, ignore: ReadonlySet<string>): Map<string, Reentry[]> | undefined {
  if (!tx.trace) return undefined;
  let byContract: Map<string, Reentry[]> | undefined;
  for (const v of frameVisits(tx.trace)) {
    if (v.depth === 0 || !isCall(v.frame.type)) continue;
    const group = groupOf.get(v.context);
    const parent = v.ancestors[v.ancestors.length - 1];
    if (group === undefined) {
      // A view of an unwatched contract that is mid-call, read by a watched one: the watched one is the
      // victim of a read-only reentrancy (it prices something off a state that is being changed).
      if (v.frame.type !== "STATICCALL" || !groupOf.has(parent.context) || parent.context === v.context) continue;
      const outerIndex = v.ancestors.findIndex((a) => a.context === v.context);
      if (outerIndex < 0 || ignore.has(selectorOf(v.frame.input))) continue;
      byContract ??= new Map();
      const list = byContract.get(v.context) ?? [];
      list.push({ visit: v, path: [...v.ancestors.slice(outerIndex), v], readOnly: true, refused: v.frame.error !== undefined, outer: v.context });
      byContract.set(v.context, list);
      continue;
    }
    if (groupOf.get(parent.context) === group) continue;
    const outer = v.ancestors.findIndex((a) => groupOf.get(a.context) === group);
    if (outer < 0 || ignore.has(selectorOf(v.frame.input))) continue;
    const path = [...v.ancestors.slice(outer), v];
    const readOnly = path.slice(1).some((p) => p.frame.type === "STATICCALL");
    byContract ??= new Map();
    const list = byContract.get(v.context) ?? [];
    list.push({ visit: v, path, readOnly, refused: v.frame.error !== undefined, outer: v.ancestors[outer].context });
    byContract.set(v.context, list);
  }
  return byContract;
}

/** Value that left `contract` in the transaction: native value in successful frames, or a Transfer log from it. */
function movedValueOut(tx: TxContext, contract: string): boolean {
  if (tx.status === 0) return false;
  const topic = `0x${contract.slice(2).padStart(64, "0")}`;
  if (tx.logs.some((l) => l.topics.length === 3 && l.topics[0] === TRANSFER_TOPIC && l.topics[1] === topic && BigInt(l.data === "0x" ? 0 : l.data) > 0n)) return true;
  return tx.trace !== null && frameVisits(tx.trace).some((v) => !v.reverted && v.frame.value > 0n && v.frame.from === contract && v.frame.type === "CALL");
}
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

/**
 * The read-only re-entries of a transaction, attributed to their victim: for each view read in a contract
 * that is mid-call, the contract that made the read (the frame issuing the STATICCALL).
 */
function readOnlyVictims(reentries: Reentry[]): { victim: string; read: string; r: Reentry }[] {
  return reentries
    .filter((r) => r.readOnly && r.visit.frame.type === "STATICCALL")
    .map((r) => ({ victim: r.visit.ancestors[r.visit.ancestors.length - 1].context, read: r.visit.context, r }));
}

function groupMap(groups: readonly string[][], all: readonly ProtectedContract[], watched: readonly ProtectedContract[]): Map<string, number> {
  const out = new Map<string, number>();
  watched.forEach((c, i) => out.set(c.address, i));
  groups.forEach((members, g) => {
    const id = watched.length + g;
    for (const m of selectContracts(all, members, ID)) out.set(m.address, id);
  });
  return out;
}

export const reentrancyDetector: DetectorDefinition<ReentrancyParams> = {
  id: ID,
  description:
    "A protected contract (or a member of its protection group) re-entered within one transaction through an outside contract (A -> X -> A, A -> X -> B), reverted transactions included; read-only re-entries filed against the contract that acted on the read.",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const groupOf = groupMap(p.groups, deps.contracts, contracts);
    const protectedSet = new Set(deps.contracts.map((c) => c.address));
    const names = new Map(deps.contracts.map((c) => [c.address, c.name]));
    const ignore = new Set(p.ignoreSelectors);
    const nameOf = (a: string) => names.get(a) ?? a;

    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        const findings: Finding[] = [];
        for (const tx of ctx.transactions) {
          if (!tx.trace) {
            deps.logger.debug({ tx: tx.hash }, "no trace for transaction; reentrancy not checked");
            continue;
          }
          const found = findReentries(tx, groupOf, ignore);
          if (!found) continue;
          const reported = new Set<string>();
          for (const [contract, reentries] of found) {
            const stateChanging = reentries.filter((r) => !r.readOnly);
            if (stateChanging.length === 0) continue;
            const ran = stateChanging.filter((r) => !r.refused);
            const refused = ran.length === 0;
            const severity = refused ? p.refusedSeverity : p.severity;
            if (severity === null) continue;
            const shown = (refused ? stateChanging : ran).slice(0, p.maxPaths);
            const first = shown[0];
            const cross = first.outer !== contract;
            const outcome = refused ? "refused" : tx.status === 0 ? "reverted" : movedValueOut(tx, contract) ? "value-moved" : "ran";
            const title = `${refused ? "Refused re-entry attempt" : cross ? "Cross-contract reentrancy" : "Reentrancy"} into ${nameOf(contract)}${cross ? ` while ${nameOf(first.outer)} was mid-call` : ""}${tx.status === 0 ? " (reverted transaction)" : ""}`;
            reported.add(contract);
            findings.push(
              makeFinding({
                detectorId: ID,
                severity,
                title,
                block: ctx,
                txHash: tx.hash,
                contract,
                subject: contract,
                evidence: {
                  contract,
                  contractName: nameOf(contract),
                  txStatus: tx.status === 1 ? "success" : "reverted",
                  outcome,
                  from: tx.from,
                  reentries: stateChanging.length,
                  refusedReentries: stateChanging.filter((r) => r.refused).length,
                  readOnly: false,
                  crossContract: cross,
                  ...(cross ? { midCall: first.outer, midCallName: nameOf(first.outer) } : {}),
                  depth: first.visit.depth,
                  selectors: [...new Set(shown.map((r) => selectorOf(r.visit.frame.input)))],
                  paths: shown.map((r) => r.path.map(describeFrame)),
                  reentryReverted: first.visit.reverted,
                },
              }),
            );
          }
          // Read-only: filed against the victim where it is protected, else against the contract read.
          const all = [...found.values()].flat();
          const byVictim = new Map<string, { victim: string; read: string; r: Reentry }[]>();
          for (const x of readOnlyVictims(all)) {
            const subject = protectedSet.has(x.victim) ? x.victim : x.read;
            if (reported.has(subject)) continue;
            const list = byVictim.get(subject) ?? [];
            list.push(x);
            byVictim.set(subject, list);
          }
          for (const [subject, reads] of byVictim) {
            const victimProtected = protectedSet.has(reads[0].victim);
            const loss = victimProtected && reads.some((x) => !x.r.visit.reverted) && movedValueOut(tx, reads[0].victim);
            const severity = loss ? p.readOnlyLossSeverity : p.readOnlySeverity;
            if (severity === null) continue;
            const read = reads[0].read;
            findings.push(
              makeFinding({
                detectorId: ID,
                severity,
                title: `Read-only reentrancy: ${nameOf(reads[0].victim)} read ${nameOf(read)} while ${nameOf(read)} was mid-call${loss ? ", then moved value out" : ""}${tx.status === 0 ? " (reverted transaction)" : ""}`,
                block: ctx,
                txHash: tx.hash,
                contract: subject,
                subject: `read-only:${subject}`,
                evidence: {
                  contract: subject,
                  contractName: nameOf(subject),
                  victim: reads[0].victim,
                  victimName: nameOf(reads[0].victim),
                  contractRead: read,
                  contractReadName: nameOf(read),
                  txStatus: tx.status === 1 ? "success" : "reverted",
                  outcome: loss ? "value-moved" : "read",
                  from: tx.from,
                  reentries: reads.length,
                  readOnly: true,
                  selectors: [...new Set(reads.map((x) => selectorOf(x.r.visit.frame.input)))],
                  paths: reads.slice(0, p.maxPaths).map((x) => x.r.path.map(describeFrame)),
                  reentryReverted: reads[0].r.visit.reverted,
                },
              }),
            );
          }
        }
        return findings;
      },
    };
  },
};
