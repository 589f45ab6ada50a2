import type { DetectorDefinition } from "./types";

/**
 * Every detector the guardian knows, by id. Adding a detector is one file exporting a
 * DetectorDefinition plus one line here.
 */
export const detectorRegistry: readonly DetectorDefinition<any>[] = [];

export function findDetector(id: string): DetectorDefinition<any> | undefined {
  return detectorRegistry.find((d) => d.id === id);
}
