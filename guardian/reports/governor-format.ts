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
