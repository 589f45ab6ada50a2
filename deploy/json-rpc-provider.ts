import type { EIP1193Provider, RequestArguments } from "@nomicfoundation/ignition-core";

/** A JSON-RPC error as Ignition expects it: the node's message, with the revert data kept in `data`. */
export class JsonRpcError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly data: unknown,
  ) {
    super(message);
    this.name = "JsonRpcError";
  }
}

/**
 * The EIP-1193 provider Ignition's core needs, over plain HTTP JSON-RPC. Ignition decodes reverts
 * from the error's message and `data`, so errors are passed through unchanged rather than wrapped.
 */
export function jsonRpcProvider(url: string): EIP1193Provider {
  let nextId = 1;
  return {
    async request({ method, params }: RequestArguments): Promise<unknown> {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params: params ?? [] }),
        });
      } catch (err) {
        throw new Error(`cannot reach the JSON-RPC endpoint ${url}: ${(err as Error).message}`, { cause: err });
      }
      if (!response.ok) throw new Error(`${url} answered ${method} with HTTP ${response.status}`);
      const body = (await response.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
      if (body.error) throw new JsonRpcError(body.error.message, body.error.code, body.error.data);
      return body.result;
    },
  };
}
