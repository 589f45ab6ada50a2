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

/**
 * The one table printer of the CLI (cli-table3): every cell is made safe for a terminal (chain text can hold
 * escape sequences), and the table fits the terminal's width by wrapping the widest columns.
 */
export function renderTable(head: string[], rows: string[][], options: { width?: number; noWrap?: number[] } = {}): string {
  const width = options.width ?? terminalWidth();
  const safe = rows.map((r) => r.map((c) => escapeTerminal(c)));
  const natural = head.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? "").length)));
  const colWidths = width ? fit(natural, width, new Set(options.noWrap ?? [])) : natural;
  const table = new Table({
    head,
    chars: PLAIN,
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
    colWidths,
    wordWrap: true,
    wrapOnWordBoundary: false,
  });
  table.push(...safe);
  return `${table
    .toString()
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")}\n`;
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
