import { formatUnits } from "ethers";
import { MAX_DECIMALS } from "./token-metadata";
import { isAmount, isoTime, type Cell, type Report, type ReportAnchor } from "./report";
import { escapeMarkdown, escapeTerminal } from "../reports/governor-format";
import { renderTable as printTable } from "../ops/table";

export const REPORT_FORMATS = ["table", "csv", "json", "markdown"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Human formats show amounts in token units; machine formats keep exact base units. */
const human = (cell: Cell): string =>
  cell === null ? "" : isAmount(cell) ? (cell.decimals <= MAX_DECIMALS ? formatUnits(cell.amount, cell.decimals) : cell.amount.toString()) : String(cell);
const raw = (cell: Cell): string => (cell === null ? "" : isAmount(cell) ? cell.amount.toString() : String(cell));
const anchorText = (a: ReportAnchor) => `block ${a.number} (${a.hash}, ${isoTime(a.timestamp)})`;
const rightAligned = (cell: Cell) => typeof cell === "number" || isAmount(cell);

export function renderReport(report: Report, format: ReportFormat): string {
  switch (format) {
    case "table":
      return renderTable(report);
    case "csv":
      return renderCsv(report);
    case "json":
      return JSON.stringify(toJson(report), null, 2) + "\n";
    case "markdown":
      return renderMarkdown(report);
  }
}

function header(report: Report): string[] {
  const lines = [`chain ${report.chainId}`];
  if (report.from) lines.push(`from ${anchorText(report.from)}`, `to   ${anchorText(report.anchor)}`);
  else lines.push(`at   ${anchorText(report.anchor)}`);
  return lines;
}

/**
 * The terminal table. Token names and symbols come from the chain (the token's own `name()`), so every text
 * is escaped for a terminal (control sequences shown, never run), like the CLI's other tables.
 */
function renderTable(report: Report): string {
  const t = escapeTerminal;
  const out = [t(report.title), ...header(report), ""];
  const width = Math.max(...report.summary.map(([k]) => k.length));
  for (const [k, v] of report.summary) out.push(`${t(k).padEnd(width)}  ${t(typeof v === "object" ? human(v) : v)}`);
  for (const section of report.sections) {
    out.push("", t(section.title));
    // The CLI's one table printer: escapes every cell, fits the terminal's width (whole lines when piped), and lays
    // out a 140k-row statement itself. A column of numbers or amounts is right-aligned.
    const right = section.columns.flatMap((_, i) => (section.rows.length > 0 && section.rows.every((row) => row[i] === null || rightAligned(row[i])) ? [i] : []));
    const rows = section.rows.map((row) => row.map((c) => human(c)));
    out.push(printTable(section.columns, rows, { right, rule: true }).trimEnd());
    if (section.rows.length === 0) out.push("(none)");
  }
  out.push("", "checks");
  if (report.checks.length === 0) out.push("  (none)");
  for (const c of report.checks) out.push(t(c.ok ? `  ok        ${c.name}: ${c.actual}` : `  MISMATCH  ${c.name}: node says ${c.expected}, index says ${c.actual}`));
  for (const n of report.notes) out.push(t(`note: ${n}`));
  return out.join("\n") + "\n";
}

/** Text that needs neither a formula guard nor quoting: the common case, tested once. */
const PLAIN_CSV = /^(?![=+\-@\t\r])[^",\n\r]*$/;

function csvField(value: string): string {
  if (PLAIN_CSV.test(value)) return value;
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?\d/.test(value) ? "'" + value : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * CSV tables: sections that share columns (a statement's assets) form one table, each other section its
 * own; every row carries the block it is anchored to. Checks are not rows: the command prints them to
 * stderr and fails on a mismatch. Cells are quoted per RFC 4180, and a cell starting with = + - @ gets a
 * leading quote so that a spreadsheet does not run token-controlled text as a formula.
 */
export function renderCsvTables(report: Report): { name: string; text: string }[] {
  // Lines are joined a thousand at a time, so a large statement's line strings die young (cheap to
  // collect) instead of all living until the end.
  const tables: { name: string; head: string; lines: string[]; pending: string[] }[] = [];
  for (const section of report.sections) {
    const head = ["chain_id", "block_number", "block_hash", "section", ...section.columns.map((c) => c.replace(/ /g, "_"))].join(",");
    let table = tables.find((t) => t.head === head);
    if (!table) {
      table = { name: section.title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "table", head, lines: [], pending: [] };
      tables.push(table);
    }
    // The row's anchor columns are the same on every row of the section: escaped once.
    const prefix = [String(report.chainId), String(report.anchor.number), report.anchor.hash, section.title].map(csvField).join(",");
    for (const row of section.rows) {
      let line = prefix;
      for (const cell of row) line += "," + csvCell(cell);
      table.pending.push(line);
      if (table.pending.length === 1000) {
        table.lines.push(table.pending.join("\n"));
        table.pending = [];
      }
    }
  }
  for (const t of tables) if (t.pending.length > 0) t.lines.push(t.pending.join("\n"));
  return tables.map((t) => ({ name: t.name, text: [t.head, ...t.lines].join("\n") + "\n" }));
}

/** One CSV cell: numbers and amounts are digits (an optional leading minus) and never need escaping. */
function csvCell(cell: Cell): string {
  if (cell === null) return "";
  if (typeof cell === "number") return String(cell);
  if (typeof cell === "string") return csvField(cell);
  return cell.amount.toString();
}

function renderCsv(report: Report): string {
  return renderCsvTables(report).map((t) => t.text).join("\n");
}

/** An amount in JSON: exact base units as a string, with the decimals and symbol to read it by. */
function jsonCell(cell: Cell): unknown {
  if (cell === null || typeof cell === "number" || typeof cell === "string") return cell;
  return { amount: cell.amount.toString(), decimals: cell.decimals, ...(cell.symbol ? { symbol: cell.symbol } : {}) };
}

export function toJson(report: Report): unknown {
  return {
    kind: report.kind,
    title: report.title,
    chainId: report.chainId,
    ...(report.from ? { from: report.from } : {}),
    block: report.anchor,
    summary: Object.fromEntries(report.summary.map(([k, v]) => [k, jsonCell(v)])),
    sections: report.sections.map((s) => ({
      title: s.title,
      rows: s.rows.map((row) => Object.fromEntries(s.columns.map((c, i) => [c, jsonCell(row[i])]))),
    })),
    checks: report.checks,
    notes: report.notes,
  };
}

/** Markdown text from the chain (token names, symbols, notes quoting them) can open no link, image or HTML. */
const md = (value: unknown): string => escapeMarkdown(value);

function renderMarkdown(report: Report): string {
  const out = [`## ${md(report.title)}`, "", ...header(report).map((l) => `- ${l}`)];
  for (const [k, v] of report.summary) out.push(`- ${md(k)}: ${md(typeof v === "object" ? human(v) : v)}`);
  for (const section of report.sections) {
    out.push("", `### ${md(section.title)}`, "", `| ${section.columns.map(md).join(" | ")} |`, `| ${section.columns.map((_, i) => (section.rows[0] && rightAligned(section.rows[0][i]) ? "---:" : "---")).join(" | ")} |`);
    for (const row of section.rows) out.push(`| ${row.map((c) => md(human(c))).join(" | ")} |`);
  }
  out.push("", "### checks", "");
  if (report.checks.length === 0) out.push("- none");
  for (const c of report.checks) out.push(c.ok ? `- ok: ${md(c.name)}: ${md(c.actual)}` : `- **MISMATCH**: ${md(c.name)}: node says ${md(c.expected)}, index says ${md(c.actual)}`);
  for (const n of report.notes) out.push(`- note: ${md(n)}`);
  return out.join("\n") + "\n";
}
