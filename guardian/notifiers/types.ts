import type { z } from "zod";

/**
 * A notifier delivers one rendered alert to one channel. The dispatcher (routing, grouping, cooldown,
 * retries, delivery log) is separate, so a notifier file only speaks its service's protocol.
 */
export interface Notifier {
  readonly name: string;
  readonly type: string;
}

/** One file per notifier type exports one of these; `registry.ts` lists them. */
export interface NotifierDefinition<P = unknown, N extends Notifier = Notifier> {
  type: string;
  description: string;
  /** zod schema for this notifier's parameters under `notifiers.<name>` in the YAML config. */
  params: z.ZodType<P>;
  create(name: string, params: P, deps: unknown): N;
}
