import type { Command } from "commander";
import { usageErrorsExit2 } from "./exit-codes";
import type { IncidentRecord } from "../reports/incident-record";
import { escapeMarkdown, formatAmount, humanSpan } from "../reports/governor-format";
import { renderPairs, renderTable, terminalWidth } from "../ops/table";
import { buildGovernorReport, writeGovernorReportFiles, type GovernorReport } from "../reports/governor-report";
import { renderGovernorHtml } from "../reports/governor-report-html";
import { renderGovernorMarkdown } from "../reports/governor-report-markdown";
import { openIncidents } from "./incident-context";
import { UsageError } from "./usage-error";
import { configOption } from "./config-option";

const LIST_FORMATS = ["table", "json", "markdown"] as const;
const SHOW_FORMATS = ["table", "json", "markdown", "html"] as const;

function format<T extends string>(value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--format: "${value}" is not one of ${allowed.join(", ")}`);
  return value as T;
}

function listEntry(r: IncidentRecord) {
  return {
    id: r.id,
    chainId: r.chainId,
    breaker: r.breaker,
    ...(r.breakerName ? { breakerName: r.breakerName } : {}),
    status: r.status,
    openedAt: r.openedAt,
    updatedAt: r.updatedAt,
    findings: r.findings.length,
    ...(r.trip ? { tripBlock: r.trip.blockNumber, tripTx: r.trip.txHash } : {}),
    ...(r.lift ? { liftBlock: r.lift.blockNumber, liftTx: r.lift.txHash } : {}),
    report: r.files.markdown,
  };
}

function renderList(records: IncidentRecord[], fmt: (typeof LIST_FORMATS)[number]): string {
  if (fmt === "json") return `${JSON.stringify(records.map(listEntry), null, 2)}\n`;
  const rows = records.map((r) => [
    r.id,
    r.openedAt.replace(/\.\d+Z$/, "Z"),
    String(r.chainId),
    r.breakerName ?? r.breaker,
    r.status,
    String(r.findings.length),
    r.trip ? String(r.trip.blockNumber) : "",
  ]);
  const header = ["INCIDENT", "OPENED", "CHAIN", "BREAKER", "STATUS", "FINDINGS", "TRIP BLOCK"];
  if (fmt === "markdown") {
    return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map((c) => escapeMarkdown(c)).join(" | ")} |`)].join("\n") + "\n";
  }
  if (records.length === 0) return "no incidents\n";
  // On a narrow terminal the id shows as its first 16 hex digits (a prefix `incident show` accepts), never wrapped.
  const width = terminalWidth();
  const short = width !== undefined && width < 150;
  return renderTable(header, short ? rows.map(([id, ...rest]) => [id.slice(0, 18), ...rest]) : rows, { noWrap: [0] });
}

/** The report for a terminal: the summary, the facts a governor checks first, and what to run next. */
function renderShowTable(r: GovernorReport): string {
  const out: string[][] = [];
  const add = (k: string, v: string) => out.push([k, v]);
  add("incident", r.incidentId);
  add("content hash", r.contentHash);
  add("status", `${r.status}${r.dryRun ? " (dry run)" : ""}, chain ${r.chainId}`);
  add("breaker", `${r.breaker.name ? `${r.breaker.name} ` : ""}${r.breaker.address}`);
  if (r.trip) add("trip", `${r.trip.txHash} in block ${r.trip.blockNumber} via ${r.trip.via}${r.trip.detectToIncludeMs !== undefined ? `, ${r.trip.detectToIncludeMs} ms after detection` : ""}${r.trip.url ? `  ${r.trip.url}` : ""}`);
  for (const f of r.findings) {
    add("finding", `${f.severity} ${f.detectorId}: ${f.title} (block ${f.blockNumber})${f.retracted ? " [retracted]" : ""}`);
    if (f.evidenceHuman) add("", Object.entries(f.evidenceHuman).map(([k, v]) => `${k} ${v}`).join(", "));
  }
  const s = r.switch;
  add("switch", `${s.isTripped ? "tripped" : "open"}${s.expiresAt ? `, ${s.isTripped ? "expires" : "ended"} ${s.expiresAt} (${humanSpan(s.expiresInSeconds ?? 0)})` : ""}${s.isThisIncident ? "" : `, current incident ${s.currentIncidentId}`}`);
  if (r.lift) add("lifted", `${r.lift.txHash} in block ${r.lift.blockNumber}`);
  if (r.timelock) add("timelock", `${r.timelock.address}, delay ${r.timelock.minDelaySeconds} s`);
  if ("assets" in r.funds) {
    for (const a of r.funds.assets) {
      const amount = (v: string) => formatAmount(v, a.decimals, a.symbol);
      add("funds", `at risk ${amount(a.atRisk)}${a.saved !== undefined ? `, saved ${amount(a.saved)}, lost ${amount(a.lost ?? "0")}` : ""}, now ${amount(a.now)}`);
    }
  } else add("funds", `unavailable: ${r.funds.unavailable}`);
  for (const d of r.decisions) {
    add(`${d.decision}`, d.available ? `available; timelock operation ${d.operation?.id} ${d.operation?.state}${d.operation?.readyAt ? ` (ready at ${new Date(d.operation.readyAt * 1000).toISOString()})` : ""}` : `not available: ${d.reason}`);
  }
  for (const n of r.notes) add("note", n);
  const next = r.decisions.filter((d) => d.available).map((d) => `  ${d.command}`);
  const glance = renderPairs(r.glance.map((g) => [g.label, g.text] as [string, string]));
  return [glance, renderPairs(out as [string, string][]).trimEnd(), ...(next.length > 0 ? ["", "payloads (and, with governance.signer, scheduling):", ...next] : []), ""].join("\n");
}

export function register(program: Command): void {
  const incident = program.command("incident").description("incidents the guardian opened: list them, or show the report for governors");

  incident
    .command("list")
    .description("every incident in the guardian's store, oldest first")
    .addOption(configOption("guardian YAML config"))
    .option("-f, --format <format>", `output format: ${LIST_FORMATS.join(" | ")}`, "table")
    .option("--decisions", "list instead the trip decisions that tripped nothing (not incidents): dry runs, and breakers another incident had already tripped")
    .action(async (o: { config: string; format: string; decisions?: boolean }) => {
      const fmt = format(o.format, LIST_FORMATS);
      const ctx = await openIncidents(o.config);
      try {
        if (o.decisions) {
          const decisions = await ctx.recorder.decisions();
          process.stdout.write(decisions.length === 0 && fmt === "table" ? "no trip decisions outside incidents\n" : renderList(decisions, fmt));
          return;
        }
        process.stdout.write(renderList(await ctx.recorder.list(), fmt));
        const other = (await ctx.recorder.decisions()).length;
        if (other > 0 && fmt === "table") process.stderr.write(`(${other} trip decision${other === 1 ? "" : "s"} that tripped nothing (dry run or already tripped) ${other === 1 ? "is" : "are"} not ${other === 1 ? "an incident" : "incidents"}; --decisions lists them)\n`);
      } finally {
        await ctx.close();
      }
    });

  incident
    .command("show")
    .description("the governor report of one incident: what tripped and why, funds at risk and saved, the switch now, and the decisions with their payloads")
    .argument("<id>", "incident id, or a unique prefix of it")
    .addOption(configOption("guardian YAML config"))
    .option("-f, --format <format>", `output format: ${SHOW_FORMATS.join(" | ")}`, "table")
    .option("--out <dir>", "also write governor-<id>.md, .json and .html into this folder")
    .action(async (id: string, o: { config: string; format: string; out?: string }) => {
      const fmt = format(o.format, SHOW_FORMATS);
      const ctx = await openIncidents(o.config);
      try {
        const record = await ctx.resolve(id);
        const report = await buildGovernorReport(record, await ctx.reportDeps(record));
        const rendered =
          fmt === "json" ? `${JSON.stringify(report, null, 2)}\n` : fmt === "markdown" ? renderGovernorMarkdown(report) : fmt === "html" ? renderGovernorHtml(report) : renderShowTable(report);
        process.stdout.write(rendered);
        if (o.out) {
          const files = writeGovernorReportFiles(report, o.out);
          process.stderr.write(`wrote ${files.markdown}, ${files.json}, ${files.html}\n`);
        }
      } finally {
        await ctx.close();
      }
    });
  for (const sub of incident.commands) usageErrorsExit2(sub);
}
