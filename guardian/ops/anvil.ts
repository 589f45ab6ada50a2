import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { HDNodeWallet } from "ethers";

/**
 * Starts the anvil binary that ships in the @foundry-rs/anvil npm package on 127.0.0.1 and a free port.
 * Used by the demo, the benchmarks and the tests; nothing here downloads anything.
 */
export interface AnvilOptions {
  port?: number;
  chainId?: number;
  /** Seconds between blocks; omit for automine. */
  blockTime?: number;
  /** Disable automine entirely (blocks only via evm_mine). */
  noMining?: boolean;
  accounts?: number;
  balanceEth?: number;
  extraArgs?: string[];
}

export interface AnvilInstance {
  url: string;
  wsUrl: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** anvil's default mnemonic; its accounts are well known and for local chains only. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** The private key of anvil's default account `index`, derived rather than pasted. */
export function anvilKey(index: number): string {
  return HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function anvilBinary(): string {
  // The wrapper package resolves the platform binary package; call the binary directly to avoid an
  // extra node process per anvil.
  const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}/package.json`);
  return path.join(path.dirname(pkg), "bin", "anvil");
}

export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilInstance> {
  const port = options.port ?? (await freePort());
  const args = [
    "--host", "127.0.0.1",
    "--port", String(port),
    "--chain-id", String(options.chainId ?? 31337),
    "--accounts", String(options.accounts ?? 10),
    "--balance", String(options.balanceEth ?? 10_000),
    "--hardfork", "cancun",
    "--silent",
  ];
  if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime));
  if (options.noMining) args.push("--no-mining");
  if (options.extraArgs) args.push(...options.extraArgs);

  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;

  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`anvil exited with code ${code} before it was ready: ${stderr.trim()}`))),
  );
  exited.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await Promise.race([
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        }),
        exited,
      ]);
      if (res.ok) break;
    } catch (err) {
      if (child.exitCode !== null) throw err;
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`anvil did not answer on ${url} within 15s: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3_000).unref();
      }),
  };
}
