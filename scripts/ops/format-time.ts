/** A unix timestamp as ISO-8601 UTC plus how far it is from `now` ("in 59m 12s", "3h 2m ago"). */
export function formatTime(timestamp: bigint | number, now: bigint | number): string {
  const at = Number(timestamp);
  const delta = at - Number(now);
  const iso = new Date(at * 1000).toISOString().replace(".000Z", "Z");
  if (delta === 0) return `${iso} (now)`;
  return delta > 0 ? `${iso} (in ${formatDuration(delta)})` : `${iso} (${formatDuration(-delta)} ago)`;
}

/** Seconds as "2d 3h", "59m 12s", "45s": the two largest units, which is what an operator reads. */
export function formatDuration(seconds: number | bigint): string {
  let rest = Number(seconds);
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(" ");
}
