import type { GovernorReport, ReportedDecision } from "./governor-report";
import { formatAmount, humanSpan } from "./governor-format";

/** Text from the chain or detectors, made inert: no table breaks, no raw HTML, no line breaks. */
function text(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "\\|")
    .replace(/\r?\n/g, " ");
}

/** A fenced block that no backtick run inside `body` can close early. */
function fenced(lang: string, body: string): string[] {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return [`${fence}${lang}`, body, fence];
}

function link(label: string, url: string | undefined): string {
  return url ? `[${label}](${url})` : label;
}

function code(value: string): string {
  return `\`${value.replace(/`/g, "")}\``;
}

function decisionSection(d: ReportedDecision): string[] {
  const lines = [`### ${d.decision}${d.available ? "" : " (not available)"}`, "", d.meaning, ""];
  if (!d.available || !d.payload) {
    lines.push(`Not available: ${text(d.reason)}.`, "", `Command: ${code(d.command)}`, "");
    return lines;
  }
  const p = d.payload;
  const op = d.operation;
  lines.push(`**${text(p.title)}**`, "");
  lines.push(`- Final call: ${code(p.action.signature)} on ${code(p.action.to)} with ${Object.entries(p.action.args).map(([k, v]) => `${k} ${code(v)}`).join(", ")}`);
  lines.push(`- Calldata: ${code(p.action.data)}`);
  if (op) {
    const state = op.state === "waiting" && op.readyAt ? `scheduled, ready at ${new Date(op.readyAt * 1000).toISOString()}` : op.state === "unscheduled" ? "not scheduled yet" : op.state;
    lines.push(`- Timelock operation ${code(op.id)}: ${state}`);
  }
  lines.push(`- Command: ${code(d.command)}`, "");
  lines.push("**TimelockController** (a proposer schedules, an executor executes after the delay):", "");
  lines.push(`1. \`schedule(target, value, data, predecessor, salt, delay)\` to ${code(p.timelock.address)}, delay ${p.timelock.delay} s, salt ${code(p.timelock.salt)}:`, `   ${code(p.timelock.schedule.data)}`);
  if (p.timelock.helper) lines.push(`   or the same operation through ${code(p.timelock.helper.signature)}: ${code(p.timelock.helper.data)}`);
  lines.push(`2. \`execute(target, value, payload, predecessor, salt)\` to ${code(p.timelock.address)}:`, `   ${code(p.timelock.execute.data)}`, "");
  lines.push(`**OpenZeppelin Governor proposal** (proposal id ${code(p.governor.proposalId)}), for a Governor holding PROPOSER_ROLE on the timelock:`, "");
  lines.push(...fenced("json", JSON.stringify({ targets: p.governor.targets, values: p.governor.values, calldatas: p.governor.calldatas, description: p.governor.description }, null, 2)), "");
  lines.push("**Safe Transaction Builder**: import the first batch now and the second once the delay has passed.", "");
  for (const [label, batch] of [["schedule", p.safe.schedule], ["execute", p.safe.execute]] as const) {
    lines.push(`<details><summary>${label} batch (checksum ${batch.meta.checksum})</summary>`, "", ...fenced("json", JSON.stringify(batch, null, 2)), "", "</details>", "");
  }
  return lines;
}

/** The governor report as Markdown: links through the configured explorer, payloads inline. */
export function renderGovernorMarkdown(r: GovernorReport): string {
  const lines: string[] = [];
  lines.push(`# Incident ${r.incidentId}: report for governors`, "");
  lines.push(`Chain ${r.chainId} · status **${r.status}**${r.dryRun ? " (dry run)" : ""} · generated ${r.generatedAt}`, "");
  lines.push("## Summary", "", text(r.summary), "");

  lines.push("## What tripped and why", "");
  lines.push("| | |", "|---|---|");
  lines.push(`| Breaker | ${link(r.breaker.name ? `${text(r.breaker.name)} ${r.breaker.address}` : r.breaker.address, r.breaker.url)} |`);
  if (r.contract.address !== r.breaker.address) lines.push(`| Protected contract | ${link(r.contract.name ? `${text(r.contract.name)} ${r.contract.address}` : r.contract.address, r.contract.url)} |`);
  if (r.trip) {
    lines.push(`| Trip transaction | ${link(r.trip.txHash, r.trip.url)} in block ${r.trip.blockNumber}, via ${r.trip.via} |`);
    if (r.trip.detectToIncludeMs !== undefined) lines.push(`| Detection to inclusion | ${r.trip.detectToIncludeMs} ms |`);
  }
  if (r.trippedBy) lines.push(`| Already tripped by | ${r.trippedBy.guardian}, incident ${code(r.trippedBy.incidentId)} |`);
  if (r.lift) lines.push(`| Lifted | ${link(r.lift.txHash, r.lift.url)} in block ${r.lift.blockNumber} |`);
  lines.push("");
  lines.push(`### Findings (${r.findings.length})`, "");
  if (r.findings.length === 0) lines.push("None: the trip was not caused by a detector finding (see the notes).", "");
  for (const f of r.findings) {
    lines.push(`#### ${f.severity.toUpperCase()} · ${text(f.title)}${f.retracted ? " (retracted)" : ""}`, "");
    lines.push(`- Detector ${code(f.detectorId)}, finding ${code(f.id)}`);
    lines.push(`- Block ${f.blockNumber} (${code(f.blockHash)})${f.txHash ? `, transaction ${link(f.txHash, f.txUrl)}` : ""}`);
    if (f.retracted) lines.push(`- Retracted: ${text(f.retracted)}`);
    lines.push("", ...fenced("json", JSON.stringify(f.evidence, null, 2)), "");
  }

  lines.push("## Timeline", "");
  lines.push("| Time | Step | Block | Transaction | Detail |", "|---|---|---:|---|---|");
  for (const e of r.timeline) {
    lines.push(`| ${e.at ?? ""} | ${text(e.step)} | ${e.blockNumber ?? ""} | ${e.txHash ? link(`${e.txHash.slice(0, 10)}…`, e.txUrl) : ""} | ${text(e.detail)} |`);
  }
  lines.push("");

  lines.push("## Funds at risk and saved", "");
  if ("unavailable" in r.funds) lines.push(`Not available: ${text(r.funds.unavailable)}.`, "");
  else {
    const f = r.funds;
    lines.push(`| Asset | At risk (end of block ${f.atRiskBlock}) | After the trip${f.tripBlock !== undefined ? ` (block ${f.tripBlock})` : ""} | Saved | Lost | Now (block ${f.headBlock}) |`, "|---|---:|---:|---:|---:|---:|");
    for (const a of f.assets) {
      const amount = (v: string | undefined) => (v === undefined ? "" : formatAmount(v, a.decimals, text(a.symbol)));
      lines.push(`| ${a.asset === "native" ? "ether" : link(`${text(a.symbol)} ${a.asset}`, a.url)} | ${amount(a.atRisk)} | ${amount(a.afterTrip)} | ${amount(a.saved)} | ${amount(a.lost)} | ${amount(a.now)} |`);
    }
    lines.push("");
  }
  lines.push(`How: ${r.funds.method}`, "");

  const s = r.switch;
  lines.push("## The switch now", "");
  lines.push("| | |", "|---|---|");
  lines.push(`| State | **${s.isTripped ? "tripped" : "open"}** (read at block ${s.readAtBlock}, chain time ${s.readAt}) |`);
  lines.push(`| Current incident | ${code(s.currentIncidentId)}${s.isThisIncident ? " (this one)" : " (another incident)"} |`);
  if (s.trippedAt) lines.push(`| Tripped at | ${s.trippedAt} by ${s.guardian} |`);
  if (s.expiresAt) lines.push(`| ${s.isTripped ? "Expires" : "Ended"} | ${s.expiresAt} (${humanSpan(s.expiresInSeconds ?? 0)}) |`);
  lines.push(`| Trip duration | ${s.tripDurationSeconds} s |`);
  if (r.timelock) lines.push(`| Timelock | ${link(r.timelock.address, r.timelock.url)}, minimum delay ${r.timelock.minDelaySeconds} s${r.timelock.governsBreaker ? "" : " (does NOT hold GOVERNOR_ROLE on the breaker)"} |`);
  lines.push("");

  lines.push("## Decisions", "");
  for (const d of r.decisions) lines.push(...decisionSection(d));

  if (r.notes.length > 0) {
    lines.push("## Notes", "");
    for (const n of r.notes) lines.push(`- ${text(n)}`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
