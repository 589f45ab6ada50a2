import type { Command } from "commander";
import { loadConfig } from "../config/load-config";
import { createDetectors } from "../guardian";
import { createLogger } from "../ops/logger";
import type { RpcClient } from "../chain/types";

/** Detectors are built offline here: creating one must not touch the network, so this RPC refuses. */
function offlineRpc(chainId: number): RpcClient {
  return {
    chainId,
    request: () => Promise.reject(new Error("config check runs offline")),
  };
}

export function register(program: Command): void {
  const config = program.command("config").description("work with guardian config files");
  config
    .command("check")
    .description("validate a config file (schema, env references, ABIs, detector parameters) without connecting anywhere")
    .argument("<file>", "guardian YAML config")
    .action((file: string) => {
      const loaded = loadConfig(file);
      const { logger } = createLogger({ level: "silent", destination: "stderr" });
      const lines: string[] = [];
      for (const chain of loaded.config.chains) {
        const contracts = loaded.contracts.get(chain.id) ?? [];
        const detectors = createDetectors(loaded.config, chain, contracts, { rpc: offlineRpc(chain.id), logger });
        lines.push(
          `  chain ${chain.id}${chain.name ? ` (${chain.name})` : ""}: ${chain.rpc.length} rpc url${chain.rpc.length === 1 ? "" : "s"}${chain.ws ? " + websocket" : ""}, ` +
            `${contracts.length} contract${contracts.length === 1 ? "" : "s"}, detectors: ${detectors.map((d) => d.key).join(", ") || "none"}`,
        );
      }
      const { responders, notifiers } = loaded.config;
      process.stdout.write(
        `${file}: ok\n${lines.join("\n")}\n  responders: ${Object.keys(responders).join(", ") || "none"}; notifiers: ${Object.keys(notifiers).join(", ") || "none"}\n`,
      );
    });
}
