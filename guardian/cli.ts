import { readFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { UsageError } from "./commands/usage-error";

/** A command module: `register(program)` adds its top-level command (and subcommands) to the program. */
interface CommandModule {
  register(program: Command): void;
}

/**
 * The top-level commands, loaded on demand: a command's module (and ethers, SQLite, the TypeChain
 * factories behind it) is imported only when that command runs, so `--help` and `--version` start in
 * tens of milliseconds. `summary` is the one line the root help lists; the module's own description is
 * the full text shown by `failsafe <command> --help`. Add a command here and in nothing else.
 * `require`, not `import()`: the compiled CommonJS, ts-node and tsx all resolve it the same way.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: readonly { name: string; summary: string; load(): CommandModule }[] = [
  { name: "guard", summary: "run the guardian: follow every configured chain, detect, and feed findings downstream", load: () => require("./commands/guard") as CommandModule },
  { name: "replay", summary: "run the configured detectors over past blocks or one transaction and print the findings", load: () => require("./commands/replay") as CommandModule },
  { name: "config", summary: "work with guardian config files", load: () => require("./commands/config") as CommandModule },
  { name: "report", summary: "reports from the maintained index, each checked against the node", load: () => require("./commands/report") as CommandModule },
  { name: "audit", summary: "exports auditors can verify against any node without trusting us", load: () => require("./commands/audit") as CommandModule },
  { name: "ledger", summary: "system-wide index, contract groups by industry, and the live HTTP view", load: () => require("./commands/ledger") as CommandModule },
  { name: "relay", summary: "run the local Flashbots-compatible relay on top of anvil (development only)", load: () => require("./commands/relay") as CommandModule },
  { name: "trip", summary: "trip a configured breaker now, by hand, through the guardian's private-bundle path", load: () => require("./commands/trip") as CommandModule },
  { name: "incident", summary: "incidents the guardian opened: list them, or show the report for governors", load: () => require("./commands/incident") as CommandModule },
  { name: "governance", summary: "the governors' decisions on an incident: payloads, scheduling, execution", load: () => require("./commands/governance") as CommandModule },
  { name: "store", summary: "the guardian's store: schema migrations of the PostgreSQL backend", load: () => require("./commands/store") as CommandModule },
  { name: "dashboard", summary: "serve a read-only incident dashboard on 127.0.0.1", load: () => require("./commands/dashboard") as CommandModule },
];

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/** The version of the package this file ships in: the nearest package.json above it (repo root or installed package). */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      if (path.dirname(dir) === dir) return "unknown";
    }
  }
}

/** The command the arguments name (`failsafe [root options] <command> ...` or `failsafe help <command>`), if any. */
function namedCommand(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith("-"));
  return words[0] === "help" ? words[1] : words[0];
}

/**
 * The program for these arguments (`process.argv` form). Only the named command's module is loaded; with
 * no known command (root help, --version, a typo) every command is listed by name and summary instead.
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command()
    .name("failsafe")
    .description("Failsafe guardian: follow chains reorg-safely, detect attacks, trip the breaker")
    .version(packageVersion(), "-V, --version", "print the version of failsafe")
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const wanted = namedCommand(argv.slice(2));
  const entry = COMMANDS.find((c) => c.name === wanted);
  if (entry) {
    entry.load().register(program);
  } else {
    // Listing entries only: parsing with no known command shows help or reports the unknown one.
    for (const c of COMMANDS) program.command(c.name).summary(c.summary).description(c.summary);
  }
  const exitOverride = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}

/**
 * Turns any error into a message and an exit code: 0 success (help, version), 1 runtime failure,
 * 2 usage or config error. Stack traces only with FAILSAFE_DEBUG=1.
 */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has already printed its message (or the help text). Help and --version exit 0; every
    // other commander error (unknown option or command, missing argument, no command given) is usage.
    return err.exitCode === 0 ? 0 : 2;
  }
  // Loaded here, not at the top: the config schema pulls in every detector, which --help must not load.
  const { ConfigError } = require("./config/load-config") as typeof import("./config/load-config");
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
    await (await buildProgram(argv)).parseAsync(argv);
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
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
