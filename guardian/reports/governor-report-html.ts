import { escapeHtml as esc, formatAmount, humanSpan } from "./governor-format";
import type { GovernorReport, ReportedDecision } from "./governor-report";
import { decodeDecision, type DecodedCall } from "./governor-report-calls";
import { balanceSvg, outflowSvg } from "./governor-report-chart";
import { payloadDownloads } from "./governor-report-files";

/** Only http(s) links from the configured explorer are rendered as links. */
function a(label: string, url: string | undefined): string {
  return url && /^https?:\/\//i.test(url) ? `<a href="${esc(url)}" rel="noreferrer">${esc(label)}</a>` : esc(label);
}

const row = (cells: string[]) => `<tr>${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
const head = (cells: string[]) => `<thead><tr>${cells.map((c) => `<th scope="col">${esc(c)}</th>`).join("")}</tr></thead>`;
/** Tables scroll inside their own box, so a narrow screen never scrolls the page sideways. */
const table = (inner: string[], cls = "") => `<div class="scroll"><table${cls ? ` class="${cls}"` : ""}>${inner.join("")}</table></div>`;
const pre = (value: unknown) => `<pre>${esc(typeof value === "string" ? value : JSON.stringify(value, null, 2))}</pre>`;
const fold = (summary: string, inner: string) => `<details><summary>${esc(summary)}</summary>${inner}</details>`;

/** A JSON file as a `data:` link with a file name, so the page stays one self-contained file. */
function download(name: string, label: string, value: unknown): string {
  const href = `data:application/json;charset=utf-8,${encodeURIComponent(`${JSON.stringify(value, null, 2)}\n`)}`;
  return `<a class="download" download="${esc(name)}" href="${esc(href)}" title="${esc(name)}">${esc(label)}</a>`;
}

function callTable(call: DecodedCall): string {
  return (
    `<p class="call"><code>${esc(call.signature)}</code> on ${esc(call.targetLabel)}${call.targetLabel !== call.target ? ` <code class="addr">${esc(call.target)}</code>` : ""}</p>` +
    table([head(["Argument", "Value"]), "<tbody>", ...call.args.map((x) => row([`<code>${esc(x.name)}</code> <span class="type">${esc(x.type)}</span>`, `${esc(x.human)}${x.human !== x.value ? `<br><code class="raw">${esc(x.value)}</code>` : ""}`])), "</tbody>"], "args")
  );
}

function decision(d: ReportedDecision, r: GovernorReport): string {
  const parts = [`<section class="decision" id="decision-${esc(d.decision)}">`, `<h3>${esc(d.decision)}${d.available ? "" : " <span class=\"muted\">(not available)</span>"}</h3>`, `<p>${esc(d.meaning)}</p>`];
  if (!d.available || !d.payload) {
    parts.push(`<p>Not available: ${esc(d.reason)}.</p>`, `<p>Command: <code>${esc(d.command)}</code></p>`, "</section>");
    return parts.join("\n");
  }
  const p = d.payload;
  const decoded = decodeDecision(d, r);
  const op = d.operation;
  parts.push(
    `<p><strong>${esc(p.title)}</strong></p>`,
    op ? `<p>Timelock operation <code class="addr">${esc(op.id)}</code>: <strong>${esc(op.state === "unscheduled" ? "not scheduled yet" : op.state)}</strong>${op.readyAt ? `, ready at ${esc(new Date(op.readyAt * 1000).toISOString())}` : ""}</p>` : "",
    "<h4>What executes</h4>",
    decoded ? callTable(decoded.action) : "",
    `<p class="downloads">Download: ${payloadDownloads(r, p).map((f) => download(f.name, f.label, f.content)).join(" ")}</p>`,
    `<p>Command: <code>${esc(d.command)}</code></p>`,
    fold(
      "How it is scheduled: timelock, Governor, Safe (decoded)",
      (decoded ? `<p>Through the timelock (what a Governor proposal or the Safe schedule batch calls):</p>${callTable(decoded.schedule)}` : "") +
        `<p>OpenZeppelin Governor with GovernorTimelockControl over this timelock: propose the final call directly (proposal id <code class="addr">${esc(p.governor.timelockControlled.proposalId)}</code>). A Governor that is only a proposer on the timelock proposes the schedule call (proposal id <code class="addr">${esc(p.governor.proposalId)}</code>).</p>` +
        `<p>Safe: import the schedule batch now and the execute batch once the delay has passed (checksums <code class="addr">${esc(p.safe.schedule.meta.checksum)}</code>, <code class="addr">${esc(p.safe.execute.meta.checksum)}</code>).</p>`,
    ),
    fold(
      "Raw calldata (hex)",
      `<p>Final call</p>${pre(p.action.data)}<p>Timelock schedule</p>${pre(p.timelock.schedule.data)}${p.timelock.helper ? `<p>Or <code>${esc(p.timelock.helper.signature)}</code></p>${pre(p.timelock.helper.data)}` : ""}<p>Timelock execute</p>${pre(p.timelock.execute.data)}<p>Governor proposal</p>${pre({ targets: p.governor.timelockControlled.targets, values: p.governor.timelockControlled.values, calldatas: p.governor.timelockControlled.calldatas, description: p.governor.timelockControlled.description })}`,
    ),
    "</section>",
  );
  return parts.filter(Boolean).join("\n");
}

const STYLE = [
  ":root{color-scheme:light}",
  "*{box-sizing:border-box}",
  "body{font:16px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;max-width:62rem;margin:0 auto;padding:1rem;color:#111;overflow-wrap:anywhere}",
  "h1{font-size:1.5rem;line-height:1.25}h2{margin-top:2rem;border-bottom:1px solid #ddd}",
  ".status{display:inline-block;padding:.1rem .5rem;border-radius:.25rem;background:#fee2e2;color:#7f1d1d;font-weight:600}",
  ".status.open{background:#dcfce7;color:#14532d}",
  ".glance{display:grid;grid-template-columns:10rem 1fr;gap:.25rem 1rem;background:#f8fafc;border:1px solid #e2e8f0;border-radius:.5rem;padding:1rem;margin:0}",
  ".glance dt{font-weight:600}.glance dd{margin:0}",
  ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}",
  "figure{margin:0}figcaption{font-size:.9rem;color:#444}svg.chart{border:1px solid #e5e7eb;border-radius:.25rem;height:auto;max-width:100%}",
  ".scroll{overflow-x:auto;max-width:100%}",
  "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}",
  "table.args td:first-child{white-space:nowrap}",
  "pre{background:#f5f5f5;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.85rem}",
  "code{font-size:.9em}code.addr,code.raw{word-break:break-all}.type,.muted{color:#666;font-size:.85em}",
  ".decision{border:1px solid #e5e7eb;border-radius:.5rem;padding:0 1rem 1rem;margin:1rem 0}",
  "a.download{display:inline-block;margin:.15rem .5rem .15rem 0;padding:.2rem .5rem;border:1px solid #1d4ed8;border-radius:.25rem;text-decoration:none}",
  "details{margin:.5rem 0}summary{cursor:pointer;font-weight:600}",
  "@media (max-width:36rem){body{padding:.5rem;font-size:15px}.glance{grid-template-columns:1fr}.glance dt{margin-top:.5rem}h1{font-size:1.25rem}}",
].join("\n");

/** A self-contained static page (no scripts, no external resources) of the governor report. */
export function renderGovernorHtml(r: GovernorReport): string {
  const s = r.switch;
  const body: string[] = [
    "<header>",
    `<h1>Incident <code class="addr">${esc(r.incidentId.slice(0, 18))}…</code>: report for governors</h1>`,
    `<p><span class="status${s.isTripped ? "" : " open"}">${s.isTripped ? "breaker tripped" : "breaker open"}</span> · status <strong>${esc(r.status)}</strong>${r.dryRun ? " (dry run)" : ""} · chain ${esc(r.chainId)} · generated ${esc(r.generatedAt)}</p>`,
    "</header>",
    '<section id="glance"><h2>In one minute</h2>',
    `<dl class="glance">${r.glance.map((g) => `<dt>${esc(g.label)}</dt><dd>${esc(g.text)}</dd>`).join("")}</dl>`,
    `<p class="muted">Incident <code class="addr">${esc(r.incidentId)}</code>; content hash <code class="addr">${esc(r.contentHash)}</code> (the hash the Governor proposal cites).</p>`,
    "</section>",
  ];
  if (r.chart && r.chart.points.length > 1) {
    body.push(
      '<section id="charts"><h2>Around the trip</h2><div class="charts">',
      `<figure>${balanceSvg(r.chart)}<figcaption>Balance of ${esc(r.chart.symbol)} held by the protected contract, block by block${r.chart.sampled ? " (sampled)" : ""}.</figcaption></figure>`,
      `<figure>${outflowSvg(r.chart)}<figcaption>Outflow per block (red) against what the breaker's outflow limit still allowed (green)${r.chart.limit ? `: ${esc(r.chart.limit.bps / 100)}% of holdings per ${esc(r.chart.limit.windowSeconds)} s` : ": no limit is configured for this asset"}.</figcaption></figure>`,
      "</div></section>",
    );
  }
  body.push('<section id="decisions"><h2>Decisions</h2>', ...r.decisions.map((d) => decision(d, r)), "</section>");
  body.push(
    "<h2>What tripped and why</h2>",
    table([
      "<tbody>",
      row(["Breaker", a(r.breaker.name ? `${r.breaker.name} ${r.breaker.address}` : r.breaker.address, r.breaker.url)]),
      r.contract.address !== r.breaker.address ? row(["Protected contract", a(r.contract.name ? `${r.contract.name} ${r.contract.address}` : r.contract.address, r.contract.url)]) : "",
      r.trip ? row(["Trip transaction", `${a(r.trip.txHash, r.trip.url)} in block ${esc(r.trip.blockNumber)}, via ${esc(r.trip.via)}`]) : "",
      r.trip?.detectToIncludeMs !== undefined ? row(["Detection to inclusion", `${esc(r.trip.detectToIncludeMs)} ms`]) : "",
      r.trippedBy ? row(["Already tripped by", `${esc(r.trippedBy.guardian)}, incident <code class="addr">${esc(r.trippedBy.incidentId)}</code>`]) : "",
      r.lift ? row(["Lifted", `${a(r.lift.txHash, r.lift.url)} in block ${esc(r.lift.blockNumber)}`]) : "",
      "</tbody>",
    ]),
    `<h3>Findings (${r.findings.length})</h3>`,
    ...r.findings.map(
      (f) =>
        `<h4>${esc(f.severity.toUpperCase())} · ${esc(f.title)}${f.retracted ? " (retracted)" : ""}</h4>` +
        `<p>Detector <code>${esc(f.detectorId)}</code>, block ${esc(f.blockNumber)}${f.txHash ? `, transaction ${a(f.txHash, f.txUrl)}` : ""}${f.retracted ? `. Retracted: ${esc(f.retracted)}` : ""}</p>${f.evidenceHuman ? `<p>${Object.entries(f.evidenceHuman).map(([k, v]) => `<code>${esc(k)}</code> ${esc(v)}`).join(" · ")}</p>` : ""}${fold("Evidence", pre(f.evidence))}`,
    ),
    "<h2>Timeline</h2>",
    table([head(["Time", "Step", "Block", "Transaction", "Detail"]), "<tbody>", ...r.timeline.map((e) => row([esc(e.at), esc(e.step), esc(e.blockNumber), e.txHash ? a(`${e.txHash.slice(0, 10)}…`, e.txUrl) : "", esc(e.detail)])), "</tbody>"]),
    "<h2>Funds at risk and saved</h2>",
  );
  if ("unavailable" in r.funds) body.push(`<p>Not available: ${esc(r.funds.unavailable)}.</p>`);
  else {
    const f = r.funds;
    const rows = f.assets.map((x) => {
      const amount = (v: string | undefined) => (v === undefined ? "" : esc(formatAmount(v, x.decimals, x.symbol)));
      return row([x.asset === "native" ? "ether" : a(`${x.symbol} ${x.asset}`, x.url), amount(x.atRisk), amount(x.afterTrip), amount(x.saved), amount(x.lost), amount(x.now)]);
    });
    body.push(table([head(["Asset", `At risk (block ${f.atRiskBlock})`, `After the trip${f.tripBlock !== undefined ? ` (block ${f.tripBlock})` : ""}`, "Saved", "Lost", `Now (block ${f.headBlock})`]), "<tbody>", ...rows, "</tbody>"]));
  }
  body.push(
    `<p class="muted">How: ${esc(r.funds.method)}</p>`,
    "<h2>The switch now</h2>",
    table([
      "<tbody>",
      row(["State", `<strong>${s.isTripped ? "tripped" : "open"}</strong> (block ${esc(s.readAtBlock)}, chain time ${esc(s.readAt)})`]),
      row(["Current incident", `<code class="addr">${esc(s.currentIncidentId)}</code>${s.isThisIncident ? " (this one)" : " (another incident)"}`]),
      s.expiresAt ? row([s.isTripped ? "Expires" : "Ended", `${esc(s.expiresAt)} (${esc(humanSpan(s.expiresInSeconds ?? 0))})`]) : "",
      r.timelock ? row(["Timelock", `${a(r.timelock.address, r.timelock.url)}, minimum delay ${esc(r.timelock.minDelaySeconds)} s${r.timelock.governsBreaker ? "" : " (does NOT hold GOVERNOR_ROLE on the breaker)"}`]) : "",
      "</tbody>",
    ]),
    ...(r.notes.length > 0 ? ["<h2>Notes</h2>", `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`] : []),
  );
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Failsafe incident ${esc(r.incidentId.slice(0, 14))}</title>`,
    // No scripts, no network: styles and images inline only; data: links are downloads the reader clicks.
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">',
    `<style>${STYLE}</style>`,
    "</head><body>",
    ...body.filter(Boolean),
    "</body></html>",
    "",
  ].join("\n");
}
