import { z } from "zod";
import type { ReorgEvent } from "../chain/types";
import { makeFinding } from "./finding";
import { severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding } from "./types";

const ID = "reorg";

const params = z
  .object({
    /** Reorgs deeper than this many blocks are a fork-level operational risk. */
    maxDepth: z.number().int().nonnegative().default(2),
    severity: severitySchema.default("high"),
    /** Reorgs up to `maxDepth` deep; `null` stops reporting them. */
    shallowSeverity: severitySchema.nullable().default("info"),
  })
  .strict();

export type ReorgParams = z.infer<typeof params>;

export const reorgDetector: DetectorDefinition<ReorgParams> = {
  id: ID,
  description: "Chain reorganisations: every reorg as info, one deeper than maxDepth as a finding of its own.",
  params,
  create(p): Detector {
    return {
      id: ID,
      async onBlock(): Promise<Finding[]> {
        return [];
      },
      async onReorg(reorg: ReorgEvent): Promise<Finding[]> {
        const deep = reorg.depth > p.maxDepth;
        const severity = deep ? p.severity : p.shallowSeverity;
        if (severity === null) return [];
        // The finding belongs to the branch that won, so a later reorg of that branch retracts it too.
        const anchor = reorg.added[0] ?? reorg.commonAncestor;
        return [
          makeFinding({
            detectorId: ID,
            severity,
            title: `${deep ? "Deep reorg" : "Reorg"} of ${reorg.depth} block${reorg.depth === 1 ? "" : "s"} after block ${reorg.commonAncestor.number}`,
            block: { chainId: reorg.chainId, number: anchor.number, hash: anchor.hash },
            subject: `reorg:${reorg.orphaned.map((b) => b.hash).join(",")}`,
            evidence: {
              depth: reorg.depth,
              maxDepth: p.maxDepth,
              commonAncestor: { number: reorg.commonAncestor.number, hash: reorg.commonAncestor.hash },
              orphaned: reorg.orphaned.map((b) => ({ number: b.number, hash: b.hash })),
              added: reorg.added.map((b) => ({ number: b.number, hash: b.hash })),
            },
          }),
        ];
      },
    };
  },
};
