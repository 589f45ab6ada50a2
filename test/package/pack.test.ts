import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { REPO_ROOT } from "../helpers/hardhat-cli";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  const child = spawn(command, args, { cwd, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * What a consumer's Hardhat config needs on machines that cannot download solc: the same offline
 * override the repo uses, pointed at the solc npm package (the consumer would install its own).
 */
function consumerHardhatConfig(solcDir: string): string {
  return `const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
const SOLC_DIR = ${JSON.stringify(solcDir)};
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async (args, _hre, runSuper) => {
  const solc = require(SOLC_DIR);
  if (!solc.version().startsWith(args.solcVersion)) return runSuper(args);
  return { compilerPath: require.resolve(SOLC_DIR + "/soljson.js"), isSolcJs: true, version: args.solcVersion, longVersion: solc.version() };
});
module.exports = { solidity: { version: "0.8.30", settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 200 } } } };
`;
}

// A consumer's own contract, written the way the README tells contract developers to.
const CONSUMER_CONTRACT = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import "failsafe/contracts/CircuitBreaker.sol";

contract Treasury is CircuitBreaker {
    using SafeERC20 for IERC20;

    constructor(address governance, address[] memory guardians) CircuitBreaker(governance, guardians, 1 days) {}

    function fund(IERC20 token, uint256 amount) external {
        _requireOperationOpen(this.fund.selector);
        token.safeTransferFrom(msg.sender, address(this), amount);
        _creditInflow(address(token), amount);
    }

    function pay(IERC20 token, address to, uint256 amount) external {
        _requireOperationOpen(this.pay.selector);
        if (_checkOutflow(address(token), amount)) token.safeTransfer(to, amount);
    }
}
`;

describe("the npm package", function () {
  let tmp: string;

  before(async function () {
    tmp = await mkdtemp(path.join(os.tmpdir(), "failsafe-pack-"));
  });

  after(async function () {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("packs into a tarball that a fresh Hardhat project installs and compiles a CircuitBreaker consumer against", async function () {
    // npm pack runs the package's `prepare` (hardhat compile), as publishing would.
    const packed = await run("npm", ["pack", "--json", "--pack-destination", tmp], REPO_ROOT);
    expect(packed.code, packed.stderr).to.equal(0);
    const [manifest] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as [{ filename: string; files: { path: string }[] }];
    const files = manifest.files.map((f) => f.path);
    expect(files).to.include.members([
      "contracts/CircuitBreaker.sol",
      "contracts/PausableVault.sol",
      "contracts/TimelockedRecovery.sol",
      "contracts/interfaces/ICircuitBreaker.sol",
      "artifacts/contracts/CircuitBreaker.sol/CircuitBreaker.json",
      "typechain-types/index.ts",
    ]);
    expect(files.filter((f) => f.startsWith("contracts/mocks/") || f.startsWith("contracts/test/"))).to.deep.equal([]);

    const project = path.join(tmp, "consumer");
    await mkdir(path.join(project, "contracts"), { recursive: true });
    await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
    // --ignore-scripts: the guardian's native SQLite binding would otherwise build from source, which a
    // consumer of the contracts alone does not need.
    const installed = await run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", path.join(tmp, manifest.filename)],
      project,
    );
    expect(installed.code, installed.stderr).to.equal(0);
    expect(existsSync(path.join(project, "node_modules", "failsafe", "contracts", "CircuitBreaker.sol"))).to.equal(true);
    expect(existsSync(path.join(project, "node_modules", "@openzeppelin", "contracts", "access", "AccessControl.sol"))).to.equal(true);

    // The consumer's Hardhat is this repo's (linked, as `npm link` would), so the test needs no download.
    await symlink(path.join(REPO_ROOT, "node_modules", "hardhat"), path.join(project, "node_modules", "hardhat"), "dir");
    await writeFile(path.join(project, "hardhat.config.js"), consumerHardhatConfig(path.dirname(require.resolve("solc/package.json"))));
    await writeFile(path.join(project, "contracts", "Treasury.sol"), CONSUMER_CONTRACT);
    const compiled = await run(process.execPath, [path.join(project, "node_modules", "hardhat", "internal", "cli", "cli.js"), "compile"], project);
    expect(compiled.code, compiled.stdout + compiled.stderr).to.equal(0);

    const artifact = JSON.parse(await readFile(path.join(project, "artifacts", "contracts", "Treasury.sol", "Treasury.json"), "utf8")) as {
      bytecode: string;
      abi: { name?: string }[];
    };
    expect(artifact.bytecode.length).to.be.greaterThan(2);
    const names = artifact.abi.map((entry) => entry.name);
    expect(names).to.include.members(["trip", "lift", "ratify", "setOutflowLimit", "isTripped", "fund", "pay"]);
    // The package's own artifacts are usable without compiling, e.g. to deploy the vault from a script.
    const vaultArtifact = JSON.parse(
      await readFile(path.join(project, "node_modules", "failsafe", "artifacts", "contracts", "PausableVault.sol", "PausableVault.json"), "utf8"),
    ) as { bytecode: string };
    expect(vaultArtifact.bytecode.length).to.be.greaterThan(2);
  });
});
