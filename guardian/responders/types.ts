import type { z } from "zod";

/** A responder acts on a decision (e.g. sends the trip bundle). */
export interface Responder {
  readonly name: string;
  readonly type: string;
}

/** One file per responder type exports one of these; `registry.ts` lists them. */
export interface ResponderDefinition<P = unknown, R extends Responder = Responder> {
  type: string;
  description: string;
  /** zod schema for this responder's parameters under `responders.<name>` in the YAML config. */
  params: z.ZodType<P>;
  create(name: string, params: P, deps: unknown): R;
}
