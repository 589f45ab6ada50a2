import type {
  ContractFuture,
  IgnitionModuleBuilder,
  ModuleParameterRuntimeValue,
  NamedArtifactContractDeploymentFuture,
} from "@nomicfoundation/ignition-core";
import { ZeroAddress } from "ethers";

/**
 * The futures both Failsafe modules share: a TimelockedRecovery that governs, and a PausableVault over
 * `asset` whose governance is that timelock. Every role is wired through the constructors, so the
 * deployer keeps no power once the deployment is done (unless `timelockAdmin` names it).
 *
 * Parameters (all read from the calling module's section of the parameters file):
 * - timelockDelay: seconds every governance action waits (keep it below tripDuration, or a trip lapses
 *   before its ratification can execute)
 * - proposers: governors that schedule and cancel actions; executors: who may execute ready actions
 *   ([] or ["0x0000000000000000000000000000000000000000"] lets anyone execute)
 * - timelockAdmin: an extra timelock admin for setup, the zero address (default) for none
 * - vaultName, vaultSymbol: the vault share token
 * - recovery: the only address swept funds can ever go to (immutable)
 * - guardians: accounts that can trip, and nothing else
 * - tripDuration: seconds a trip lasts unless governance ratifies or lifts it (1 h to 7 days)
 * - outflowBps, outflowWindow, outflowAction: the vault asset's net outflow limit, in basis points of
 *   holdings per window seconds (0 bps disables it); action 0 = revert, 1 = delay. The vault's withdraw and
 *   redeem revert over the limit under either action (ERC-4626: they pay what they return or revert); exits
 *   above the instant limit are ERC-7540 requests (requestRedeem), fulfilled as the limit allows
 * - claimDelay: seconds before a redeem request can be fulfilled (1 h to 30 days, and more than the timelock's
 *   delay + 30 minutes, so that governance can cancel or redirect a request first)
 */
export function failsafeFutures(
  m: IgnitionModuleBuilder,
  asset: ContractFuture<string> | ModuleParameterRuntimeValue<string>,
): {
  timelock: NamedArtifactContractDeploymentFuture<"TimelockedRecovery">;
  vault: NamedArtifactContractDeploymentFuture<"PausableVault">;
} {
  const timelock = m.contract("TimelockedRecovery", [
    m.getParameter<number>("timelockDelay"),
    m.getParameter<string[]>("proposers"),
    m.getParameter<string[]>("executors"),
    m.getParameter<string>("timelockAdmin", ZeroAddress),
  ]);

  const vault = m.contract("PausableVault", [
    asset,
    m.getParameter<string>("vaultName", "Failsafe Vault"),
    m.getParameter<string>("vaultSymbol", "fsVLT"),
    {
      governance: timelock,
      recovery: m.getParameter<string>("recovery"),
      guardians: m.getParameter<string[]>("guardians"),
      tripDuration: m.getParameter<number>("tripDuration"),
      outflowBps: m.getParameter<number>("outflowBps"),
      outflowWindow: m.getParameter<number>("outflowWindow"),
      outflowAction: m.getParameter<number>("outflowAction"),
      claimDelay: m.getParameter<number>("claimDelay"),
    },
  ]);

  return { timelock, vault };
}
