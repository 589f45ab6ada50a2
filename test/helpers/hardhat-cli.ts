import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const HARDHAT_CLI = path.join(REPO_ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * Starts the real hardhat CLI in the repo (the same entry point `npx hardhat` runs) against the node at
 * `rpcUrl`, which hardhat.config.ts's `localhost` network reads from FAILSAFE_RPC_URL.
 */
export function startHardhat(args: string[], rpcUrl: string): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [HARDHAT_CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, FAILSAFE_RPC_URL: rpcUrl, FORCE_COLOR: "0", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const done = new Promise<CliRun>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal, output })),
  );
  return { child, done };
}

export function runHardhat(args: string[], rpcUrl: string): Promise<CliRun> {
  return startHardhat(args, rpcUrl).done;
}

/** The `Future#Id - 0xaddress` lines Ignition prints under "Deployed Addresses". */
export function deployedAddresses(output: string): Record<string, string> {
  const addresses: Record<string, string> = {};
  for (const match of output.matchAll(/^(\S+#\S+) - (0x[0-9a-fA-F]{40})$/gm)) addresses[match[1]!] = match[2]!;
  return addresses;
}
