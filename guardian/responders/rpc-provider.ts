import { JsonRpcApiProvider, Network, type JsonRpcError, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import type { RpcClient } from "../chain/types";
import { RpcResponseError } from "../chain/errors";

/**
 * An ethers provider over the guardian's RpcClient, so the Flashbots library and TypeChain contracts go
 * through the same failover and retry policy as the rest of the guardian. JSON-RPC errors are passed on
 * with their code and data, so ethers still decodes reverts.
 */
export class RpcClientProvider extends JsonRpcApiProvider {
  constructor(private readonly rpc: RpcClient) {
    super(Network.from(rpc.chainId), { staticNetwork: Network.from(rpc.chainId), batchMaxCount: 1, cacheTimeout: -1, pollingInterval: 250 });
  }

  async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<(JsonRpcResult | JsonRpcError)[]> {
    const calls = Array.isArray(payload) ? payload : [payload];
    return Promise.all(
      calls.map(async (call): Promise<JsonRpcResult | JsonRpcError> => {
        try {
          return { id: call.id, result: await this.rpc.request(call.method, call.params as unknown[]) };
        } catch (err) {
          if (err instanceof RpcResponseError) return { id: call.id, error: { code: err.code, message: err.shortMessage.replace(/^[^:]+: /, ""), data: err.data } };
          throw err;
        }
      }),
    );
  }
}
