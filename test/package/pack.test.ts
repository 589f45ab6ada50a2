import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { REPO_ROOT } from "../helpers/hardhat-cli";
import { packAll, type PackedPackage } from "../../scripts/pack";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh npm project in `dir` with `tarball` installed from the file, its dependencies from the registry (cache first). */
async function freshProject(dir: string, tarball: string, extraArgs: string[] = []): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: path.basename(dir), version: "1.0.0", private: true }));
  const installed = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...extraArgs, tarball], dir);
  expect(installed.code, installed.stderr).to.equal(0);
}

/** What a consumer's Hardhat config needs on machines that cannot download solc: the repo's offline override. */
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

/**
 * A consumer's own contract, as docs/install.md tells contract developers to write one: two protected
 * operations and an emergency exit that the constructor exempts, so it stays open while tripped.
 */
const CONSUMER_CONTRACT = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {CircuitBreaker} from "@failsafe-eth/contracts/CircuitBreaker.sol";

contract Treasury is CircuitBreaker {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    mapping(address account => uint256) public balanceOf;

    constructor(IERC20 token_, address governance, address[] memory guardians) CircuitBreaker(governance, guardians, 1 days) {
        token = token_;
        _setOperationExempt(Treasury.emergencyExit.selector, true);
    }

    function deposit(uint256 amount) external {
        _requireOperationOpen(this.deposit.selector);
        token.safeTransferFrom(msg.sender, address(this), amount);
        _creditInflow(address(token), amount);
        balanceOf[msg.sender] += amount;
    }

    function withdraw(uint256 amount) external {
        _requireOperationOpen(this.withdraw.selector);
        if (_checkOutflow(address(token), amount)) {
            balanceOf[msg.sender] -= amount;
            token.safeTransfer(msg.sender, amount);
        }
    }

    /// Returns the caller's whole balance; exempt, so it works while the breaker is tripped.
    function emergencyExit() external {
        _requireOperationOpen(this.emergencyExit.selector);
        uint256 amount = balanceOf[msg.sender];
        if (_checkOutflow(address(token), amount)) {
            balanceOf[msg.sender] = 0;
            token.safeTransfer(msg.sender, amount);
        }
    }
}
`;

/** A forge test of the consumer without forge-std: cheatcodes through their fixed address. */
const CONSUMER_FORGE_TEST = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Treasury} from "../src/Treasury.sol";

interface Vm {
    function prank(address sender) external;
}

contract Token is ERC20 {
    constructor() ERC20("Token", "TOK") {
        _mint(msg.sender, 1000);
    }
}

contract TreasuryTest {
    Vm private constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address private constant GOVERNANCE = address(0xA11CE);
    address private constant GUARDIAN = address(0xB0B);
    Token private token;
    Treasury private treasury;

    function setUp() public {
        token = new Token();
        address[] memory guardians = new address[](1);
        guardians[0] = GUARDIAN;
        treasury = new Treasury(token, GOVERNANCE, guardians);
        token.approve(address(treasury), 1000);
        treasury.deposit(600);
    }

    function test_TripPausesBothOperationsButNotTheEmergencyExit() public {
        vm.prank(GUARDIAN);
        treasury.trip(keccak256("incident"));
        (bool ok,) = address(treasury).call(abi.encodeCall(Treasury.withdraw, (1)));
        require(!ok, "withdraw must be paused");
        (ok,) = address(treasury).call(abi.encodeCall(Treasury.deposit, (1)));
        require(!ok, "deposit must be paused");
        require(treasury.isOperationExempt(Treasury.emergencyExit.selector), "exit exempt from the constructor");
        treasury.emergencyExit();
        require(token.balanceOf(address(this)) == 1000, "the exit returned the whole deposit");
    }
}
`;

describe("the npm packages (@failsafe-eth/contracts, @failsafe-eth/guardian)", function () {
  this.timeout(180_000);
  let tmp: string;
  let contracts: PackedPackage;
  let guardian: PackedPackage;

  before(async function () {
    tmp = await mkdtemp(path.join(os.tmpdir(), "failsafe-pack-"));
    // Builds (hardhat compile, tsc) and packs both, as `npm run pack:packages` does.
    ({ contracts, guardian } = await packAll(path.join(tmp, "tarballs")));
  });

  after(async function () {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("the contracts package holds the modules, ABIs, artifacts and typings, and depends only on OpenZeppelin", () => {
    expect(contracts.name).to.equal("@failsafe-eth/contracts");
    expect(contracts.files).to.include.members([
      "package.json",
      "README.md",
      "CircuitBreaker.sol",
      "PausableVault.sol",
      "TimelockedRecovery.sol",
      "interfaces/ICircuitBreaker.sol",
      "abi/CircuitBreaker.json",
      "artifacts/PausableVault.json",
      "types/index.js",
      "types/index.d.ts",
      "types/factories/PausableVault__factory.js",
    ]);
    expect(contracts.files.filter((f) => f.startsWith("mocks/") || f.startsWith("test/"))).to.deep.equal([]);
    expect(Object.keys(contracts.dependencies).every((name) => name.startsWith("@openzeppelin/"))).to.equal(true);
    expect(contracts.dependencies).to.have.property("@openzeppelin/contracts");
  });

  it("a fresh Hardhat project installs the contracts tarball and compiles a consumer with two protected operations and an exempt exit", async () => {
    const project = path.join(tmp, "hardhat-consumer");
    await freshProject(project, contracts.tarball);
    const installed = path.join(project, "node_modules", "@failsafe-eth", "contracts");
    expect(existsSync(path.join(installed, "CircuitBreaker.sol"))).to.equal(true);
    expect(existsSync(path.join(project, "node_modules", "@openzeppelin", "contracts", "access", "AccessControl.sol"))).to.equal(true);

    // The consumer's Hardhat is this repo's (linked, as `npm link` would), so the test downloads nothing.
    await symlink(path.join(REPO_ROOT, "node_modules", "hardhat"), path.join(project, "node_modules", "hardhat"), "dir");
    await writeFile(path.join(project, "hardhat.config.js"), consumerHardhatConfig(path.dirname(require.resolve("solc/package.json"))));
    await mkdir(path.join(project, "contracts"));
    await writeFile(path.join(project, "contracts", "Treasury.sol"), CONSUMER_CONTRACT);
    const compiled = await run(process.execPath, [path.join(project, "node_modules", "hardhat", "internal", "cli", "cli.js"), "compile"], project);
    expect(compiled.code, compiled.stdout + compiled.stderr).to.equal(0);

    const artifact = JSON.parse(await readFile(path.join(project, "artifacts", "contracts", "Treasury.sol", "Treasury.json"), "utf8")) as {
      bytecode: string;
      abi: { name?: string }[];
    };
    expect(artifact.bytecode.length).to.be.greaterThan(2);
    expect(artifact.abi.map((entry) => entry.name)).to.include.members(["trip", "lift", "setOperationExempt", "isOperationExempt", "deposit", "withdraw", "emergencyExit"]);
    // The package's artifacts deploy without compiling, and its typings load with the consumer's ethers.
    const vault = JSON.parse(await readFile(path.join(installed, "artifacts", "PausableVault.json"), "utf8")) as { bytecode: string; abi: unknown[] };
    expect(vault.bytecode.length).to.be.greaterThan(2);
    await symlink(path.join(REPO_ROOT, "node_modules", "ethers"), path.join(project, "node_modules", "ethers"), "dir");
    const typings = await run(process.execPath, ["-e", `const t = require("@failsafe-eth/contracts"); console.log(Object.keys(t).filter((k) => k.endsWith("__factory")).join(","))`], project);
    expect(typings.code, typings.stderr).to.equal(0);
    expect(typings.stdout.trim().split(",")).to.include.members(["CircuitBreaker__factory", "PausableVault__factory", "TimelockedRecovery__factory"]);
  });

  it("a fresh forge project with remappings builds the consumer, and its test trips the breaker and still exits", async () => {
    const project = path.join(tmp, "forge-consumer");
    await freshProject(project, contracts.tarball);
    await writeFile(
      path.join(project, "foundry.toml"),
      `[profile.default]
src = "src"
test = "test"
out = "out"
libs = ["node_modules"]
solc = ${JSON.stringify(path.join(REPO_ROOT, "scripts", "solc-forge.cjs"))}
offline = true
evm_version = "cancun"
remappings = ["@failsafe-eth/contracts/=node_modules/@failsafe-eth/contracts/", "@openzeppelin/=node_modules/@openzeppelin/"]
`,
    );
    await mkdir(path.join(project, "src"));
    await mkdir(path.join(project, "test"));
    await writeFile(path.join(project, "src", "Treasury.sol"), CONSUMER_CONTRACT);
    await writeFile(path.join(project, "test", "Treasury.t.sol"), CONSUMER_FORGE_TEST);
    const forge = path.join(REPO_ROOT, "node_modules", ".bin", "forge");
    const tested = await run(forge, ["test", "--color", "never"], project);
    expect(tested.code, tested.stdout + tested.stderr).to.equal(0);
    expect(tested.stdout).to.match(/\[PASS\] test_TripPausesBothOperationsButNotTheEmergencyExit\(\)/);
    expect(tested.stdout).to.match(/1 tests? passed, 0 failed/);
  });

  it("the guardian package installs into a fresh folder and its failsafe bin runs with no tsx and no devDependencies", async () => {
    expect(guardian.name).to.equal("@failsafe-eth/guardian");
    expect(guardian.files).to.include.members(["bin/failsafe.cjs", "dist/guardian/cli.js", "dist/guardian/cli.d.ts", "dist/guardian/guardian.d.ts", "examples/failsafe.example.yaml"]);
    expect(guardian.files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).to.deep.equal([]);
    expect(guardian.dependencies).to.include.keys("ethers", "commander", "ws", "better-sqlite3");

    const project = path.join(tmp, "guardian-consumer");
    // --ignore-scripts: better-sqlite3 would build its native binding from source (a minute here); the
    // commands run below do not open a store.
    await freshProject(project, guardian.tarball, ["--ignore-scripts"]);
    const modules = readdirSync(path.join(project, "node_modules"));
    for (const devOnly of ["tsx", "typescript", "ts-node", "hardhat", "esbuild", "solc", "mocha"]) expect(modules, devOnly).to.not.include(devOnly);

    // The installed bin, as `npx failsafe` runs it, with NODE_PATH cleared so nothing resolves from the repo.
    const bin = path.join(project, "node_modules", ".bin", "failsafe");
    const env = { ...process.env, NODE_PATH: "", NODE_OPTIONS: "" };
    const version = await run(bin, ["--version"], project, env);
    expect(version.code, version.stderr).to.equal(0);
    expect(version.stdout).to.equal(`${guardian.version}\n`);
    const help = await run(bin, ["--help"], project, env);
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.match(/^Usage: failsafe \[options\] \[command\]/);
    expect(help.stdout).to.match(/^ {2}guard /m);
    // A command that loads the config schema, every detector, ethers and the TypeChain factories.
    const example = path.join(project, "node_modules", "@failsafe-eth", "guardian", "examples", "failsafe.example.yaml");
    const check = await run(bin, ["config", "check", example], project, env);
    expect(check.code, check.stderr).to.equal(0);
    expect(check.stdout).to.contain("failsafe.example.yaml: ok");
    const usage = await run(bin, ["guard", "--bogus"], project, env);
    expect(usage.code).to.equal(2);
  });
});
