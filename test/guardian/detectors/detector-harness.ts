import pino from "pino";
import type { BlockContext } from "../../../guardian/context/types";
import type { Detector, DetectorDefinition, Finding } from "../../../guardian/detectors/types";
import type { LoadedFixture } from "./block-fixtures";
import { bigintSafe } from "../../../guardian/state/guardian-store";

export const silentLogger = pino({ level: "silent" });

/** A detector built the way the guardian builds it: params through its zod schema, deps from the fixture. */
export function createFromFixture<P>(def: DetectorDefinition<P>, fixture: LoadedFixture, params: unknown = {}): Detector {
  return def.create(def.params.parse(params), {
    chainId: fixture.fixture.chainId,
    rpc: fixture.rpc,
    logger: silentLogger,
    contracts: fixture.contracts,
  });
}

/** Feeds blocks in order, as the pipeline does, and returns every finding with the block it came from. */
export async function runBlocks(detector: Detector, blocks: readonly BlockContext[]): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const b of blocks) out.push(...(await detector.onBlock(b)));
  return out;
}

/**
 * Feeds blocks in order and after each one applies the detector's saveChanges() to `stored`, through
 * JSON, as the guardian store does with its entry rows. Returns the findings and, per block, how many
 * entries were written.
 */
export async function runBlocksPersisting(
  detector: Detector,
  blocks: readonly BlockContext[],
  stored: Record<string, unknown>,
): Promise<{ findings: Finding[]; written: number[] }> {
  const findings: Finding[] = [];
  const written: number[] = [];
  for (const b of blocks) {
    findings.push(...(await detector.onBlock(b)));
    const changes = detector.saveChanges!();
    if (changes.replace) for (const key of Object.keys(stored)) delete stored[key];
    for (const key of changes.delete) delete stored[key];
    for (const [key, value] of Object.entries(changes.set)) stored[key] = JSON.parse(JSON.stringify(value, bigintSafe));
    written.push(Object.keys(changes.set).length);
  }
  return { findings, written };
}
