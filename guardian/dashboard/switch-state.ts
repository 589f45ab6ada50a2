import { ZeroHash } from "ethers";
import { ICircuitBreaker__factory } from "../../typechain-types";
import type { GuardianConfig } from "../config/schema";
import type { RpcClientProvider } from "../responders/rpc-provider";

/** One configured breaker as the chain sees it now. */
export interface SwitchState {
  name: string;
  chainId: number;
  address: string;
  timelock?: string;
  /** Absent when the node could not be read; `error` says why. */
  isTripped?: boolean;
  incidentId?: string;
  expiresAt?: number;
  /** Chain time of the block read, unix seconds. */
  readAt?: number;
  blockNumber?: number;
  error?: string;
}

/** Reads every breaker in policy.breakers: tripped or open, the current incident and its expiry. */
export async function readSwitches(config: GuardianConfig, provider: (chainId: number) => Promise<RpcClientProvider>): Promise<SwitchState[]> {
  return Promise.all(
    config.policy.breakers.map(async (entry): Promise<SwitchState> => {
      const contract = config.contracts.find((c) => c.name === entry.contract);
      const chainId = contract?.chain ?? 0;
      const address = (entry.breaker ?? contract?.address ?? "").toLowerCase();
      const base = { name: entry.contract, chainId, address, ...(entry.timelock ? { timelock: entry.timelock } : {}) };
      try {
        const p = await provider(chainId);
        const breaker = ICircuitBreaker__factory.connect(address, p);
        const block = await p.getBlock("latest");
        const tag = block ? { blockTag: block.number } : {};
        const [isTripped, incident] = await Promise.all([breaker.isTripped(tag), breaker.incident(tag)]);
        return {
          ...base,
          isTripped,
          ...(incident.incidentId !== ZeroHash ? { incidentId: incident.incidentId, expiresAt: Number(incident.expiresAt) } : {}),
          ...(block ? { readAt: block.timestamp, blockNumber: block.number } : {}),
        };
      } catch (err) {
        return { ...base, error: (err as Error).message.split("\n")[0].slice(0, 200) };
      }
    }),
  );
}
