import { Interface } from "ethers";
import type { RpcClient } from "../chain/types";
import type { ReportingToken } from "./config";
import { RpcResponseError } from "../chain/errors";
import { hex } from "./chain-reader";

/** A view that answered nothing: the contract does not implement it. */
class EmptyReturnError extends Error {}

/** Standard token views (ERC-20/721/1155 and OpenZeppelin's ERC1155Supply), called at a past block. */
const views = new Interface([
  "function totalSupply() view returns (uint256)",
  "function totalSupply(uint256 id) view returns (uint256)",
  "function balanceOf(address owner) view returns (uint256)",
  "function balanceOf(address owner, uint256 id) view returns (uint256)",
]);

async function call(rpc: RpcClient, to: string, data: string, block: number): Promise<bigint> {
  const result = await rpc.request<string>("eth_call", [{ to, data }, hex(block)]);
  if (result === "0x") {
    // Before its deployment a token holds nothing and has no supply; after it, no data means no such view.
    if ((await rpc.request<string>("eth_getCode", [to, hex(block)])) === "0x") return 0n;
    throw new EmptyReturnError(`${to} returned no data`);
  }
  return BigInt(result.slice(0, 66));
}

/** balanceOf at `block`: ERC-20 amount, ERC-721 count, ERC-1155 amount of `tokenId`. */
export function balanceOfAt(rpc: RpcClient, token: ReportingToken, holder: string, tokenId: string, block: number): Promise<bigint> {
  const data =
    token.standard === "erc1155"
      ? views.encodeFunctionData("balanceOf(address,uint256)", [holder, BigInt(tokenId)])
      : views.encodeFunctionData("balanceOf(address)", [holder]);
  return call(rpc, token.address, data, block);
}

/** totalSupply at `block`, or null if the token does not have one (plain ERC-721, ERC-1155 without supply). */
export async function totalSupplyAt(rpc: RpcClient, token: ReportingToken, tokenId: string, block: number): Promise<bigint | null> {
  const data =
    token.standard === "erc1155"
      ? views.encodeFunctionData("totalSupply(uint256)", [BigInt(tokenId)])
      : views.encodeFunctionData("totalSupply()", []);
  try {
    return await call(rpc, token.address, data, block);
  } catch (err) {
    // A revert or empty return means "no such view"; a transport failure must not pass for that.
    if (err instanceof RpcResponseError || err instanceof EmptyReturnError) return null;
    throw err;
  }
}

export async function etherBalanceAt(rpc: RpcClient, account: string, block: number): Promise<bigint> {
  return BigInt(await rpc.request<string>("eth_getBalance", [account, hex(block)]));
}
