import path from "node:path";
import {
  deploy,
  DeploymentResultType,
  type DeploymentParameters,
  type DeploymentResult,
} from "@nomicfoundation/ignition-core";
import { Artifacts } from "hardhat/internal/artifacts";
import { jsonRpcProvider } from "./json-rpc-provider";
import FailsafeModule from "./modules/Failsafe";
import FailsafeLocalModule from "./modules/FailsafeLocal";

const modules = { Failsafe: FailsafeModule, FailsafeLocal: FailsafeLocalModule } as const;

export interface DeployFailsafeOptions {
  /** JSON-RPC URL of a node whose `eth_accounts` can send transactions (anvil, hardhat node, a signer proxy). */
  rpcUrl: string;
  /** Which module to deploy: `FailsafeLocal` also deploys a mock asset. */
  module: keyof typeof modules;
  /** Ignition parameters, keyed by module id as in deploy/parameters/*.json. */
  parameters: DeploymentParameters;
  /**
   * Where Ignition journals the deployment, so a rerun resumes it; omit to deploy in memory (a
   * rerun then deploys again).
   */
  deploymentDir?: string;
  /** Hardhat's artifacts folder; defaults to the package's own artifacts/. */
  artifactsDir?: string;
  /** The account that sends the transactions; defaults to the node's first account. */
  defaultSender?: string;
}

export interface FailsafeDeployment {
  /** The deployed addresses, by the module's result names (`timelock`, `vault`, and `asset` for FailsafeLocal). */
  addresses: { timelock: string; vault: string; asset?: string };
}

/**
 * Deploys a Failsafe module with Ignition's core, outside `hardhat run` (the demo and end-to-end
 * tests run under tsx with an anvil they started). It runs the very modules that
 * `npx hardhat ignition deploy deploy/modules/<Module>.ts` runs, with the same journal format.
 */
export async function deployFailsafe(options: DeployFailsafeOptions): Promise<FailsafeDeployment> {
  const provider = jsonRpcProvider(options.rpcUrl);
  const artifacts = new Artifacts(options.artifactsDir ?? path.resolve(__dirname, "..", "artifacts"));
  const accounts = (await provider.request({ method: "eth_accounts" })) as string[];
  if (accounts.length === 0) {
    throw new Error(`the node at ${options.rpcUrl} manages no accounts (eth_accounts is empty); Ignition needs one to send from`);
  }
  const result = await deploy({
    provider,
    artifactResolver: {
      loadArtifact: (contractName) => artifacts.readArtifact(contractName),
      getBuildInfo: async (contractName) => {
        const artifact = await artifacts.readArtifact(contractName);
        return artifacts.getBuildInfo(`${artifact.sourceName}:${artifact.contractName}`);
      },
    },
    ignitionModule: modules[options.module],
    deploymentParameters: options.parameters,
    deploymentDir: options.deploymentDir,
    accounts,
    defaultSender: options.defaultSender,
  });
  if (result.type !== DeploymentResultType.SUCCESSFUL_DEPLOYMENT) {
    throw new Error(`Ignition could not deploy ${options.module}: ${describeFailure(result)}`);
  }
  const address = (name: string): string | undefined => result.contracts[`${options.module}#${name}`]?.address;
  const timelock = address("TimelockedRecovery");
  const vault = address("PausableVault");
  if (!timelock || !vault) throw new Error(`Ignition reported success for ${options.module} without a timelock and a vault`);
  return { addresses: { timelock, vault, asset: address("MockERC20") } };
}

function describeFailure(result: Exclude<DeploymentResult, { type: DeploymentResultType.SUCCESSFUL_DEPLOYMENT }>): string {
  switch (result.type) {
    case DeploymentResultType.EXECUTION_ERROR: {
      const parts = [
        ...result.failed.map((f) => `${f.futureId} failed: ${f.error}`),
        ...result.timedOut.map((f) => `${f.futureId} timed out`),
        ...result.held.map((f) => `${f.futureId} held: ${f.reason}`),
      ];
      return parts.join("; ") || "execution stopped";
    }
    default:
      return Object.entries(result.errors)
        .map(([future, errors]) => `${future}: ${errors.join(", ")}`)
        .join("; ");
  }
}
