import { z } from "zod";
import type { BlockContext } from "../context/types";
import { accountFlowsOfBlock, topicOf } from "./account-flows";
import { frameVisits, selectorOf } from "./call-tree";
import { makeFinding } from "./finding";
import { contractsParam, selectContracts, selectorSchema, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding } from "./types";

const ID = "repeated-calls";

const params = z
  .object({
    contracts: contractsParam,
    /** Calls of one function of a protected contract by one caller within one transaction. */
    minCalls: z.number().int().min(2).default(25),
    /** The contract lost value net to that caller (or the transaction's sender) in the transaction. */
    lossSeverity: severitySchema.default("critical"),
    /** Nothing left net: a batch, or a probe. `null` silent. */
    severity: severitySchema.nullable().default("medium"),
    ignoreSelectors: z.array(selectorSchema).default([]),
  })
  .strict();

export type RepeatedCallsParams = z.infer<typeof params>;

export const repeatedCallsDetector: DetectorDefinition<RepeatedCallsParams> = {
  id: ID,
  description:
    "Many calls of one function of a protected contract by one caller within one transaction: rounding and precision drains repeat a tiny profitable operation hundreds of times (Balancer 2025). Critical when the contract lost value net to that caller.",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const watched = new Set(contracts.map((c) => c.address));
    const watchedTopics = new Set(contracts.map((c) => topicOf(c.address)));
    const names = new Map(contracts.map((c) => [c.address, c.name]));
    const ignore = new Set(p.ignoreSelectors);
    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        const findings: Finding[] = [];
        for (const tx of ctx.transactions) {
          if (!tx.trace || tx.status === 0) continue;
          const counts = new Map<string, number>();
          for (const v of frameVisits(tx.trace)) {
            if (v.reverted || !watched.has(v.context) || v.frame.type === "STATICCALL" || v.frame.type === "DELEGATECALL") continue;
            const sel = selectorOf(v.frame.input);
            if (ignore.has(sel)) continue;
            const key = `${v.context}|${v.frame.from}|${sel}`;
            counts.set(key, (counts.get(key) ?? 0) + 1);
          }
          let flows: ReturnType<typeof accountFlowsOfBlock> | undefined;
          for (const [key, n] of counts) {
            if (n < p.minCalls) continue;
            const [contract, caller, selector] = key.split("|");
            flows ??= accountFlowsOfBlock({ ...ctx, transactions: [tx] }, watched, watchedTopics);
            const lost = flows.filter((f) => f.contract === contract && f.out > 0n && (f.account === caller || f.account === tx.from));
            const severity = lost.length > 0 ? p.lossSeverity : p.severity;
            if (severity === null) continue;
            const name = names.get(contract) ?? contract;
            findings.push(
              makeFinding({
                detectorId: ID,
                severity,
                title: `${n} calls of ${selector} on ${name} by ${caller} in one transaction${lost.length > 0 ? ", with value lost to it" : ""}`,
                block: ctx,
                txHash: tx.hash,
                contract,
                subject: key,
                evidence: { contract, contractName: name, caller, selector, calls: n, netLoss: lost.map((f) => ({ asset: f.asset, account: f.account, amount: f.out })) },
              }),
            );
          }
        }
        return findings;
      },
    };
  },
};
