import { Option } from "commander";

/** Where every command looks for its config when `--config` is not given. */
export const DEFAULT_CONFIG_FILE = "failsafe.yaml";
export const CONFIG_ENV = "FAILSAFE_CONFIG";

/**
 * The `-c, --config <file>` option of every command, one definition: `--config`, else `$FAILSAFE_CONFIG`, else
 * `./failsafe.yaml` (what the security teams' quickstart creates). A missing file is a config error (exit 2) that
 * says so.
 */
export function configOption(description = "guardian YAML config"): Option {
  return new Option("-c, --config <file>", `${description} (default: $${CONFIG_ENV}, else ./${DEFAULT_CONFIG_FILE})`)
    .env(CONFIG_ENV)
    .default(DEFAULT_CONFIG_FILE);
}
