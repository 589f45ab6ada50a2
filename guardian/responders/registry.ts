import type { ResponderDefinition } from "./types";
import { flashbotsTripResponder } from "./flashbots-trip";

/** Every responder type, by `type`. Adding one is one file plus one line here. */
export const responderRegistry: readonly ResponderDefinition<any, any>[] = [flashbotsTripResponder];

export function findResponder(type: string): ResponderDefinition<any, any> | undefined {
  return responderRegistry.find((r) => r.type === type);
}
