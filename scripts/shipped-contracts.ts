import { readdirSync } from "node:fs";
import path from "node:path";

/**
 * What the contracts package ships: the modules at the top of contracts/ and these folders. An allow-list, not a
 * deny-list, so a new folder of test or lab contracts (mocks/, test/, corpus/, governance-test/, ...) can never
 * end up in consumers' node_modules by accident.
 */
export const SHIPPED_CONTRACT_DIRS: readonly string[] = ["interfaces", "upgradeable", "utils"];

export const CONTRACTS_DIR = path.resolve(__dirname, "../contracts");

/** The shipped .sol files, relative to contracts/ with forward slashes, sorted. */
export function shippedContractSources(dir = CONTRACTS_DIR): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (dir !== CONTRACTS_DIR || SHIPPED_CONTRACT_DIRS.includes(entry.name)) out.push(...shippedContractSources(full));
    } else if (entry.name.endsWith(".sol")) {
      out.push(path.relative(CONTRACTS_DIR, full).split(path.sep).join("/"));
    }
  }
  return out.sort();
}
