import { formatUnits } from "ethers";

/** "in 59 min", "3 h 2 min ago": a span of chain time, for people. */
export function humanSpan(seconds: number): string {
  const s = Math.abs(seconds);
  const text =
    s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : s < 172_800 ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min` : `${Math.round(s / 86_400)} days`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

export function formatAmount(units: string, decimals: number, symbol: string): string {
  const [whole, fraction = ""] = formatUnits(BigInt(units), decimals).split(".");
  const trimmed = fraction.replace(/0+$/, "").slice(0, 6);
  return `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${trimmed ? `.${trimmed}` : ""} ${symbol}`;
}
