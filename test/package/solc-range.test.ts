import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../helpers/hardhat-cli";
import { shippedContractSources } from "../../scripts/shipped-contracts";

/**
 * The shipped modules say `pragma solidity ^0.8.24`: a consumer may compile them with any 0.8.x from
 * 0.8.24 up. This compiles every shipped file (scripts/shipped-contracts.ts: the top of contracts/, interfaces/, upgradeable/, utils/) with the lowest
 * (solc-0.8.24) and the highest 0.8.x the registry serves (solc-latest), both solc-js under npm aliases,
 * through standard JSON with imports read from node_modules, as a consumer's toolchain would.
 */
interface SolcJs {
  version(): string;
  compile(input: string, callbacks: { import(path: string): { contents: string } | { error: string } }): string;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string; sourceLocation?: { file: string } }[];
  contracts?: Record<string, Record<string, { evm: { bytecode: { object: string } } }>>;
}

const CONTRACTS = path.join(REPO_ROOT, "contracts");

/** Imports resolve as a consumer's would: relative ones inside contracts/, package ones from node_modules. */
function findImport(importPath: string): { contents: string } | { error: string } {
  for (const base of [CONTRACTS, path.join(REPO_ROOT, "node_modules")]) {
    const file = path.resolve(base, importPath);
    if (file.startsWith(base + path.sep) && existsSync(file)) return { contents: readFileSync(file, "utf8") };
  }
  return { error: `File not found: ${importPath}` };
}

function compile(solc: SolcJs, sources: string[]): SolcOutput {
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(sources.map((rel) => [rel, { content: readFileSync(path.join(CONTRACTS, rel), "utf8") }])),
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { "*": { "*": ["evm.bytecode.object"] } },
    },
  };
  return JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
}

describe("solc range of the shipped modules (pragma ^0.8.24)", function () {
  this.timeout(240_000);
  const sources = shippedContractSources();

  it("every shipped file declares pragma solidity ^0.8.24", () => {
    expect(sources).to.include.members(["CircuitBreaker.sol", "PausableVault.sol", "TimelockedRecovery.sol", "interfaces/ICircuitBreaker.sol"]);
    for (const rel of sources) {
      expect(readFileSync(path.join(CONTRACTS, rel), "utf8"), rel).to.match(/^pragma solidity \^0\.8\.24;$/m);
    }
  });

  for (const [alias, expected] of [
    ["solc-0.8.24", /^0\.8\.24\+/],
    ["solc-latest", /^0\.8\.\d+\+/],
  ] as [string, RegExp][]) {
    it(`compiles with ${alias} (the ${alias === "solc-latest" ? "highest 0.8.x on the registry" : "lowest the pragma allows"})`, () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const solc = require(alias) as SolcJs;
      expect(solc.version()).to.match(expected);
      const output = compile(solc, sources);
      const errors = (output.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage);
      expect(errors, `${alias} ${solc.version()}`).to.deep.equal([]);
      // Every concrete shipped contract produced bytecode.
      for (const name of ["PausableVault", "TimelockedRecovery"]) {
        const file = `${name}.sol`;
        expect(output.contracts?.[file]?.[name]?.evm.bytecode.object.length ?? 0, `${alias}: ${file}`).to.be.greaterThan(0);
      }
    });
  }
});
