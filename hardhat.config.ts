import { subtask, type HardhatUserConfig } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";

// Hardhat 2 downloads solc from the internet, which these machines cannot reach. The solc npm
// package ships the same compiler as solc-js, so compile with it, offline, at the pinned version.
const SOLC_VERSION = "0.8.30";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  const longVersion = solc.version();
  if (!longVersion.startsWith(SOLC_VERSION)) {
    throw new Error(`hardhat.config.ts: the installed solc is ${longVersion}, expected ${SOLC_VERSION}; run npm ci`);
  }
  return { compilerPath: require.resolve("solc/soljson.js"), isSolcJs: true, version: SOLC_VERSION, longVersion };
});

const anvilUrl = process.env.FAILSAFE_RPC_URL ?? "http://127.0.0.1:8545";

const config: HardhatUserConfig = {
  solidity: {
    compilers: [{ version: SOLC_VERSION, settings: { optimizer: { enabled: true, runs: 10_000 }, evmVersion: "cancun" } }],
    // PausableVault (ERC-4626 + ERC-7540 + the breaker) exceeds the 24,576-byte code limit at 10,000 runs; at 200 it
    // fits with room to spare. Keep foundry.toml's compilation_restrictions in step.
    overrides: {
      "contracts/PausableVault.sol": {
        version: SOLC_VERSION,
        settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
      },
    },
  },
  networks: {
    hardhat: { hardfork: "cancun" },
    // `localhost` is the anvil (or hardhat node) the operator runs; anvil's first default account deploys.
    localhost: { url: anvilUrl },
  },
  paths: {
    sources: "./contracts",
    tests: "./test",
    cache: "./cache",
    artifacts: "./artifacts",
    // Ignition modules live in deploy/modules and journal deployments in deploy/deployments.
    ignition: "./deploy",
  },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  mocha: { timeout: 120_000 },
  gasReporter: { enabled: false },
};

export default config;
