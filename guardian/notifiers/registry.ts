import type { NotifierDefinition } from "./types";

/** Every notifier type, by `type`. Adding a channel is one file plus one line here. */
export const notifierRegistry: readonly NotifierDefinition<any, any>[] = [];

export function findNotifier(type: string): NotifierDefinition<any, any> | undefined {
  return notifierRegistry.find((n) => n.type === type);
}
