/**
 * Alerts and reports quote attacker-controlled text: token names and symbols, revert reasons, contract names read
 * from the chain. Each channel gets it as inert text: no terminal escape sequences or bidi overrides anywhere, and
 * no markup the channel would act on (Slack's `<!channel>` and `<url|label>`, Markdown links, emphasis, headings).
 */

/** C0 controls but newline and tab, DEL, C1 controls (ESC sequences, CSI), and bidi overrides/isolates. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes what a terminal, a mail client or a log viewer would interpret instead of showing. */
export function stripControl(text: string): string {
  return text.replace(CONTROL, "");
}

/** Slack mrkdwn (the `text` field): `&`, `<`, `>` escaped as Slack documents, so no mention or link is formed. */
export function slackText(text: string): string {
  return stripControl(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Discord (and CommonMark) markup escaped with a backslash: shown as typed, never as a link (`[` `]` `<` `>`),
 * emphasis, code, spoiler or quote. Parentheses need no escape once brackets cannot open a link.
 */
export function markdownText(text: string): string {
  return stripControl(text).replace(/[\\`*_~|>[\]<]/g, (c) => `\\${c}`);
}

/** One line of Markdown: markup escaped, line breaks and table pipes folded so a cell or heading stays one. */
export function markdownInline(text: string): string {
  return markdownText(text).replace(/\r?\n/g, " ");
}

/** A code fence longer than any run of backticks in `content`, so the content cannot close it. */
export function fenceFor(content: string): string {
  const longest = Math.max(0, ...(content.match(/`+/g) ?? []).map((run) => run.length));
  return "`".repeat(Math.max(3, longest + 1));
}
