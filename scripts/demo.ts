import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { Wallet, formatEther } from "ethers";
import { ConfigError, loadConfig, type LoadedConfig } from "../guardian/config/load-config";
import { decide } from "../guardian/decisions/policy";
import { escapeTerminal } from "../guardian/reports/governor-format";
import { humanTitle, readTokenUnits, type TokenUnits } from "../guardian/reports/governor-report-units";
import { anvilKey } from "../guardian/ops/anvil";
import { startLab, type Lab } from "./scenarios/lab";
import { prepareVaultDrain, runVaultDrain } from "./scenarios/scenarios";

/**
 * `npm run demo`: anvil and the local relay, Failsafe deployed with deploy/, the guardian on a demo config,
 * an attack that drains the vault through a stolen allowance, the trip, and the incident report.
 */
const TEMPLATE = path.join(__dirname, "demo", "demo.yaml");
const KEY_ENV = "FAILSAFE_DEMO_GUARDIAN_KEY";

class DemoError extends Error {}

/** Set on SIGINT/SIGTERM: the signal path stops everything and exits 130; the interrupted run stays quiet. */
let interrupted = false;

function positiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 100) throw new DemoError(`${flag}: expected an integer >= 100, got "${text}"`);
  return Number(text);
}

/** Fills the template's {{name}} placeholders; a placeholder without a value is a bug in this script. */
function render(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    if (!(name in vars)) throw new DemoError(`${TEMPLATE}: no value for {{${name}}}`);
    return String(vars[name]);
  });
}

function rel(file: string): string {
  const r = path.relative(process.cwd(), file);
  return r.startsWith("..") ? file : r;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("npm run demo --")
    .description("run Failsafe end to end on a local chain and write the incident report")
    .option("--reports <dir>", "folder for the run's report, config, store and logs", "reports")
    .option("--block-time-ms <ms>", "block time of the local chain", "1000")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const opts = program.opts<{ reports: string; blockTimeMs: string }>();
  const blockTimeMs = positiveInt(opts.blockTimeMs, "--block-time-ms");
  const runDir = path.resolve(opts.reports, `demo-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  mkdirSync(runDir, { recursive: true });

  const out = (line = "") => process.stdout.write(`${line}\n`);
  const guardianKey = anvilKey(1);
  const guardian = new Wallet(guardianKey).address;
  out("Failsafe demo: local chain only. The keys are anvil's well-known dev keys (public, never use them elsewhere);");
  out(`the guardian key (dev account 1, ${guardian}) is exported as ${KEY_ENV} for this process only.`);
  out();

  let lab: Lab | undefined;
  let loaded: LoadedConfig | undefined;
  const stopLab = async () => {
    const running = lab;
    lab = undefined;
    await running?.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    out(`\n${signal}: stopping the guardian, the relay and anvil`);
    // A terminal's Ctrl-C reaches anvil too, so the guardian may be left retrying a node that is gone:
    // give the orderly stop a few seconds, then the exit handler kills whatever is left.
    const giveUp = new Promise((resolve) => setTimeout(resolve, 3_000).unref());
    void Promise.race([stopLab().catch(() => undefined), giveUp]).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // Tearing down mid-attack cancels requests still in flight (ethers rejects them with "provider
  // destroyed"); once interrupted those rejections are expected and must not replace exit 130 with a trace.
  process.on("unhandledRejection", (err) => {
    if (interrupted) return;
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
  // Last resort: never leave anvil behind, whatever path the process exits by.
  const anvils: Lab["anvil"][] = [];
  process.once("exit", () => anvils.forEach((a) => a.process.kill("SIGKILL")));

  const units = new Map<string, TokenUnits>();
  try {
    lab = await startLab({
      pacing: { mode: "interval", blockTimeMs },
      guardians: [guardian],
      dir: runDir,
      onFinding: (_g, f, pending) => {
        const decision = loaded && decide(f, loaded.config.policy, loaded.config.contracts.find((c) => c.address === f.contract)?.name);
        const verdict = decision ? ` -> policy: ${decision.action}${decision.rule === "default" ? "" : ` (rule ${decision.rule})`}` : "";
        // In the token's own units, as alerts and reports show it (the log keeps base units).
        out(`  guardian: ${f.severity} ${f.detectorId} finding${pending ? " on a pending transaction" : ""} in block ${f.blockNumber}: ${escapeTerminal(humanTitle(f.title, units))}${verdict}`);
      },
    });
    anvils.push(lab.anvil);
    const relay = await lab.startRelay();
    out(`1. anvil ${lab.anvil.url}; local relay ${relay.url} builds a block every ${blockTimeMs} ms, bundles first`);
    out("2. deployed with deploy/modules/FailsafeLocal.ts (Ignition, deploy/parameters/localhost.json):");
    out(`     vault     ${lab.deployment.vault}  PausableVault: ERC-4626 vault and CircuitBreaker`);
    out(`     timelock  ${lab.deployment.timelock}  TimelockedRecovery: governs the vault`);
    out(`     asset     ${lab.deployment.asset}  MockERC20 fsUSD`);
    for (const [token, u] of await readTokenUnits(lab.provider, [lab.deployment.asset])) units.set(token, u);

    const drain = await prepareVaultDrain(lab);
    process.env[KEY_ENV] = guardianKey;
    const configFile = path.join(runDir, "failsafe.yaml");
    writeFileSync(
      configFile,
      render(readFileSync(TEMPLATE, "utf8"), {
        rpcUrl: lab.anvil.url,
        wsUrl: lab.anvil.wsUrl,
        relayUrl: relay.url,
        vault: lab.deployment.vault,
        asset: lab.deployment.asset,
        timelock: lab.deployment.timelock,
        startBlock: await lab.head(),
        incidentsDir: path.join(runDir, "incidents"),
        storePath: path.join(runDir, "guardian.sqlite"),
        logFile: path.join(runDir, "guardian.log"),
      }),
    );
    loaded = loadConfig(configFile);
    const running = await lab.startGuardian("guardian", configFile);
    out(`3. guardian started on ${rel(TEMPLATE)} (filled in: ${rel(configFile)}); watching the vault for outflow spikes`);
    await lab.mine();

    const held = await drain.asset.balanceOf(lab.deployment.vault);
    out(`4. attack: a stolen share allowance of the treasury (${formatEther(held)} fsUSD in the vault) withdraws ${formatEther(drain.step)} fsUSD per block`);
    const r = await runVaultDrain(lab, running, drain, (line) => out(`  ${line}`));

    const incident = r.incidents.find((i) => i.status === "tripped") ?? r.incidents[0];
    out(`5. incident report written: ${incident ? rel(incident.files.markdown) : "none (no trip was decided)"}`);
    out();
    out("Summary");
    out(`  at risk      ${formatEther(r.fundsAtRisk)} fsUSD; saved ${formatEther(r.fundsSaved)} fsUSD (${r.savedPct}%)`);
    if (incident?.trip) {
      out(`  trip         block ${incident.trip.blockNumber}, ${r.blocksToTrip} block(s) after the first malicious withdrawal, ${r.detectToIncludeMs} ms from detection to inclusion (blocks every ${blockTimeMs} ms), via ${incident.trip.via}`);
      out(`  governance   ${incident.governance.map((g) => g.decision).join(" or ") || "-"} through the timelock: schedule/execute calldata in the report`);
    } else {
      out(`  trip         none: ${incident?.status ?? "no incident"}${incident?.error ? ` (${incident.error})` : ""}`);
    }
    if (incident) out(`  report       ${rel(incident.files.markdown)} and ${rel(incident.files.json)}`);
    out(`  run folder   ${rel(runDir)} (config, guardian.log, guardian.sqlite)`);
    return incident?.status === "tripped" ? 0 : 1;
  } finally {
    await stopLab();
  }
}

main(process.argv).then(
  (code) => {
    if (!interrupted) process.exit(code);
  },
  (err: unknown) => {
    if (interrupted) return;
    const message = err instanceof ConfigError || err instanceof DemoError ? err.message : `demo failed: ${(err as Error).message}`;
    process.stderr.write(`${message}\n`);
    process.exit(1);
  },
);
