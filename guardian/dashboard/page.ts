import type { IncidentRecord } from "../reports/incident-record";
import { escapeHtml as esc, humanSpan } from "../reports/governor-format";
import type { SwitchState } from "./switch-state";

export interface DashboardView {
  generatedAt: string;
  switches: SwitchState[];
  incidents: IncidentRecord[];
  /** Seconds between the page's own reloads (a meta refresh: the page runs no script). */
  refreshSeconds: number;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "Z");
const table = (head: string[], rows: string[][], empty: string) =>
  rows.length === 0
    ? `<p class="muted">${esc(empty)}</p>`
    : // Each cell carries its column's name, so a phone can show every row as a card of "name: value" lines.
      `<div class="scroll"><table><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td data-label="${esc(head[i])}">${c}</td>`).join("")}</tr>`).join("")}</tbody></table></div>`;
const incidentLink = (id: string) => `<a href="/incidents/${esc(id)}"><code>${esc(id.slice(0, 12))}…</code></a>`;

function switchRow(s: SwitchState): string[] {
  const state = s.error
    ? `<span class="badge warn">unreadable</span> ${esc(s.error)}`
    : s.isTripped
      ? '<span class="badge tripped">TRIPPED</span>'
      : '<span class="badge open">open</span>';
  const expiry =
    s.expiresAt !== undefined && s.readAt !== undefined ? `${esc(iso(s.expiresAt))} (${esc(humanSpan(s.expiresAt - s.readAt))}${s.isTripped ? "" : ", ended"})` : "";
  return [esc(s.name), esc(s.chainId), `<code>${esc(s.address)}</code>`, state, s.incidentId ? incidentLink(s.incidentId) : "", expiry, s.blockNumber !== undefined ? esc(s.blockNumber) : ""];
}

/** The read-only dashboard: the switches now, the incidents, their findings and what governance did. */
export function renderDashboard(v: DashboardView): string {
  const incidents = [...v.incidents].reverse();
  const findings = incidents.flatMap((r) => r.findings.map((f) => ({ r, f }))).slice(0, 100);
  const governance = incidents
    .flatMap((r) => [
      ...(r.governanceLog ?? []).map((e) => ({ r, at: e.at, what: `${e.decision} ${e.step}`, txHash: e.txHash, block: e.blockNumber, detail: e.readyAt ? `ready at ${iso(e.readyAt)}` : "" })),
      ...(r.lift ? [{ r, at: r.lift.at, what: "lifted", txHash: r.lift.txHash, block: r.lift.blockNumber, detail: r.lift.liftedBy ? `by ${r.lift.liftedBy}` : "" }] : []),
    ])
    .sort((a, b) => b.at.localeCompare(a.at));
  const body = [
    `<header><h1>Failsafe</h1><p class="muted">Read-only view · generated ${esc(v.generatedAt)} · reloads every ${esc(v.refreshSeconds)} s</p></header>`,
    '<section id="switches"><h2>The switches</h2>',
    table(["Breaker", "Chain", "Address", "State", "Incident", "Expiry", "Block"], v.switches.map(switchRow), "No breakers are configured (policy.breakers)."),
    "</section>",
    '<section id="incidents"><h2>Incidents</h2>',
    table(
      ["Incident", "Opened", "Breaker", "Status", "Findings", "Trip block"],
      incidents.map((r) => [incidentLink(r.id), esc(r.openedAt.replace(/\.\d+Z$/, "Z")), esc(r.breakerName ?? r.breaker), `<span class="status">${esc(r.status)}</span>${r.dryRun ? " (dry run)" : ""}`, esc(r.findings.length), esc(r.trip?.blockNumber ?? "")]),
      "No incidents in the store.",
    ),
    "</section>",
    '<section id="findings"><h2>Findings</h2>',
    table(
      ["Severity", "Detector", "Finding", "Block", "Incident"],
      findings.map(({ r, f }) => [`<span class="sev ${esc(f.severity)}">${esc(f.severity)}</span>`, `<code>${esc(f.detectorId)}</code>`, `${esc(f.title)}${f.retracted ? " (retracted)" : ""}`, esc(f.blockNumber), incidentLink(r.id)]),
      "No findings.",
    ),
    "</section>",
    '<section id="governance"><h2>Governance decisions</h2>',
    table(
      ["When", "Incident", "Decision", "Block", "Transaction", "Detail"],
      governance.map((g) => [esc(g.at.replace(/\.\d+Z$/, "Z")), incidentLink(g.r.id), esc(g.what), esc(g.block), `<code>${esc(g.txHash.slice(0, 12))}…</code>`, esc(g.detail)]),
      "No governance step recorded yet.",
    ),
    "</section>",
  ];
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="refresh" content="${Math.max(5, Math.floor(v.refreshSeconds))}">`,
    "<title>Failsafe dashboard</title>",
    "<style>",
    "*{box-sizing:border-box}body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:1rem;color:#111}",
    "h2{border-bottom:1px solid #ddd;margin-top:1.5rem}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}",
    "td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f8fafc}",
    ".muted{color:#666}.badge{font-weight:700;padding:.05rem .4rem;border-radius:.25rem}.tripped{background:#fee2e2;color:#7f1d1d}.open{background:#dcfce7;color:#14532d}.warn{background:#fef3c7;color:#78350f}",
    ".sev.critical{color:#991b1b;font-weight:700}.sev.high{color:#b45309;font-weight:700}code{font-size:.9em;word-break:break-all}",
    "@media (max-width:40rem){body{padding:.5rem}table,tbody,tr,td{display:block;width:100%}thead{display:none}tr{border:1px solid #ddd;border-radius:.4rem;margin:.5rem 0;padding:.25rem .5rem}td{border:0;padding:.1rem 0}td::before{content:attr(data-label) \": \";font-weight:600;color:#444}}",
    "</style></head><body>",
    ...body,
    "</body></html>",
    "",
  ].join("\n");
}
