#!/usr/bin/env node
// `npm run bench:cli`: start-up time of the `failsafe` command as a user sees it (a new node process
// each run, through bin/failsafe.cjs), for --help and --version, against a bare `node -e ""` for scale.
// Prints a table, then one JSON line with the medians in milliseconds. Runs: BENCH_RUNS (default 20).
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const bin = path.join(root, "bin", "failsafe.cjs");
const runs = Math.max(3, Number(process.env.BENCH_RUNS ?? 20));

function measure(args) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { min: times[0], median: at(0.5), p90: at(0.9), max: times[times.length - 1] };
}

const rows = [
  ["node -e \"\" (baseline)", measure(["-e", ""])],
  ["failsafe --help", measure([bin, "--help"])],
  ["failsafe --version", measure([bin, "--version"])],
];
const f = (n) => n.toFixed(0).padStart(7);
process.stdout.write(`failsafe start-up, ${runs} runs each (ms)\n`);
process.stdout.write(`${"command".padEnd(26)}${"min".padStart(7)}${"median".padStart(7)}${"p90".padStart(7)}${"max".padStart(7)}\n`);
for (const [name, s] of rows) process.stdout.write(`${name.padEnd(26)}${f(s.min)}${f(s.median)}${f(s.p90)}${f(s.max)}\n`);
const round = (n) => Math.round(n * 10) / 10;
process.stdout.write(
  `${JSON.stringify({ helpMs: round(rows[1][1].median), versionMs: round(rows[2][1].median), nodeBaselineMs: round(rows[0][1].median), runs })}\n`,
);
