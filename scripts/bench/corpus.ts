import { Command, CommanderError } from "commander";
import { formatEther } from "ethers";
import { attackCases } from "../corpus/attacks";
import { runBenign, type BenignResult } from "../corpus/benign";
import { openCorpusChain } from "../corpus/env";
import { runAttack, type AttackResult } from "../corpus/run-attack";

/**
 * `npm run bench:corpus`: the attack corpus (20 exploit classes, each modelled on a named incident) and a
 * benign corpus of realistic traffic, on anvil, against one detector suite through the guardian's own
 * config loader, detectors, policy and mempool simulation. Prints a table per corpus, then as the last
 * line one JSON object with the headline figures.
 */
function int(text: string, flag: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`${flag}: expected an integer >= ${min}, got "${text}"`);
  return Number(text);
}

function pct(n: number, d: number): number {
  return d === 0 ? 0 : Math.round((n * 10_000) / d) / 100;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

interface Summary {
  attacks: number;
  detectedPct: number;
  detectedBeforeLossPct: number;
  trippedPct: number;
  fundsSavedPct: number;
}

function summarize(results: AttackResult[]): Summary {
  const atRisk = results.reduce((s, r) => s + r.atRisk, 0n);
  const saved = results.reduce((s, r) => s + r.saved, 0n);
  return {
    attacks: results.length,
    detectedPct: pct(results.filter((r) => r.detected).length, results.length),
    detectedBeforeLossPct: pct(results.filter((r) => r.detectedBeforeLoss).length, results.length),
    trippedPct: pct(results.filter((r) => r.tripBlocksAfterFirst !== undefined).length, results.length),
    fundsSavedPct: atRisk === 0n ? 100 : Number((saved * 10_000n) / atRisk) / 100,
  };
}

async function attacksWith(mempool: boolean, only: string[] | undefined): Promise<AttackResult[]> {
  const chain = await openCorpusChain();
  const results: AttackResult[] = [];
  try {
    for (const c of attackCases) {
      if (only && !only.includes(c.id)) continue;
      const r = await runAttack(chain, c, { mempool });
      results.push(r);
      process.stderr.write(`  ${mempool ? "mempool" : "mined  "} ${r.id}: detected ${r.detected ? `${r.detected.detector}${r.detected.pending ? " (pending)" : ""}` : "no"}, saved ${r.savedPct}%\n`);
    }
  } finally {
    await chain.stop();
  }
  return results;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("npm run bench:corpus --")
    .option("--benign-blocks <n>", "blocks of benign traffic", "2000")
    .option("--only <ids>", "comma-separated attack ids (default: all)")
    .option("--seed <n>", "seed of the benign traffic", "1")
    .exitOverride();
  try {
    program.parse(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const opts = program.opts<{ benignBlocks: string; only?: string; seed: string }>();
  const benignBlocks = int(opts.benignBlocks, "--benign-blocks", 50);
  const seed = int(opts.seed, "--seed", 0);
  const only = opts.only?.split(",").map((s) => s.trim());
  const unknown = only?.filter((id) => !attackCases.some((c) => c.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: unknown attack ${unknown.join(", ")} (known: ${attackCases.map((c) => c.id).join(", ")})`);

  const withMempool = await attacksWith(true, only);
  const minedOnly = await attacksWith(false, only);

  console.log(`attack corpus: ${withMempool.length} cases, guardian with mempool simulation (mined-only figures in brackets)`);
  console.log(
    table(
      ["attack", "incident", "txs", "detected (detector, block)", "before loss", "trip (blocks after 1st tx)", "at risk", "saved"],
      withMempool.map((r, i) => {
        const m = minedOnly[i];
        return [
          r.id,
          `${r.incident.name} ${r.incident.date}`,
          String(r.attackTxs),
          r.detected ? `${r.detected.detector}${r.detected.pending ? " pending" : ""} #${r.detected.block}` : "NO",
          `${r.detectedBeforeLoss ? "yes" : "no"} [${m.detectedBeforeLoss ? "yes" : "no"}]`,
          `${r.tripBlocksAfterFirst ?? (r.revoked ? "revoke" : "-")} [${m.tripBlocksAfterFirst ?? (m.revoked ? "revoke" : "-")}]`,
          `${formatEther(r.atRisk)}`,
          `${r.savedPct}% [${m.savedPct}%]`,
        ];
      }),
    ),
  );

  const chain = await openCorpusChain();
  let benign: BenignResult;
  try {
    benign = await runBenign(chain, benignBlocks, seed);
  } finally {
    await chain.stop();
  }
  console.log(`\nbenign corpus: ${benign.blocks} blocks, ${benign.txs} transactions (${benign.reverted} reverted), ${benign.liquidations} liquidations`);
  console.log(
    table(
      ["detector", "info", "low", "medium", "high", "critical"],
      Object.entries(benign.findingsByDetector).map(([id, by]) => [id, ...["info", "low", "medium", "high", "critical"].map((s) => String(by[s] ?? 0))]),
    ),
  );
  for (const t of benign.trips) console.log(`FALSE TRIP at block ${t.block}: ${t.detector}: ${t.title}`);

  const main = summarize(withMempool);
  const mined = summarize(minedOnly);
  console.log(
    JSON.stringify({
      bench: "corpus",
      ...main,
      benignBlocks: benign.blocks,
      benignLiquidations: benign.liquidations,
      falseTrips: benign.trips.length,
      falseCriticalPer10kBlocks: Math.round((benign.criticals.length * 10_000 * 100) / benign.blocks) / 100,
      benignFindingsBySeverity: benign.findingsBySeverity,
      minedOnly: mined,
      targets: { detectedPct: 100, detectedBeforeLossPct: 60, fundsSavedPct: 85, falseTrips: 0 },
    }),
  );
  return 0;
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:corpus failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
