import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { failsafeFutures } from "../failsafe-futures";

/**
 * Failsafe for a local chain (anvil, hardhat node): deploys a MockERC20 as the vault's asset and
 * mints `mintAmount` of it to `mintTo`, then the same TimelockedRecovery and PausableVault as the
 * Failsafe module. See deploy/parameters/localhost.json.
 */
export default buildModule("FailsafeLocal", (m) => {
  const asset = m.contract("MockERC20", [
    m.getParameter<string>("assetName", "Failsafe Test Dollar"),
    m.getParameter<string>("assetSymbol", "fsUSD"),
    m.getParameter<number>("assetDecimals", 18),
  ]);
  m.call(asset, "mint", [m.getParameter<string>("mintTo"), m.getParameter<bigint>("mintAmount")]);
  return { asset, ...failsafeFutures(m, asset) };
});
