import { Command, CommanderError } from "commander";
import { formatEther } from "ethers";
import type { Pacing } from "../scenarios/lab";
import { invariantBreak, multiTxDrain, pendingAttack, reentrancyDrain, type Scenario, type ScenarioResult } from "../scenarios/scenarios";
import { biddingAttacker, oneShotFlashLoan, oneShotReadOnlyReentrancy, spamBlock } from "../scenarios/adaptive";

/**
 * `npm run bench:response`: attack scenarios 1-4 and the adaptive attacker's rounds (issue 12: follow-up
 * bundles outbidding the trip, a spam block before the attack, one-shot attacks in the mempool) on anvil + the
 * local relay with the real guardian, on a fixed block time (the relay builds a block every `--block-time-ms`
 * whatever the guardian is doing). Prints a table, then as the last line one JSON object with the headline
 * figures and the targets.
 */
const SCENARIOS: [string, Scenario][] = [
  ["reentrancy", reentrancyDrain],
  ["multi-tx-drain", multiTxDrain],
  ["pending-attack", pendingAttack],
  ["invariant", invariantBreak],
  ["bidding-attacker", biddingAttacker(true)],
  ["spam-reverted", spamBlock("reverted", 500)],
  ["spam-cheap", spamBlock("cheap", 1000)],
  ["one-shot-read-only", oneShotReadOnlyReentrancy],
  ["one-shot-flash-loan", oneShotFlashLoan],
];

function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function int(text: string, flag: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`${flag}: expected an integer >= ${min}, got "${text}"`);
  return Number(text);
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("npm run bench:response --")
    .option("--block-time-ms <ms>", "block time of the local chain (interval pacing)", "1000")
    .option("--runs <n>", "runs of each scenario", "3")
    .option("--pacing <mode>", "interval (fixed block time) or guardian (a block once the guardian's trip waits at the relay)", "interval")
    .exitOverride();
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const opts = program.opts<{ blockTimeMs: string; runs: string; pacing: string }>();
  if (opts.pacing !== "interval" && opts.pacing !== "guardian") throw new Error(`--pacing: expected interval or guardian, got "${opts.pacing}"`);
  const blockTimeMs = int(opts.blockTimeMs, "--block-time-ms", 100);
  const runs = int(opts.runs, "--runs", 1);
  const pacing: Pacing = opts.pacing === "interval" ? { mode: "interval", blockTimeMs } : { mode: "guardian", maxSlotMs: 12_000 };

  const results: { run: number; r: ScenarioResult }[] = [];
  const header = ["scenario", "run", "funds at risk", "funds saved", "saved %", "blocks to trip", "detect→send ms", "detect→include ms"];
  const rows: string[][] = [];
  for (let run = 1; run <= runs; run++) {
    for (const [, scenario] of SCENARIOS) {
      const r = await scenario({ pacing });
      results.push({ run, r });
      rows.push([r.id, String(run), `${formatEther(r.fundsAtRisk)} ${r.asset}`, `${formatEther(r.fundsSaved)} ${r.asset}`, r.savedPct.toFixed(2), String(r.blocksToTrip ?? "no trip"), String(r.detectToSendMs ?? "-"), String(r.detectToIncludeMs ?? "-")]);
      process.stderr.write(`  ${r.id} run ${run}: saved ${r.savedPct}%, blocks to trip ${r.blocksToTrip ?? "-"}\n`);
    }
  }

  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  console.log(`attack scenarios 1-4 and the adaptive attacker's rounds, ${pacing.mode === "interval" ? `a block every ${blockTimeMs} ms` : "guardian-paced blocks"}, ${runs} run(s) each`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));

  const all = results.map((x) => x.r);
  const ms = all.flatMap((r) => (r.detectToIncludeMs !== undefined ? [r.detectToIncludeMs] : []));
  const untripped = all.filter((r) => r.blocksToTrip === undefined).length;
  const summary = {
    bench: "response",
    pacing: pacing.mode,
    blockTimeMs: pacing.mode === "interval" ? blockTimeMs : null,
    runs,
    fundsSavedPct: Math.min(...all.map((r) => r.savedPct)),
    pendingAttackSavedPct: Math.min(...all.filter((r) => r.id === "pending-attack").map((r) => r.savedPct)),
    maxBlocksToTrip: untripped > 0 ? null : Math.max(...all.map((r) => r.blocksToTrip as number)),
    untrippedRuns: untripped,
    p50DetectToIncludeMs: quantile(ms, 0.5),
    p95DetectToIncludeMs: quantile(ms, 0.95),
    p50DetectToSendMs: quantile(all.flatMap((r) => (r.detectToSendMs !== undefined ? [r.detectToSendMs] : [])), 0.5),
    perScenario: Object.fromEntries(
      SCENARIOS.map(([id]) => {
        const mine = all.filter((r) => r.id === id);
        return [id, { minSavedPct: Math.min(...mine.map((r) => r.savedPct)), maxBlocksToTrip: Math.max(...mine.map((r) => r.blocksToTrip ?? Infinity)), p50DetectToIncludeMs: quantile(mine.flatMap((r) => (r.detectToIncludeMs !== undefined ? [r.detectToIncludeMs] : [])), 0.5) }];
      }),
    ),
    biddingAttackerSavedPct: Math.min(...all.filter((r) => r.id === "bidding-attacker").map((r) => r.savedPct)),
    oneShotPendingSavedPct: Math.min(...all.filter((r) => r.id.startsWith("one-shot-")).map((r) => r.savedPct)),
    spamBlockMaxLagBlocks: Math.max(...all.filter((r) => r.id.startsWith("spam-")).map((r) => r.facts.maxLagBlocks as number)),
    // Blocks committed later than the block deadline after they appeared at the node's head (sampled every 25 ms).
    blockDeadlineMissed: all.filter((r) => r.id.startsWith("spam-")).reduce((n, r) => n + (r.facts.deadlineMissedBlocks as number[]).length, 0),
    spamBlockDegraded: all.filter((r) => r.id.startsWith("spam-") && (r.facts.degradedFindings as unknown[]).length > 0).length,
    targets: { pendingAttackSavedPct: 100, fundsSavedPct: 90, maxBlocksToTrip: 1, biddingAttackerSavedPct: 90, oneShotPendingSavedPct: 100, spamBlockMaxLagBlocks: 2 },
  };
  console.log(JSON.stringify(summary));
  return 0;
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:response failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
