import { AbiCoder, toUtf8String } from "ethers";
import type { RpcClient } from "../chain/types";
import type { ReportingToken } from "./config";
import type { TokenMetadata } from "./index-store";
import { hex } from "./chain-reader";

/** The largest decimals an amount can be shown with (a uint256 has 78 digits); beyond it, base units. */
export const MAX_DECIMALS = 77;
/** Token-controlled text is cut to this many characters before it is stored or shown. */
const MAX_TEXT = 64;

const SELECTORS = { name: "0x06fdde03", symbol: "0x95d89b41", decimals: "0x313ce567" } as const;

/** eth_call that answers null for a revert, an empty return or a node error: the view is then unknown. */
async function tryCall(rpc: RpcClient, to: string, data: string, block: number): Promise<string | null> {
  try {
    const result = await rpc.request<string>("eth_call", [{ to, data }, hex(block)]);
    return result === "0x" ? null : result;
  } catch {
    return null;
  }
}

/**
 * name()/symbol() as an ABI string, or as bytes32 (MKR, SAI): trailing zero bytes dropped. Control
 * characters are removed and the length capped, because the token chooses this text.
 */
export function decodeTokenText(data: string): string | null {
  let text: string | null = null;
  if (data.length === 66) {
    const bytes = Buffer.from(data.slice(2), "hex");
    const end = bytes.indexOf(0);
    text = bytes.subarray(0, end < 0 ? 32 : end).toString("utf8");
  } else {
    try {
      text = AbiCoder.defaultAbiCoder().decode(["string"], data)[0] as string;
    } catch {
      try {
        text = toUtf8String(data);
      } catch {
        return null;
      }
    }
  }
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "").trim().slice(0, MAX_TEXT);
  return clean.length > 0 ? clean : null;
}

/**
 * What a token says about itself at `block`. decimals() that reverts or is absurd (above 77) is null
 * with a note, and the reports then show base units: the chain's answer is used over the config's,
 * which only fills in when the token has no decimals() at all.
 */
export async function readTokenMetadata(rpc: RpcClient, token: ReportingToken, block: number): Promise<TokenMetadata> {
  const notes: string[] = [];
  const [nameData, symbolData, decimalsData] = await Promise.all(Object.values(SELECTORS).map((data) => tryCall(rpc, token.address, data, block)));
  const name = nameData === null ? null : decodeTokenText(nameData);
  const symbol = symbolData === null ? null : decodeTokenText(symbolData);
  if (name === null) notes.push("name() did not answer a readable name");
  if (symbol === null) notes.push("symbol() did not answer a readable symbol");
  let decimals: number | null = null;
  if (token.standard !== "erc20") decimals = 0;
  else if (decimalsData === null || decimalsData.length < 66) {
    if (token.decimals !== undefined) {
      decimals = token.decimals;
      notes.push(`decimals() did not answer; using the configured ${token.decimals}`);
    } else notes.push("decimals() did not answer; amounts are in base units");
  } else {
    const value = BigInt(decimalsData.slice(0, 66));
    if (value > BigInt(MAX_DECIMALS)) notes.push(`decimals() returned ${value}, more than any amount can have; amounts are in base units`);
    else {
      decimals = Number(value);
      if (token.decimals !== undefined && token.decimals !== decimals) notes.push(`decimals() returned ${decimals}; the configured ${token.decimals} is ignored`);
    }
  }
  return { decimals, name, symbol, notes };
}
