import { Command, CommanderError } from "commander";
import { ConfigError } from "./config/load-config";
import * as guard from "./commands/guard";
import * as replay from "./commands/replay";
import * as configCommands from "./commands/config";
import * as report from "./commands/report";
import * as audit from "./commands/audit";
import * as ledger from "./commands/ledger";
import * as relay from "./commands/relay";
import * as trip from "./commands/trip";
import * as incident from "./commands/incident";
import * as governance from "./commands/governance";
import { UsageError } from "./commands/usage-error";

/** One line per command group; each module exports `register(program)`. */
const commandGroups: { register(program: Command): void }[] = [guard, replay, configCommands, report, audit, ledger, relay, trip, incident, governance];


export function buildProgram(): Command {
  const program = new Command()
    .name("failsafe")
    .description("Failsafe guardian: follow chains reorg-safely, detect attacks, trip the breaker")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const group of commandGroups) group.register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Turns any error into a message and an exit code; stack traces only with FAILSAFE_DEBUG=1. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has already printed its message (or the help text, which exits 0).
    return err.exitCode;
  }
  if (err instanceof ConfigError || err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message}\n`);
  if (process.env.FAILSAFE_DEBUG === "1" && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}

// Run when executed directly (tsx guardian/cli.ts) or through bin/failsafe.cjs; stay quiet when imported.
if (require.main === module || require.main?.filename.endsWith("failsafe.cjs")) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err);
    },
  );
}
