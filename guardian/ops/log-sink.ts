import type { Logger } from "pino";
import type { FindingSink } from "../decisions/types";
import type { Severity } from "../detectors/types";

const LEVEL: Record<Severity, "info" | "warn" | "error"> = { info: "info", low: "info", medium: "warn", high: "error", critical: "error" };

/** Writes every new finding and retraction to the log: the baseline sink that is always there. */
export function logFindingSink(logger: Logger): FindingSink {
  return {
    name: "log",
    async onFindings(findings) {
      for (const f of findings) {
        logger[LEVEL[f.severity]](
          { finding_id: f.id, detector_id: f.detectorId, severity: f.severity, chain_id: f.chainId, block_number: f.blockNumber, block_hash: f.blockHash, tx_hash: f.txHash, contract: f.contract, evidence: f.evidence },
          f.title,
        );
      }
    },
    async onRetractions(retracted, reorg) {
      for (const f of retracted) {
        logger.warn({ finding_id: f.id, detector_id: f.detectorId, block_number: f.blockNumber, block_hash: f.blockHash, reorg_depth: reorg.depth }, `retracted: ${f.title}`);
      }
    },
  };
}
