import pino from "pino";
import type { BlockContext } from "../../../guardian/context/types";
import type { Detector, DetectorDefinition, Finding } from "../../../guardian/detectors/types";
import type { LoadedFixture } from "./blockFixtures";

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
