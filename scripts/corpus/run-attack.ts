import type { Finding, Severity } from "../../guardian/detectors/types";
import type { AttackCase } from "./attacks";
import { CorpusGuardian, type CorpusChain } from "./env";

const RANK: Severity[] = ["info", "low", "medium", "high", "critical"];
/** A finding counts as a detection from this severity up: what pages a human. */
export const DETECTION_SEVERITY: Severity = "high";

export interface AttackResult {
  id: string;
  klass: string;
  incident: AttackCase["incident"];
  oneTx: boolean;
  attackTxs: number;
  firstBlock: number;
  firstLossBlock?: number;
  detected?: { detector: string; severity: Severity; block: number; pending: boolean; title: string };
  detectedBeforeLoss: boolean;
  /** Blocks from the first attack transaction's block to the block the trip (pause) landed in; 0 = ahead of it in the same block. */
  tripBlocksAfterFirst?: number;
  tripDetector?: string;
  /** A revoke sent on an allowance finding (a trip cannot revoke an allowance). */
  revoked: boolean;
  atRisk: bigint;
  saved: bigint;
  savedPct: number;
  findings: Finding[];
}

/**
 * Runs one attack case with the corpus guardian watching every block (and, with `mempool`, simulating every
 * attack transaction while it is pending, as the guardian's mempool watch does).
 */
export async function runAttack(chain: CorpusChain, c: AttackCase, options: { mempool: boolean }): Promise<AttackResult> {
  const run = await c.build(chain);
  const pausable = new Set(run.contracts.filter((x) => x.pausable).map((x) => x.address));
  const watched = new Set([...run.contracts.map((x) => x.address)]);
  let step = 0;
  let firstLossStep: number | undefined;
  let detected: AttackResult["detected"];
  let detectedStep: number | undefined;
  let detectedPendingOfStep = false;
  let revoked = false;
  const findings: Finding[] = [];
  const guardian = new CorpusGuardian(chain, run.yaml, pausable, async (d, action) => {
    findings.push(d.finding);
    if (!detected && RANK.indexOf(d.finding.severity) >= RANK.indexOf(DETECTION_SEVERITY)) {
      detected = { detector: d.finding.detectorId, severity: d.finding.severity, block: d.block, pending: d.pending, title: d.finding.title };
      detectedStep = step;
      detectedPendingOfStep = d.pending;
    }
    const revoke = d.finding.evidence.revoke as { to: string; data: string } | undefined;
    if (revoke && run.revoke && !revoked && d.finding.severity === "critical") {
      revoked = true;
      await run.revoke(revoke.to, revoke.data);
    }
    void action;
  });
  for (const c2 of guardian.contracts) watched.add(c2.address);

  const atRisk = await run.held();
  let firstBlock = 0;
  let firstLossBlock: number | undefined;
  let attackTxs = 0;
  for (const [i, s] of run.steps.entries()) {
    step = i;
    const hashes = await s.send();
    attackTxs += hashes.length;
    if (options.mempool) await guardian.onPending(hashes);
    const block = await chain.mine();
    if (i === 0) firstBlock = block;
    if (s.loss && firstLossStep === undefined) {
      firstLossStep = i;
      firstLossBlock = block;
    }
    await guardian.onBlock(block);
    for (let k = 0; k < (s.idleBlocks ?? 0); k++) await guardian.onBlock(await chain.mine());
  }
  // Lets a trip or revoke sent on the last block land.
  await guardian.onBlock(await chain.mine());
  const after = await run.held();
  const saved = after > atRisk ? atRisk : after;
  const trip = guardian.trips[0];
  const detectedBeforeLoss =
    detectedStep !== undefined && firstLossStep !== undefined && (detectedStep < firstLossStep || (detectedStep === firstLossStep && detectedPendingOfStep));
  return {
    id: c.id,
    klass: c.klass,
    incident: c.incident,
    oneTx: c.oneTx ?? false,
    attackTxs,
    firstBlock,
    ...(firstLossBlock !== undefined ? { firstLossBlock } : {}),
    ...(detected ? { detected } : {}),
    detectedBeforeLoss,
    ...(trip ? { tripBlocksAfterFirst: (trip.pending ? trip.block : trip.block + 1) - firstBlock, tripDetector: trip.finding.detectorId } : {}),
    revoked,
    atRisk,
    saved,
    savedPct: atRisk === 0n ? 100 : Number((saved * 10_000n) / atRisk) / 100,
    findings,
  };
}
