import { formatUnits } from "ethers";

/** "in 59 min", "3 h 2 min ago": a span of chain time, for people. */
export function humanSpan(seconds: number): string {
  const s = Math.abs(seconds);
  const minutes = Math.round(s / 60);
  const text = s < 90 ? `${s} s` : minutes < 90 ? `${minutes} min` : minutes < 2_880 ? `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}` : `${Math.round(s / 86_400)} days`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

export function formatAmount(units: string, decimals: number, symbol: string): string {
  const [whole, fraction = ""] = formatUnits(BigInt(units), decimals).split(".");
  const trimmed = fraction.replace(/0+$/, "").slice(0, 6);
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${trimmed ? `.${trimmed}` : ""} ${symbol}`;
}

/** Control characters (C0, DEL, C1) and Unicode direction overrides: what rewrites a terminal or reorders text. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Chain text (token names, symbols, revert strings) for a terminal: escape sequences and overrides become visible `\xNN`. */
export function escapeTerminal(value: unknown): string {
  return String(value ?? "")
    .replace(/\r?\n|\t/g, " ")
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Text for HTML element content and quoted attributes. */
export function escapeHtml(value: unknown): string {
  return escapeTerminal(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/**
 * Text for Markdown, inline and in table cells: every character CommonMark or GFM could read as inline syntax
 * is backslash-escaped (so a symbol cannot open a link, an image, emphasis, code or a table cell), bare URLs
 * cannot autolink, and HTML is entity-escaped. Callers never start a line with it.
 */
export function escapeMarkdown(value: unknown): string {
  return escapeTerminal(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    // Brackets escaped means no link or image can open, so parentheses may stay as they read.
    .replace(/[\\`*_[\]|~>@]/g, (c) => `\\${c}`)
    // GFM turns bare URLs and www. names into links: break both without hiding the text.
    .replace(/:\/\//g, "\\:\\/\\/")
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\\.`)
    .replace(/^([-=])/, "\\$1");
}

/** A token symbol as chain data: attacker-chosen, so capped before it is escaped for any output. */
export function chainText(value: string, max = 32): string {
  const s = String(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
