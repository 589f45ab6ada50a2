import type { Command } from "commander";
import { keccak256, toUtf8Bytes } from "ethers";
import { loadConfig } from "../config/load-config";
import { createTripPath } from "../decisions/create-decision-sinks";
import { createLogger } from "../ops/logger";
import { GuardianMetrics } from "../ops/metrics";
import { openDatabase } from "../state/database";
import { UsageError } from "./usage-error";
import { configOption } from "./config-option";
import { escapeTerminal } from "../reports/governor-format";
import type { TripOutcome } from "../responders/types";

interface TripOptions {
  config: string;
  breaker: string;
  reason: string;
  dryRun?: boolean;
}

export function register(program: Command): void {
  program
    .command("trip")
    .description("trip a configured breaker now, by hand, through the same private-bundle path the guardian uses")
    .addOption(configOption("guardian YAML config"))
    .requiredOption("--breaker <name>", "a policy.breakers entry, by contract name or breaker address")
    .option("--reason <text>", "why, recorded in the incident report", "manual trip by an operator")
    .option("--dry-run", "build, sign and simulate the trip and log the bundle, but send nothing")
    .action(async (opts: TripOptions) => {
      const loaded = loadConfig(opts.config);
      const { config } = loaded;
      const { logger, flush } = createLogger({ ...config.logging, destination: "stderr" });
      const db = openDatabase(config.store.path);
      try {
        const tripPath = await createTripPath({ loaded, db, logger, metrics: new GuardianMetrics({ defaultMetrics: false }) });
        const wanted = opts.breaker.toLowerCase();
        const target = tripPath.breakers.find((b) => b.contractName.toLowerCase() === wanted || b.breaker === wanted);
        if (!target) {
          const known = tripPath.breakers.map((b) => `${b.contractName} (${b.breaker})`).join(", ") || "none: add policy.breakers";
          throw new UsageError(`--breaker: no breaker "${opts.breaker}" in policy.breakers (known: ${known})`);
        }
        const detectedAt = Date.now();
        const incidentId = keccak256(toUtf8Bytes(`failsafe:manual:${target.chainId}:${target.breaker}:${opts.reason}:${detectedAt}`));
        const dryRun = opts.dryRun === true || config.policy.dryRun;
        const record = await tripPath.recorder.open({ id: incidentId, chainId: target.chainId, breaker: target.breaker, findings: [], dryRun, notes: [`Manual trip: ${opts.reason}`] });
        const outcome = await target.responder.trip({ incidentId, breaker: target.breaker, detectedAt, dryRun });
        await tripPath.recorder.recordOutcome(incidentId, outcome);
        await target.responder.close?.();

        // A dry run or an already-tripped breaker is a decision, not an incident: no report to point at.
        const where = (await tripPath.recorder.decision(incidentId)) ? { decision: true as const } : { report: record.files.markdown };
        process.stdout.write(renderTripOutcome({ incidentId, name: target.contractName, breaker: target.breaker, chainId: target.chainId }, outcome, where));
        if (outcome.status === "failed" || outcome.status === "aborted") process.exitCode = 1;
      } finally {
        db.close();
        flush();
      }
    });
}

/**
 * What `failsafe trip` prints. Error text and timeline details quote relays and revert strings, which the
 * operator does not control: they are escaped so they cannot move the cursor or rewrite the terminal.
 */
export function renderTripOutcome(target: { incidentId: string; name: string; breaker: string; chainId: number }, outcome: TripOutcome, recorded: { report: string } | { decision: true }): string {
  const lines = [`${"decision" in recorded ? "decision" : "incident"} ${target.incidentId}`, `${escapeTerminal(target.name)} (${target.breaker}) on chain ${target.chainId}: ${outcome.status}${outcome.error ? ` (${escapeTerminal(outcome.error)})` : ""}`];
  for (const e of outcome.timeline) {
    const where = [e.blockNumber !== undefined ? `block ${e.blockNumber}` : "", e.txHash ? `tx ${e.txHash}` : "", e.priorityFeePerGas ? `tip ${e.priorityFeePerGas} wei` : ""].filter(Boolean).join(", ");
    lines.push(`  +${String(e.ms).padStart(5)} ms  ${e.step.padEnd(16)}${where}${e.detail ? `  ${escapeTerminal(e.detail)}` : ""}`);
  }
  if (outcome.bundleHashes.length > 0) lines.push(`bundles ${outcome.bundleHashes.join(", ")}`);
  lines.push("report" in recorded ? `report ${escapeTerminal(recorded.report)}` : "recorded as a trip decision, not an incident: failsafe incident list --decisions");
  return `${lines.join("\n")}\n`;
}
