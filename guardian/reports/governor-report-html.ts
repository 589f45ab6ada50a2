import { formatAmount, humanSpan } from "./governor-format";
import type { GovernorReport, ReportedDecision } from "./governor-report";

/** Every value is escaped: titles, evidence and token symbols come from detectors and the chain. */
function esc(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Only http(s) links from the configured explorer are rendered as links. */
function a(label: string, url: string | undefined): string {
  return url && /^https?:\/\//i.test(url) ? `<a href="${esc(url)}">${esc(label)}</a>` : esc(label);
}

const row = (cells: string[]) => `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
const head = (cells: string[]) => `<tr>${cells.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`;
const pre = (value: unknown) => `<pre>${esc(JSON.stringify(value, null, 2))}</pre>`;

function decision(d: ReportedDecision): string {
  const parts = [`<h3>${esc(d.decision)}${d.available ? "" : " (not available)"}</h3>`, `<p>${esc(d.meaning)}</p>`];
  if (!d.available || !d.payload) {
    parts.push(`<p>Not available: ${esc(d.reason)}.</p>`, `<p>Command: <code>${esc(d.command)}</code></p>`);
    return parts.join("\n");
  }
  const p = d.payload;
  parts.push(
    `<p><strong>${esc(p.title)}</strong></p>`,
    "<ul>",
    `<li>Final call <code>${esc(p.action.signature)}</code> on <code>${esc(p.action.to)}</code>: <code>${esc(p.action.data)}</code></li>`,
    d.operation ? `<li>Timelock operation <code>${esc(d.operation.id)}</code>: ${esc(d.operation.state)}${d.operation.readyAt ? `, ready at ${esc(new Date(d.operation.readyAt * 1000).toISOString())}` : ""}</li>` : "",
    `<li>Command: <code>${esc(d.command)}</code></li>`,
    "</ul>",
    `<h4>TimelockController</h4><p>schedule (delay ${esc(p.timelock.delay)} s, salt <code>${esc(p.timelock.salt)}</code>):</p><pre>${esc(p.timelock.schedule.data)}</pre>`,
    p.timelock.helper ? `<p>or <code>${esc(p.timelock.helper.signature)}</code>:</p><pre>${esc(p.timelock.helper.data)}</pre>` : "",
    `<p>execute, after the delay:</p><pre>${esc(p.timelock.execute.data)}</pre>`,
    `<h4>OpenZeppelin Governor proposal</h4><p>proposal id <code>${esc(p.governor.proposalId)}</code></p>`,
    pre({ targets: p.governor.targets, values: p.governor.values, calldatas: p.governor.calldatas, description: p.governor.description }),
    "<h4>Safe Transaction Builder</h4>",
    `<details><summary>schedule batch</summary>${pre(p.safe.schedule)}</details>`,
    `<details><summary>execute batch</summary>${pre(p.safe.execute)}</details>`,
  );
  return parts.filter(Boolean).join("\n");
}

/** A self-contained static page (no scripts, no external resources) of the governor report. */
export function renderGovernorHtml(r: GovernorReport): string {
  const s = r.switch;
  const body: string[] = [
    `<h1>Incident <code>${esc(r.incidentId)}</code>: report for governors</h1>`,
    `<p>Chain ${esc(r.chainId)} · status <strong>${esc(r.status)}</strong>${r.dryRun ? " (dry run)" : ""} · generated ${esc(r.generatedAt)}</p>`,
    "<h2>Summary</h2>",
    `<p>${esc(r.summary)}</p>`,
    "<h2>What tripped and why</h2>",
    "<table>",
    row(["Breaker", a(r.breaker.name ? `${r.breaker.name} ${r.breaker.address}` : r.breaker.address, r.breaker.url)]),
    r.trip ? row(["Trip transaction", `${a(r.trip.txHash, r.trip.url)} in block ${esc(r.trip.blockNumber)}, via ${esc(r.trip.via)}`]) : "",
    r.trip?.detectToIncludeMs !== undefined ? row(["Detection to inclusion", `${esc(r.trip.detectToIncludeMs)} ms`]) : "",
    r.lift ? row(["Lifted", `${a(r.lift.txHash, r.lift.url)} in block ${esc(r.lift.blockNumber)}`]) : "",
    "</table>",
    `<h3>Findings (${r.findings.length})</h3>`,
    ...r.findings.map(
      (f) =>
        `<h4>${esc(f.severity.toUpperCase())} · ${esc(f.title)}${f.retracted ? " (retracted)" : ""}</h4>` +
        `<p>Detector <code>${esc(f.detectorId)}</code>, block ${esc(f.blockNumber)}${f.txHash ? `, transaction ${a(f.txHash, f.txUrl)}` : ""}</p>${pre(f.evidence)}`,
    ),
    "<h2>Timeline</h2>",
    "<table>",
    head(["Time", "Step", "Block", "Transaction", "Detail"]),
    ...r.timeline.map((e) => row([esc(e.at), esc(e.step), esc(e.blockNumber), e.txHash ? a(e.txHash, e.txUrl) : "", esc(e.detail)])),
    "</table>",
    "<h2>Funds at risk and saved</h2>",
  ];
  if ("unavailable" in r.funds) body.push(`<p>Not available: ${esc(r.funds.unavailable)}.</p>`);
  else {
    const f = r.funds;
    body.push("<table>", head(["Asset", `At risk (block ${f.atRiskBlock})`, `After the trip${f.tripBlock !== undefined ? ` (block ${f.tripBlock})` : ""}`, "Saved", "Lost", `Now (block ${f.headBlock})`]));
    for (const x of f.assets) {
      const amount = (v: string | undefined) => (v === undefined ? "" : esc(formatAmount(v, x.decimals, x.symbol)));
      body.push(row([x.asset === "native" ? "ether" : a(`${x.symbol} ${x.asset}`, x.url), amount(x.atRisk), amount(x.afterTrip), amount(x.saved), amount(x.lost), amount(x.now)]));
    }
    body.push("</table>");
  }
  body.push(
    `<p>How: ${esc(r.funds.method)}</p>`,
    "<h2>The switch now</h2>",
    "<table>",
    row(["State", `<strong>${s.isTripped ? "tripped" : "open"}</strong> (block ${esc(s.readAtBlock)}, chain time ${esc(s.readAt)})`]),
    row(["Current incident", `<code>${esc(s.currentIncidentId)}</code>${s.isThisIncident ? " (this one)" : " (another incident)"}`]),
    s.expiresAt ? row([s.isTripped ? "Expires" : "Ended", `${esc(s.expiresAt)} (${esc(humanSpan(s.expiresInSeconds ?? 0))})`]) : "",
    r.timelock ? row(["Timelock", `${a(r.timelock.address, r.timelock.url)}, minimum delay ${esc(r.timelock.minDelaySeconds)} s`]) : "",
    "</table>",
    "<h2>Decisions</h2>",
    ...r.decisions.map(decision),
    ...(r.notes.length > 0 ? ["<h2>Notes</h2>", `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`] : []),
  );
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>Failsafe incident ${esc(r.incidentId.slice(0, 14))}</title>`,
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
    "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}pre{background:#f5f5f5;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}code{word-break:break-all}</style>",
    "</head><body>",
    ...body.filter(Boolean),
    "</body></html>",
    "",
  ].join("\n");
}
