/**
 * Builds the two npm packages from this repository and packs each into a tarball:
 *
 *   @failsafe-eth/contracts  the Solidity modules (contracts/ without mocks/ and test/), their ABIs and
 *                            Hardhat-style artifacts, and TypeChain (ethers v6) typings compiled to JS.
 *                            Depends only on the OpenZeppelin packages the sources import.
 *   @failsafe-eth/guardian   the guardian and its `failsafe` CLI, compiled to JavaScript (no tsx at run
 *                            time), with every package its compiled code requires declared.
 *
 * The root package.json stays the private development root (one lock, `npm ci` unchanged); the two
 * manifests are written here, at pack time, from what the build contains: the OpenZeppelin packages the
 * .sol files import and the packages the compiled JavaScript requires, each at the root's version range.
 * A package required but not in the root's `dependencies` fails the pack, so nothing from
 * devDependencies can be needed at run time.
 *
 *   npx tsx scripts/pack.ts [destination]     (default dist/packages; prints the tarballs as JSON)
 */
import { execFileSync } from "node:child_process";
import { builtinModules } from "node:module";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { shippedContractSources } from "./shipped-contracts";

const ROOT = path.resolve(__dirname, "..");
const SCOPE = "@failsafe-eth";

interface RootManifest {
  version: string;
  license: string;
  engines?: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

export interface PackedPackage {
  name: string;
  version: string;
  tarball: string;
  files: string[];
  dependencies: Record<string, string>;
}

function rootManifest(): RootManifest {
  return JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as RootManifest;
}

function walk(dir: string, keep: (rel: string) => boolean, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = path.relative(base, full).split(path.sep).join("/");
    if (entry.isDirectory()) out.push(...walk(full, keep, base));
    else if (keep(rel)) out.push(rel);
  }
  return out.sort();
}

function copy(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** `@scope/name/sub/path` or `name/sub/path` → the package name. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Each package at the root's `dependencies` range; a package the root does not depend on is an error. */
function declared(packages: Iterable<string>, root: RootManifest, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of [...packages].sort()) {
    const range = root.dependencies[name];
    if (range) out[name] = range;
    else missing.push(root.devDependencies[name] ? `${name} (only a devDependency)` : name);
  }
  if (missing.length > 0) throw new Error(`${what} needs ${missing.join(", ")}: add to the root package.json "dependencies"`);
  return out;
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Compiles contracts (artifacts + typechain) and the guardian (dist/), as `npm ci`'s prepare does. */
function buildRepo(): void {
  run(process.execPath, [path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js"), "compile", "--quiet"], ROOT);
  run(process.execPath, [path.join(ROOT, "scripts", "ci", "build-guardian.cjs")], ROOT);
}

function npmPack(stage: string, destination: string): { filename: string; files: string[] } {
  const out = run("npm", ["pack", "--json", "--pack-destination", destination], stage);
  const [manifest] = JSON.parse(out.slice(out.indexOf("["))) as [{ filename: string; files: { path: string }[] }];
  return { filename: path.join(destination, manifest.filename), files: manifest.files.map((f) => f.path).sort() };
}

const CONTRACTS_README = `# @failsafe-eth/contracts

Failsafe's Solidity modules: an inheritable circuit breaker (\`CircuitBreaker.sol\`), a pausable ERC-4626
vault (\`PausableVault.sol\`) and timelocked recovery (\`TimelockedRecovery.sol\`), with their interfaces.
Pragma \`^0.8.24\`; compile with \`evmVersion: "cancun"\` (transient storage).

    import {CircuitBreaker} from "@failsafe-eth/contracts/CircuitBreaker.sol";

Also inside: \`abi/<Contract>.json\` (ABI arrays), \`artifacts/<Contract>.json\` (ABI + bytecode) and
TypeChain ethers-v6 typings (\`require("@failsafe-eth/contracts")\`, needs \`ethers\` 6).
Hardhat and Foundry setup: docs/install.md in the Failsafe repository.
`;

const GUARDIAN_README = `# @failsafe-eth/guardian

The Failsafe guardian and its \`failsafe\` command: follows chains reorg-safely, detects attacks on
contracts protected by @failsafe-eth/contracts, and trips their breaker through private bundles.

    npm install @failsafe-eth/guardian
    npx failsafe --help
    npx failsafe config check node_modules/@failsafe-eth/guardian/examples/failsafe.example.yaml

Node >= 20. Setup and configuration: docs/install.md in the Failsafe repository.
`;

/** Stages and packs @failsafe-eth/contracts. */
async function packContracts(root: RootManifest, stage: string, destination: string): Promise<PackedPackage> {
  const sources = shippedContractSources();
  const imported = new Set<string>();
  for (const rel of sources) {
    const text = readFileSync(path.join(ROOT, "contracts", rel), "utf8");
    copy(path.join(ROOT, "contracts", rel), path.join(stage, rel));
    for (const m of text.matchAll(/^\s*import\s+(?:[^"']*from\s+)?["']([^"']+)["']/gm)) {
      if (m[1].startsWith("@")) imported.add(packageOf(m[1]));
      else if (!m[1].startsWith(".")) throw new Error(`contracts/${rel}: import "${m[1]}" is neither relative nor a package`);
    }
  }

  // ABIs and artifacts of every contract the shipped files define, from Hardhat's build.
  const artifactFiles: string[] = [];
  for (const rel of sources) {
    const dir = path.join(ROOT, "artifacts", "contracts", rel);
    if (!existsSync(dir)) throw new Error(`no artifacts for contracts/${rel}; run npx hardhat compile`);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json") && !f.endsWith(".dbg.json"))) {
      const a = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Record<string, unknown>;
      const artifact = {
        _format: a._format,
        contractName: a.contractName,
        sourceName: `${SCOPE}/contracts/${rel}`,
        abi: a.abi,
        bytecode: a.bytecode,
        deployedBytecode: a.deployedBytecode,
        linkReferences: a.linkReferences,
        deployedLinkReferences: a.deployedLinkReferences,
      };
      writeJson(path.join(stage, "abi", file), a.abi);
      writeJson(path.join(stage, "artifacts", file), artifact);
      artifactFiles.push(path.join(stage, "artifacts", file));
    }
  }

  // TypeChain ethers-v6 typings over exactly those artifacts, compiled to .js + .d.ts. The staging folder
  // is inside the repo so tsc resolves `ethers` from its node_modules.
  const { runTypeChain } = (await import("typechain")) as typeof import("typechain");
  const typesSrc = path.join(stage, "types-src");
  await runTypeChain({ cwd: stage, filesToProcess: artifactFiles, allFiles: artifactFiles, outDir: typesSrc, target: "ethers-v6" });
  run(
    process.execPath,
    [
      require.resolve("typescript/bin/tsc"),
      "--outDir", path.join(stage, "types"), "--rootDir", typesSrc, "--declaration", "--module", "commonjs",
      "--target", "es2022", "--moduleResolution", "node", "--esModuleInterop", "--skipLibCheck", "--strict",
      path.join(typesSrc, "index.ts"),
    ],
    stage,
  );
  rmSync(typesSrc, { recursive: true, force: true });

  const dependencies = declared(imported, root, `${SCOPE}/contracts (Solidity imports)`);
  const manifest = {
    name: `${SCOPE}/contracts`,
    version: root.version,
    description: "Failsafe's Solidity modules: inheritable circuit breaker, pausable ERC-4626 vault, timelocked recovery",
    license: root.license,
    keywords: ["solidity", "circuit-breaker", "erc4626", "security", "openzeppelin"],
    main: "types/index.js",
    types: "types/index.d.ts",
    exports: {
      ".": { types: "./types/index.d.ts", default: "./types/index.js" },
      "./package.json": "./package.json",
      "./*": "./*",
    },
    files: ["**/*.sol", "abi/", "artifacts/", "types/", "README.md"],
    dependencies,
    // Only the typings need ethers; Solidity consumers never load them.
    peerDependencies: { ethers: root.dependencies.ethers },
    peerDependenciesMeta: { ethers: { optional: true } },
  };
  writeJson(path.join(stage, "package.json"), manifest);
  writeFileSync(path.join(stage, "README.md"), CONTRACTS_README);
  const packed = npmPack(stage, destination);
  return { name: manifest.name, version: manifest.version, tarball: packed.filename, files: packed.files, dependencies };
}

/** Stages and packs @failsafe-eth/guardian. */
function packGuardian(root: RootManifest, stage: string, destination: string): PackedPackage {
  const dist = path.join(ROOT, "dist");
  const compiled = walk(dist, (rel) => (rel.startsWith("guardian/") || rel.startsWith("typechain-types/")) && !rel.endsWith(".tsbuildinfo"));
  const required = new Set<string>();
  const builtins = new Set(builtinModules);
  for (const rel of compiled) {
    copy(path.join(dist, rel), path.join(stage, "dist", rel));
    if (!rel.endsWith(".js")) continue;
    for (const m of readFileSync(path.join(dist, rel), "utf8").matchAll(/\brequire\("([^"]+)"\)/g)) {
      const spec = m[1];
      if (spec.startsWith(".") || spec.startsWith("node:") || builtins.has(packageOf(spec))) continue;
      required.add(packageOf(spec));
    }
  }
  copy(path.join(ROOT, "bin", "failsafe.cjs"), path.join(stage, "bin", "failsafe.cjs"));
  copy(path.join(dist, "guardian", "config", "failsafe.example.yaml"), path.join(stage, "examples", "failsafe.example.yaml"));

  const dependencies = declared(required, root, `${SCOPE}/guardian (compiled JavaScript)`);
  const manifest = {
    name: `${SCOPE}/guardian`,
    version: root.version,
    description: "Failsafe guardian: follow chains reorg-safely, detect attacks, trip the breaker through private bundles",
    license: root.license,
    engines: root.engines,
    keywords: ["ethereum", "security", "monitoring", "circuit-breaker", "flashbots"],
    bin: { failsafe: "bin/failsafe.cjs" },
    main: "dist/guardian/guardian.js",
    types: "dist/guardian/guardian.d.ts",
    exports: {
      ".": { types: "./dist/guardian/guardian.d.ts", default: "./dist/guardian/guardian.js" },
      "./cli": { types: "./dist/guardian/cli.d.ts", default: "./dist/guardian/cli.js" },
      "./typechain": { types: "./dist/typechain-types/index.d.ts", default: "./dist/typechain-types/index.js" },
      "./package.json": "./package.json",
    },
    files: ["dist/", "bin/", "examples/", "README.md"],
    dependencies,
  };
  writeJson(path.join(stage, "package.json"), manifest);
  writeFileSync(path.join(stage, "README.md"), GUARDIAN_README);
  const packed = npmPack(stage, destination);
  return { name: manifest.name, version: manifest.version, tarball: packed.filename, files: packed.files, dependencies };
}

/** Builds the repo, then packs both packages into `destination`. */
export async function packAll(destination: string): Promise<{ contracts: PackedPackage; guardian: PackedPackage }> {
  buildRepo();
  const root = rootManifest();
  const stages = path.join(ROOT, "dist", "packages", "stage");
  rmSync(stages, { recursive: true, force: true });
  mkdirSync(destination, { recursive: true });
  const contracts = await packContracts(root, path.join(stages, "contracts"), destination);
  const guardian = packGuardian(root, path.join(stages, "guardian"), destination);
  return { contracts, guardian };
}

if (require.main === module) {
  const destination = path.resolve(process.argv[2] ?? path.join(ROOT, "dist", "packages"));
  packAll(destination).then(
    (packed) => {
      for (const p of [packed.contracts, packed.guardian]) {
        process.stdout.write(`${p.name}@${p.version}  ${path.relative(process.cwd(), p.tarball)}  (${p.files.length} files; dependencies: ${Object.keys(p.dependencies).join(", ")})\n`);
      }
      process.stdout.write(`${JSON.stringify({ contracts: packed.contracts.tarball, guardian: packed.guardian.tarball })}\n`);
    },
    (err: unknown) => {
      const e = err as { message?: string; stderr?: string };
      process.stderr.write(`pack: ${e.message ?? String(err)}\n${e.stderr ?? ""}`);
      process.exitCode = 1;
    },
  );
}
