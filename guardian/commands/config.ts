import type { Command } from "commander";
import { usageErrorsExit2 } from "./exit-codes";
import { ConfigError, loadConfig } from "../config/load-config";
import { createLogger } from "../ops/logger";
import { renderTable } from "../ops/table";
import { runConfigChecks, type ConfigCheck } from "./config-checks";

export function register(program: Command): void {
  const config = program.command("config").description("work with guardian config files");
  config
    .command("check")
    .description("run every check `guard` runs before touching the network: schema, detectors and invariants, breakers, responders and signer keys, notifiers and routes, writable paths (exit 2 on any problem)")
    .argument("<file>", "guardian YAML config")
    .option("--json", "print the checks as JSON")
    .action(async (file: string, o: { json?: boolean }) => {
      let checks: ConfigCheck[];
      try {
        const loaded = loadConfig(file);
        const { logger } = createLogger({ level: "silent", destination: "stderr" });
        checks = await runConfigChecks(loaded, logger);
      } catch (err) {
        // Without --json a schema error keeps its usual one-message form (the CLI prints it, exit 2).
        if (!(err instanceof ConfigError) || !o.json) throw err;
        checks = err.issues.map((i) => ({ check: "schema", path: i.path, ok: false, message: i.message }));
      }
      const failed = checks.filter((c) => !c.ok);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ file, ok: failed.length === 0, checks }, null, 2)}\n`);
      } else if (failed.length === 0) {
        const detectors = checks.filter((c) => c.check === "detectors").map((c) => `  ${c.message}`);
        process.stdout.write(`${file}: ok\n${detectors.join("\n")}\n${renderTable(["CHECK", "WHERE", "RESULT"], checks.filter((c) => c.check !== "detectors").map((c) => [c.check, c.path, c.message]))}`);
      } else {
        process.stderr.write(`error: ${file}: ${failed.length} problem${failed.length === 1 ? "" : "s"} that guard would refuse to start with\n${renderTable(["CHECK", "WHERE", "PROBLEM"], failed.map((c) => [c.check, c.path, c.message]), { width: process.stderr.isTTY ? process.stderr.columns : undefined })}`);
      }
      if (failed.length > 0) process.exitCode = 2;
    });
  for (const sub of config.commands) usageErrorsExit2(sub);
}
