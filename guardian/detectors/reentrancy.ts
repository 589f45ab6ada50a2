import { z } from "zod";
import type { BlockContext, TxContext } from "../context/types";
import { describeFrame, frameVisits, selectorOf, type FrameVisit } from "./call-tree";
import { makeFinding } from "./finding";
import { contractsParam, selectContracts, selectorSchema, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding } from "./types";

const ID = "reentrancy";

const params = z
  .object({
    /** Names or addresses of the protected contracts to watch; all of them when omitted. */
    contracts: contractsParam,
    severity: severitySchema.default("critical"),
    /**
     * Re-entry through STATICCALL cannot change the contract's state, but it reads state mid-update
     * (read-only reentrancy, which hurts whoever trusts those views). `null` ignores it.
     */
    readOnlySeverity: severitySchema.nullable().default("medium"),
    /** Re-entering calls that are known to be safe, e.g. a view the contract expects to be called back. */
    ignoreSelectors: z.array(selectorSchema).default([]),
    /** How many re-entry paths to keep as evidence per transaction. */
    maxPaths: z.number().int().positive().default(5),
  })
  .strict();

export type ReentrancyParams = z.infer<typeof params>;

interface Reentry {
  visit: FrameVisit;
  /** The frames from the contract's outermost frame down to the re-entering one. */
  path: FrameVisit[];
  readOnly: boolean;
}

/**
 * A re-entry is a frame running in the contract's context whose parent runs elsewhere while an
 * ancestor already runs in that context: A -> X -> A. Delegate calls keep their caller's context, so a
 * proxy calling its implementation is not a re-entry, and neither is a contract calling itself.
 */
function findReentries(tx: TxContext, watched: ReadonlySet<string>, ignore: ReadonlySet<string>): Map<string, Reentry[]> | undefined {
  if (!tx.trace) return undefined;
  // Created on the first re-entry: almost every transaction has none.
  let byContract: Map<string, Reentry[]> | undefined;
  for (const v of frameVisits(tx.trace)) {
    if (v.depth === 0 || !watched.has(v.context)) continue;
    const parent = v.ancestors[v.ancestors.length - 1];
    if (parent.context === v.context) continue;
    const outer = v.ancestors.findIndex((a) => a.context === v.context);
    if (outer < 0 || ignore.has(selectorOf(v.frame.input))) continue;
    const path = [...v.ancestors.slice(outer), v];
    const readOnly = path.slice(1).some((p) => p.frame.type === "STATICCALL");
    byContract ??= new Map();
    const list = byContract.get(v.context) ?? [];
    list.push({ visit: v, path, readOnly });
    byContract.set(v.context, list);
  }
  return byContract;
}

export const reentrancyDetector: DetectorDefinition<ReentrancyParams> = {
  id: ID,
  description: "A protected contract re-entered within one transaction through an external call (A -> X -> A), reverted transactions included.",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const watched = new Set(contracts.map((c) => c.address));
    const names = new Map(contracts.map((c) => [c.address, c.name]));
    const ignore = new Set(p.ignoreSelectors);

    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        const findings: Finding[] = [];
        for (const tx of ctx.transactions) {
          if (!tx.trace) {
            deps.logger.debug({ tx: tx.hash }, "no trace for transaction; reentrancy not checked");
            continue;
          }
          for (const [contract, reentries] of findReentries(tx, watched, ignore) ?? []) {
            const stateChanging = reentries.filter((r) => !r.readOnly);
            const severity = stateChanging.length > 0 ? p.severity : p.readOnlySeverity;
            if (severity === null) continue;
            const shown = (stateChanging.length > 0 ? stateChanging : reentries).slice(0, p.maxPaths);
            const first = shown[0];
            const name = names.get(contract) ?? contract;
            findings.push(
              makeFinding({
                detectorId: ID,
                severity,
                title: `${stateChanging.length > 0 ? "Reentrancy" : "Read-only reentrancy"} into ${name}${tx.status === 0 ? " (reverted transaction)" : ""}`,
                block: ctx,
                txHash: tx.hash,
                contract,
                subject: contract,
                evidence: {
                  contract,
                  contractName: name,
                  txStatus: tx.status === 1 ? "success" : "reverted",
                  from: tx.from,
                  reentries: reentries.length,
                  readOnly: stateChanging.length === 0,
                  depth: first.visit.depth,
                  selectors: [...new Set(shown.map((r) => selectorOf(r.visit.frame.input)))],
                  paths: shown.map((r) => r.path.map(describeFrame)),
                  reentryReverted: first.visit.reverted,
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
