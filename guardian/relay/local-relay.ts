import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino, { type Logger } from "pino";
import { HttpRpcClient } from "../chain/rpc";
import type { RpcClient } from "../chain/types";
import { BlockBuilder, type BuiltBlock } from "./block-builder";
import { BundlePool, BundleValidationError, type Bundle } from "./bundle-pool";
import { BundleSimulationError, simulateBundle } from "./bundle-simulator";
import { FlashbotsSignatureError, verifyFlashbotsSignature } from "./flashbots-signature";

export type RelayMining =
  /** Blocks are built only when `buildBlock()` is called (tests drive the chain block by block). */
  | { mode: "manual" }
  /** A block every `intervalMs`, like a real chain (the demo). */
  | { mode: "interval"; intervalMs: number };

export interface LocalRelayOptions {
  /** The anvil node the relay builds on. It must run with `--order fifo`. */
  anvilUrl: string;
  chainId: number;
  mining: RelayMining;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  logger?: Logger;
}

const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Stands in for a builder's BLS public key in the stats' `consideredByBuildersAt`/`sealedByBuildersAt`. */
const BUILDER_ID = "failsafe-local-builder";

class JsonRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A Flashbots-compatible relay for local chains: the bundle API that @flashbots/ethers-provider-bundle
 * uses (`eth_sendBundle`, `eth_callBundle`, `eth_cancelBundle`, `flashbots_getBundleStatsV2`,
 * `flashbots_getUserStatsV2`) over JSON-RPC on 127.0.0.1, with `X-Flashbots-Signature` verified on every
 * request. It takes over block production on its anvil node (automine off) so that bundles land only in
 * their target block, all-or-nothing, ahead of public transactions. A development stand-in: production
 * configs point at real relays and builders.
 */
export class LocalRelay {
  readonly pool: BundlePool;
  private readonly rpc: RpcClient;
  private readonly builder: BlockBuilder;
  private readonly logger: Logger;
  private server?: Server;
  private building: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private address?: AddressInfo;

  constructor(private readonly options: LocalRelayOptions) {
    this.logger = options.logger ?? pino({ level: "silent" });
    this.rpc = new HttpRpcClient({ chainId: options.chainId, urls: [options.anvilUrl], maxAttempts: 1, logger: this.logger });
    this.pool = new BundlePool(options.chainId);
    this.builder = new BlockBuilder(this.rpc, this.pool, this.logger);
  }

  get url(): string {
    if (!this.address) throw new Error("local relay is not started");
    return `http://${this.address.address}:${this.address.port}`;
  }

  async start(): Promise<this> {
    let info: { transactionOrder?: string; environment?: { chainId?: number } };
    try {
      info = await this.rpc.request("anvil_nodeInfo", []);
    } catch (err) {
      throw new Error(`local relay: ${this.options.anvilUrl} did not answer anvil_nodeInfo (${(err as Error).message}); the local relay builds blocks on anvil only`);
    }
    if (info.transactionOrder !== "fifo") {
      throw new Error(`local relay: the anvil at ${this.options.anvilUrl} orders its pool by "${info.transactionOrder}"; start it with --order fifo so bundles can be placed ahead of public transactions`);
    }
    if (info.environment?.chainId !== undefined && info.environment.chainId !== this.options.chainId) {
      throw new Error(`local relay: anvil serves chain ${info.environment.chainId}, the relay was configured for chain ${this.options.chainId}`);
    }
    // The relay is the block producer from now on.
    await this.rpc.request("evm_setAutomine", [false]);
    await this.rpc.request("evm_setIntervalMining", [0]);

    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err }, "local relay could not answer a request");
        if (!res.headersSent) reply(res, 500, { jsonrpc: "2.0", id: null, error: { code: -32603, message: "internal error" } });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => resolve());
    });
    this.server = server;
    this.address = server.address() as AddressInfo;
    if (this.options.mining.mode === "interval") this.scheduleInterval(this.options.mining.intervalMs);
    this.logger.info({ url: this.url, mining: this.options.mining }, "local relay listening");
    return this;
  }

  /** Builds the next block now (bundles for it first, then the public pool). Serialised with interval mining. */
  buildBlock(): Promise<BuiltBlock> {
    const next = this.building.then(() => this.builder.build());
    this.building = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.building;
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private scheduleInterval(intervalMs: number): void {
    const tick = async () => {
      const started = Date.now();
      try {
        const block = await this.buildBlock();
        if (block.includedBundles.length > 0 || block.failedBundles.length > 0) {
          this.logger.info({ block_number: block.number, included: block.includedBundles, failed: block.failedBundles }, "block built with bundles");
        }
      } catch (err) {
        this.logger.error({ err }, "local relay could not build a block");
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), Math.max(0, intervalMs - (Date.now() - started)));
    };
    this.timer = setTimeout(() => void tick(), intervalMs);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      return reply(res, 413, { jsonrpc: "2.0", id: null, error: { code: -32600, message: (err as Error).message } });
    }
    if (req.method !== "POST") return reply(res, 405, { jsonrpc: "2.0", id: null, error: { code: -32600, message: "use POST" } });
    let request: { id?: unknown; method?: unknown; params?: unknown };
    try {
      request = JSON.parse(body);
    } catch {
      return reply(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error: body is not JSON" } });
    }
    if (Array.isArray(request) || typeof request !== "object" || request === null || typeof request.method !== "string") {
      return reply(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32600, message: "expected one JSON-RPC request object with a method" } });
    }
    const id = request.id ?? null;
    let signer: string;
    try {
      signer = verifyFlashbotsSignature(headerOf(req, "x-flashbots-signature"), body);
    } catch (err) {
      if (!(err instanceof FlashbotsSignatureError)) throw err;
      this.logger.warn({ method: request.method, reason: err.message }, "request refused: bad X-Flashbots-Signature");
      return reply(res, 403, { jsonrpc: "2.0", id, error: { code: -32600, message: err.message } });
    }
    try {
      const params = Array.isArray(request.params) ? request.params : [];
      const result = await this.dispatch(request.method, params, signer);
      reply(res, 200, { jsonrpc: "2.0", id, result });
    } catch (err) {
      const code = err instanceof JsonRpcError ? err.code : err instanceof BundleValidationError ? -32602 : -32000;
      if (!(err instanceof JsonRpcError || err instanceof BundleValidationError || err instanceof BundleSimulationError)) {
        this.logger.error({ err, method: request.method }, "local relay request failed");
      }
      reply(res, 200, { jsonrpc: "2.0", id, error: { code, message: (err as Error).message } });
    }
  }

  private async dispatch(method: string, params: unknown[], signer: string): Promise<unknown> {
    const arg = (params[0] ?? {}) as Record<string, unknown>;
    switch (method) {
      case "eth_sendBundle": {
        const head = await this.headNumber();
        const bundle = this.pool.add(
          {
            txs: arg.txs as string[],
            blockNumber: quantity(arg.blockNumber, "blockNumber"),
            minTimestamp: optionalNumber(arg.minTimestamp, "minTimestamp"),
            maxTimestamp: optionalNumber(arg.maxTimestamp, "maxTimestamp"),
            revertingTxHashes: optionalStrings(arg.revertingTxHashes, "revertingTxHashes"),
            replacementUuid: typeof arg.replacementUuid === "string" ? arg.replacementUuid : undefined,
            signer,
          },
          head,
        );
        this.logger.info({ bundle_hash: bundle.hash, block_number: bundle.blockNumber, txs: bundle.txs.length, signer }, "bundle received");
        return { bundleHash: bundle.hash };
      }
      case "eth_callBundle": {
        if (!Array.isArray(arg.txs) || arg.txs.length === 0) throw new BundleValidationError("txs must be a non-empty array");
        const stateBlock = arg.stateBlockNumber === undefined || arg.stateBlockNumber === "latest" ? "latest" : quantity(arg.stateBlockNumber, "stateBlockNumber");
        return simulateBundle(this.rpc, arg.txs as string[], {
          blockNumber: quantity(arg.blockNumber, "blockNumber"),
          stateBlock,
          timestamp: optionalNumber(arg.timestamp, "timestamp"),
          coinbase: typeof arg.coinbase === "string" ? arg.coinbase : undefined,
        });
      }
      case "eth_cancelBundle": {
        if (typeof arg.replacementUuid !== "string") throw new BundleValidationError("replacementUuid must be a string");
        return this.pool.cancel(arg.replacementUuid, signer);
      }
      case "flashbots_getBundleStatsV2": {
        if (typeof arg.bundleHash !== "string") throw new BundleValidationError("bundleHash must be a string");
        const blockNumber = quantity(arg.blockNumber, "blockNumber");
        const bundle = this.pool.get(arg.bundleHash, blockNumber);
        if (!bundle) throw new JsonRpcError(-32602, `no bundle ${arg.bundleHash} for block ${blockNumber}`);
        return bundleStats(bundle);
      }
      case "flashbots_getUserStatsV2": {
        const totals = this.pool.userStats(signer);
        const payments = totals.validatorPayments.toString();
        const gas = totals.gasSimulated.toString();
        // A local chain lives for minutes, so every window holds the relay's whole lifetime.
        return {
          isHighPriority: true,
          allTimeValidatorPayments: payments,
          allTimeGasSimulated: gas,
          last7dValidatorPayments: payments,
          last7dGasSimulated: gas,
          last1dValidatorPayments: payments,
          last1dGasSimulated: gas,
        };
      }
      default:
        throw new JsonRpcError(-32601, `method ${method} is not served by the local relay`);
    }
  }

  private async headNumber(): Promise<number> {
    return Number(await this.rpc.request<string>("eth_blockNumber", []));
  }
}

export async function startLocalRelay(options: LocalRelayOptions): Promise<LocalRelay> {
  return new LocalRelay(options).start();
}

function bundleStats(bundle: Bundle) {
  const builderTimes = (at: Date | undefined) => (at ? [{ pubkey: BUILDER_ID, timestamp: at.toISOString() }] : []);
  return {
    isHighPriority: true,
    isSimulated: bundle.simulatedAt !== undefined,
    simulatedAt: bundle.simulatedAt?.toISOString() ?? "",
    receivedAt: bundle.receivedAt.toISOString(),
    consideredByBuildersAt: builderTimes(bundle.consideredAt),
    sealedByBuildersAt: builderTimes(bundle.sealedAt),
  };
}

function quantity(value: unknown, name: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^0x[0-9a-fA-F]+$/.test(value)) return Number(BigInt(value));
  throw new BundleValidationError(`${name} must be a hex quantity, got ${JSON.stringify(value)}`);
}

function optionalNumber(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  return quantity(value, name);
}

function optionalStrings(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new BundleValidationError(`${name} must be an array of tx hashes`);
  return value as string[];
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
