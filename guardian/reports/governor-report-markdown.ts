import type { GovernorReport, ReportedDecision } from "./governor-report";
import { escapeMarkdown as text, formatAmount, humanSpan } from "./governor-format";
import { decodeDecision, type DecodedCall } from "./governor-report-calls";
import { payloadDownloads, reportBase } from "./governor-report-files";

/** A fenced block that no backtick run inside `body` can close early. */
function fenced(lang: string, body: string): string[] {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return [`${fence}${lang}`, body, fence];
}

/** Only http(s) explorer links; the label is escaped, the URL percent-encodes what could end the link. */
function link(label: string, url: string | undefined): string {
  return url && /^https?:\/\//i.test(url) ? `[${text(label)}](${url.replace(/[()<>\s]/g, encodeURIComponent)})` : text(label);
}

/** Inline code for our own values (hex, addresses, commands): backticks removed so the span cannot end early. */
function code(value: string): string {
  return `\`${String(value).replace(/`/g, "").replace(/\|/g, "\\|").replace(/\r?\n/g, " ")}\``;
}

function callTable(call: DecodedCall): string[] {
  return [
    `${code(call.signature)} on ${text(call.targetLabel)}${call.targetLabel !== call.target ? ` ${code(call.target)}` : ""}`,
    "",
    "| Argument | Value |",
    "|---|---|",
    ...call.args.map((x) => `| ${code(x.name)} ${text(x.type)} | ${text(x.human)}${x.human !== x.value ? `<br>${code(x.value)}` : ""} |`),
    "",
  ];
}

function decisionSection(d: ReportedDecision, r: GovernorReport): string[] {
  const lines = [`### ${d.decision}${d.available ? "" : " (not available)"}`, "", text(d.meaning), ""];
  if (!d.available || !d.payload) {
    lines.push(`Not available: ${text(d.reason)}.`, "", `Command: ${code(d.command)}`, "");
    return lines;
  }
  const p = d.payload;
  const op = d.operation;
  const decoded = decodeDecision(d, r);
  lines.push(`**${text(p.title)}**`, "");
  if (op) {
    const state = op.state === "waiting" && op.readyAt ? `scheduled, ready at ${new Date(op.readyAt * 1000).toISOString()}` : op.state === "unscheduled" ? "not scheduled yet" : op.state;
    lines.push(`Timelock operation ${code(op.id)}: **${state}**`, "");
  }
  if (decoded) lines.push("What executes:", "", ...callTable(decoded.action));
  lines.push(`Files (written beside this report): ${payloadDownloads(r, p).map((f) => `[${text(f.label)}](./${f.name})`).join(" · ")}`, "");
  lines.push(`Command: ${code(d.command)}`, "");
  lines.push("<details><summary>How it is scheduled (decoded)</summary>", "");
  if (decoded) lines.push("Through the timelock (what a Governor proposal or the Safe schedule batch calls):", "", ...callTable(decoded.schedule));
  lines.push(
    `OpenZeppelin Governor with GovernorTimelockControl over this timelock: propose the final call directly (proposal id ${code(p.governor.timelockControlled.proposalId)}). A Governor that is only a proposer on the timelock proposes the schedule call (proposal id ${code(p.governor.proposalId)}).`,
    "",
    `Safe: import the schedule batch now and the execute batch once the delay of ${p.timelock.delay} s has passed (checksums ${code(p.safe.schedule.meta.checksum)}, ${code(p.safe.execute.meta.checksum)}).`,
    "",
    "</details>",
    "",
    "<details><summary>Raw calldata (hex)</summary>",
    "",
    `- Final call: ${code(p.action.data)}`,
    `- Timelock schedule: ${code(p.timelock.schedule.data)}`,
    ...(p.timelock.helper ? [`- Or ${code(p.timelock.helper.signature)}: ${code(p.timelock.helper.data)}`] : []),
    `- Timelock execute: ${code(p.timelock.execute.data)}`,
    "",
    "Governor proposal (GovernorTimelockControl):",
    "",
    ...fenced("json", JSON.stringify(p.governor.timelockControlled, null, 2)),
    "",
    "</details>",
    "",
  );
  return lines;
}

/** The governor report as Markdown: explorer links, decoded payloads, files linked beside it, raw hex folded. */
export function renderGovernorMarkdown(r: GovernorReport): string {
  const s = r.switch;
  const lines: string[] = [];
  lines.push(`# Incident ${code(r.incidentId.slice(0, 18))}: report for governors`, "");
  lines.push(`**${s.isTripped ? "Breaker tripped" : "Breaker open"}** · status **${r.status}**${r.dryRun ? " (dry run)" : ""} · chain ${r.chainId} · generated ${r.generatedAt}`, "");
  lines.push("## In one minute", "");
  for (const g of r.glance) lines.push(`- **${text(g.label)}:** ${text(g.text)}`);
  lines.push("", `Incident ${code(r.incidentId)}; content hash ${code(r.contentHash)} (the hash the Governor proposal cites).`, "");
  if (r.chart && r.chart.points.length > 1) {
    lines.push("## Around the trip", "");
    lines.push(`![Balance of ${text(r.chart.symbol)} around the trip](./${reportBase(r)}.balance.svg)`, "");
    lines.push(`![Outflow per block against the limit](./${reportBase(r)}.outflow.svg)`, "");
  }

  lines.push("## Decisions", "");
  for (const d of r.decisions) lines.push(...decisionSection(d, r));

  lines.push("## What tripped and why", "");
  lines.push("| | |", "|---|---|");
  lines.push(`| Breaker | ${link(r.breaker.name ? `${r.breaker.name} ${r.breaker.address}` : r.breaker.address, r.breaker.url)} |`);
  if (r.contract.address !== r.breaker.address) lines.push(`| Protected contract | ${link(r.contract.name ? `${r.contract.name} ${r.contract.address}` : r.contract.address, r.contract.url)} |`);
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
    lines.push(`#### ${text(f.severity.toUpperCase())} · ${text(f.title)}${f.retracted ? " (retracted)" : ""}`, "");
    lines.push(`- Detector ${code(f.detectorId)}, finding ${code(f.id)}`);
    lines.push(`- Block ${f.blockNumber} (${code(f.blockHash)})${f.txHash ? `, transaction ${link(f.txHash, f.txUrl)}` : ""}`);
    if (f.retracted) lines.push(`- Retracted: ${text(f.retracted)}`);
    if (f.evidenceHuman) lines.push(`- ${Object.entries(f.evidenceHuman).map(([k, v]) => `${code(k)} ${text(v)}`).join(" · ")}`);
    lines.push("", "<details><summary>Evidence</summary>", "", ...fenced("json", JSON.stringify(f.evidence, null, 2)), "", "</details>", "");
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
      const amount = (v: string | undefined) => (v === undefined ? "" : text(formatAmount(v, a.decimals, a.symbol)));
      lines.push(`| ${a.asset === "native" ? "ether" : link(`${a.symbol} ${a.asset}`, a.url)} | ${amount(a.atRisk)} | ${amount(a.afterTrip)} | ${amount(a.saved)} | ${amount(a.lost)} | ${amount(a.now)} |`);
    }
    lines.push("");
  }
  lines.push(`How: ${text(r.funds.method)}`, "");

  lines.push("## The switch now", "");
  lines.push("| | |", "|---|---|");
  lines.push(`| State | **${s.isTripped ? "tripped" : "open"}** (read at block ${s.readAtBlock}, chain time ${s.readAt}) |`);
  lines.push(`| Current incident | ${code(s.currentIncidentId)}${s.isThisIncident ? " (this one)" : " (another incident)"} |`);
  if (s.trippedAt) lines.push(`| Tripped at | ${s.trippedAt} by ${s.guardian} |`);
  if (s.expiresAt) lines.push(`| ${s.isTripped ? "Expires" : "Ended"} | ${s.expiresAt} (${humanSpan(s.expiresInSeconds ?? 0)}) |`);
  lines.push(`| Trip duration | ${s.tripDurationSeconds} s |`);
  if (r.timelock) lines.push(`| Timelock | ${link(r.timelock.address, r.timelock.url)}, minimum delay ${r.timelock.minDelaySeconds} s${r.timelock.governsBreaker ? "" : " (does NOT hold GOVERNOR_ROLE on the breaker)"} |`);
  lines.push("");

  if (r.notes.length > 0) {
    lines.push("## Notes", "");
    for (const n of r.notes) lines.push(`- ${text(n)}`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
