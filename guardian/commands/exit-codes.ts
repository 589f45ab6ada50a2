import { CommanderError, type Command } from "commander";

/** The CLI's exit codes: 0 success, 1 runtime failure, 2 usage or config error, 3 a verification or self-check failed. */
export const EXIT = { ok: 0, failure: 1, usage: 2, verification: 3 } as const;

/** Commander's codes for a command line it could not parse; help and version output keep their own exit code. */
const USAGE_CODES = new Set([
  "commander.missingArgument",
  "commander.optionMissingArgument",
  "commander.missingMandatoryOptionValue",
  "commander.conflictingOption",
  "commander.unknownOption",
  "commander.excessArguments",
  "commander.unknownCommand",
  "commander.invalidArgument",
]);

/**
 * Makes commander's parse errors exit 2 (usage) for `cmd` and every subcommand under it, instead of
 * commander's 1, so scripts can tell a mistyped command line from a failure at run time.
 */
export function usageErrorsExit2(cmd: Command): Command {
  cmd.exitOverride((err) => {
    if (err.code === "commander.executeSubCommandAsync") return;
    throw USAGE_CODES.has(err.code) ? new CommanderError(EXIT.usage, err.code, err.message) : err;
  });
  for (const sub of cmd.commands) usageErrorsExit2(sub);
  return cmd;
}
