import type { RpcClient } from "../chain/types";
import type { TokenStandard } from "./config";
import { hex } from "./chain-reader";

/** ERC-165 interface ids of ERC-721 and ERC-1155. */
const ERC721_ID = "80ac58cd";
const ERC1155_ID = "d9b67a26";
const SUPPORTS_INTERFACE = "0x01ffc9a7";

const word = (value: bigint | string) => (typeof value === "bigint" ? value.toString(16) : value.replace(/^0x/, "")).padStart(64, "0");

async function call(rpc: RpcClient, to: string, data: string, block: number): Promise<string | null> {
  try {
    const result = await rpc.request<string>("eth_call", [{ to, data }, hex(block)]);
    return result.length >= 66 ? result : null;
  } catch {
    return null;
  }
}

const hasCode = async (rpc: RpcClient, address: string, block: number) => (await rpc.request<string>("eth_getCode", [address, hex(block)])) !== "0x";

/** The first block at which `address` has code (binary search over eth_getCode), or null if none by `atOrBefore`. */
export async function deploymentBlock(rpc: RpcClient, address: string, atOrBefore: number): Promise<number | null> {
  if (!(await hasCode(rpc, address, atOrBefore))) return null;
  let lo = 0;
  let hi = atOrBefore;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (await hasCode(rpc, address, mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The token's standard as the contract states it through ERC-165; a contract that states neither is ERC-20. */
export async function chainStandard(rpc: RpcClient, token: string, block: number): Promise<TokenStandard> {
  const supports = async (id: string) => {
    const result = await call(rpc, token, SUPPORTS_INTERFACE + id.padEnd(64, "0"), block);
    return result !== null && BigInt(result.slice(0, 66)) === 1n;
  };
  if (await supports(ERC1155_ID)) return "erc1155";
  if (await supports(ERC721_ID)) return "erc721";
  return "erc20";
}

/** The node's own view of balances and supply at a block, read without the ledger's code. */
export const viewAt = {
  ether: async (rpc: RpcClient, account: string, block: number) => BigInt(await rpc.request<string>("eth_getBalance", [account, hex(block)])),
  async balanceOf(rpc: RpcClient, token: string, standard: TokenStandard, holder: string, tokenId: string, block: number): Promise<bigint | null> {
    const data = standard === "erc1155" ? "0x00fdd58e" + word(holder) + word(BigInt(tokenId || "0")) : "0x70a08231" + word(holder);
    const result = await call(rpc, token, data, block);
    return result === null ? null : BigInt(result.slice(0, 66));
  },
  async totalSupply(rpc: RpcClient, token: string, block: number): Promise<bigint | null> {
    const result = await call(rpc, token, "0x18160ddd", block);
    return result === null ? null : BigInt(result.slice(0, 66));
  },
};
