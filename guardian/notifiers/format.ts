import type { AlertMessage } from "./types";

/** `[CRITICAL] Breaker tripped: ...`; retractions and resolutions say so first, where previews cut off. */
export function alertSubject(message: AlertMessage): string {
  const tag = message.kind === "retraction" ? "RETRACTED" : message.kind === "lift" ? "RESOLVED" : message.severity.toUpperCase();
  return `[Failsafe ${tag}] ${message.title}`;
}

/** The plain-text body every channel starts from; channels with rich formatting add to it, not replace it. */
export function alertText(message: AlertMessage): string {
  const lines = [message.summary];
  if (message.details.length > 0) lines.push("", ...message.details);
  if (message.findings.length > 0) {
    lines.push("", "Findings:");
    for (const f of message.findings) {
      const tx = f.txHash ? ` tx ${f.txHash}` : "";
      lines.push(`- [${f.severity}] ${f.detectorId}: ${f.title} (block ${f.blockNumber} ${f.blockHash}${tx})`);
    }
  }
  if (message.retracts && message.retracts.length > 0) {
    lines.push("", `Retracts alert${message.retracts.length > 1 ? "s" : ""} ${message.retracts.join(", ")}`);
  }
  if (message.links.length > 0) {
    lines.push("", ...message.links.map((l) => `${l.label}: ${l.url}`));
  }
  lines.push("", `alert ${message.id} · incident ${message.incidentKey} · chain ${message.chainId} · ${message.createdAt}`);
  return lines.join("\n");
}

/** Cuts `text` to `max` characters (services reject longer messages), marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
