import Table from "cli-table3";
import { escapeTerminal } from "../reports/governor-format";

/** Columns separated by two spaces, a header row, no box: easy to read, to grep and to paste. */
const PLAIN = {
  top: "", "top-mid": "", "top-left": "", "top-right": "",
  bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  ",
};

/** The width to fit: the terminal's, or COLUMNS; unlimited when piped (scripts get whole lines). */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number | undefined {
  if (stream.isTTY && stream.columns) return stream.columns;
  const fromEnv = Number(process.env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 20 ? fromEnv : undefined;
}

/**
 * Column widths that fit `width`: columns keep their natural width while they fit; otherwise the widest
 * shrink first (never below `min`), and their cells wrap.
 */
function fit(natural: number[], width: number, keep: ReadonlySet<number> = new Set(), min = 8): number[] {
  const gaps = 2 * (natural.length - 1);
  const widths = [...natural];
  let over = widths.reduce((a, b) => a + b, 0) + gaps - width;
  while (over > 0) {
    const shrinkable = widths.map((w, j) => (keep.has(j) ? 0 : w));
    const widest = Math.max(...shrinkable);
    if (widest <= min) break;
    const i = shrinkable.indexOf(widest);
    const second = Math.max(min, ...shrinkable.filter((_, j) => j !== i));
    // Down to the next widest column (ties shrink one character at a time, in turn), never below `min`.
    const cut = Math.max(1, Math.min(over, widest - Math.max(second, min)));
    widths[i] -= cut;
    over -= cut;
  }
  return widths;
}

export interface TableOptions {
  /** Width to fit; default the terminal's (unlimited when piped). */
  width?: number;
  /** Columns never wrapped (ids a command accepts back). */
  noWrap?: number[];
  /** Columns printed right-aligned (numbers, amounts). */
  right?: number[];
  /** A line of dashes under the header (the ledger's reports). */
  rule?: boolean;
  /** Who lays the table out; `auto` (default) picks by size. The others exist for the test that holds them equal. */
  engine?: "auto" | "cli-table3" | "fast";
}

/** Above this many rows the table is laid out here instead of by cli-table3, which is quadratic-ish in rows. */
export const FAST_LAYOUT_ROWS = 1_000;

/**
 * The one table printer of the CLI: every cell is made safe for a terminal (chain text can hold escape
 * sequences), and the table fits the terminal's width by wrapping the widest columns. cli-table3 lays out
 * tables up to `FAST_LAYOUT_ROWS` rows; bigger ones (a ledger statement of 140k movements) take the same layout
 * from `layout` below, which a test holds to cli-table3's output byte for byte.
 */
export function renderTable(header: string[], rows: string[][], options: TableOptions = {}): string {
  const width = options.width ?? terminalWidth();
  const head = header.map((h) => escapeTerminal(h));
  const safe = rows.map((r) => head.map((_, i) => escapeTerminal(r[i] ?? "")));
  const natural = head.map((h, i) => Math.max(h.length, ...safe.map((r) => r[i].length)));
  const colWidths = width ? fit(natural, width, new Set(options.noWrap ?? [])) : natural;
  const right = new Set(options.right ?? []);
  const body = options.rule ? [colWidths.map((w) => "-".repeat(w)), ...safe] : safe;
  const fast = options.engine === "fast" || ((options.engine ?? "auto") === "auto" && safe.length > FAST_LAYOUT_ROWS);
  return fast ? layout(head, body, colWidths, right) : cliTable3(head, body, colWidths, right);
}

function cliTable3(head: string[], rows: string[][], colWidths: number[], right: ReadonlySet<number>): string {
  const table = new Table({
    head,
    chars: PLAIN,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
    colWidths,
    wordWrap: true,
    wrapOnWordBoundary: false,
  });
  table.push(...rows.map((r) => r.map((content, i) => (right.has(i) ? { content, hAlign: "right" as const } : content))));
  return `${table
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")}\n`;
}

/** cli-table3's layout for `PLAIN` (two-space gaps, cells cut into width-sized pieces), in one pass. */
function layout(head: string[], rows: string[][], colWidths: number[], right: ReadonlySet<number> = new Set()): string {
  const out: string[] = [];
  const emit = (cells: string[], align: boolean) => {
    const pieces = cells.map((c, i) => chunks(c, colWidths[i]));
    const lines = Math.max(1, ...pieces.map((p) => p.length));
    for (let l = 0; l < lines; l++) {
      let line = "";
      for (let i = 0; i < cells.length; i++) {
        const piece = pieces[i][l] ?? "";
        line += (i > 0 ? "  " : "") + (align && right.has(i) ? piece.padStart(colWidths[i]) : piece.padEnd(colWidths[i]));
      }
      out.push(line.trimEnd());
    }
  };
  emit(head, false);
  for (const r of rows) emit(r, true);
  return `${out.join("\n")}\n`;
}

/**
 * A cell cut into `width`-sized pieces as cli-table3's hard wrap cuts it: the text between runs of whitespace is
 * appended piece by piece, and a run of whitespace that would start a piece is dropped.
 */
function chunks(text: string, width: number): string[] {
  if (text.length <= width && !/^\s/.test(text)) return [text];
  const out: string[] = [];
  let line = "";
  const parts = text.split(/(\s+)/g);
  for (let i = 0; i < parts.length; i += 2) {
    if (line.length > 0 && i > 0) line += parts[i - 1];
    line += parts[i];
    while (line.length > width) {
      out.push(line.slice(0, width));
      line = line.slice(width);
    }
  }
  if (line.length > 0) out.push(line);
  return out;
}

/** Two columns, no header: `key  value` lines, for one record (`incident show`, `config check`). */
export function renderPairs(pairs: [string, string][], options: { width?: number } = {}): string {
  const width = options.width ?? terminalWidth();
  const safe = pairs.map(([k, v]) => [escapeTerminal(k), escapeTerminal(v)]);
  const key = Math.max(...safe.map(([k]) => k.length));
  const value = Math.max(...safe.map(([, v]) => v.length));
  const table = new Table({
    chars: PLAIN,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
    colWidths: width ? [key, Math.max(16, Math.min(value, width - key - 2))] : [key, value],
    wordWrap: true,
    wrapOnWordBoundary: true,
  });
  table.push(...safe);
  return `${table
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")}\n`;
}
