import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { failsafeFutures } from "../failsafe-futures";

/**
 * Failsafe over an existing ERC-20 (`asset` parameter): a TimelockedRecovery and a PausableVault
 * governed by it. For public networks; see deploy/parameters/mainnet.example.json5.
 */
export default buildModule("Failsafe", (m) => failsafeFutures(m, m.getParameter<string>("asset")));
