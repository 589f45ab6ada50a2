import { JsonRpcProvider, Network } from "ethers";
import { OperatorError } from "./OperatorError";

/** Where operator scripts connect when neither `--rpc` nor FAILSAFE_RPC_URL says otherwise (hardhat's `localhost`). */
export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

/**
 * Connects to the node and pins its chain id. ethers would otherwise retry an unreachable URL
 * forever in the background, which leaves a one-shot script hanging instead of failing.
 */
export async function connectRpc(url: string): Promise<JsonRpcProvider> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OperatorError(`--rpc / FAILSAFE_RPC_URL is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new OperatorError(`--rpc / FAILSAFE_RPC_URL must be an http(s) URL, got ${parsed.protocol}//`);
  }
  let chainId: bigint;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { result?: string };
    if (typeof body.result !== "string") throw new Error(`HTTP ${response.status}, no chain id in the answer`);
    chainId = BigInt(body.result);
  } catch (err) {
    throw new OperatorError(`cannot reach the node at ${url}: ${(err as Error).message}`);
  }
  return new JsonRpcProvider(url, undefined, { staticNetwork: Network.from(chainId) });
}
