import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigError, loadConfig, parseConfig } from "../../../guardian/config/load-config";
import { PausableVault__factory, TimelockedRecovery__factory } from "../../../typechain-types";

const BANK = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, "test.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  describe("parseConfig", () => {
    it("accepts the shipped example and fills defaults", () => {
      const loaded = loadConfig(path.join(__dirname, "../../../guardian/config/failsafe.example.yaml"));
      const [chain] = loaded.config.chains;
      expect(chain.id).to.equal(31337);
      expect(loaded.config.metrics.host).to.equal("127.0.0.1");
      // The example watches what the deploy guide deploys on a fresh anvil (deploy/modules/FailsafeLocal.ts).
      const [vault, timelock] = loaded.contracts.get(31337)!;
      expect(vault.address).to.equal("0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9".toLowerCase());
      expect(vault.abi).to.deep.equal(PausableVault__factory.abi);
      expect(timelock.abi).to.deep.equal(TimelockedRecovery__factory.abi);
      expect(loaded.config.reporting?.tokens.map((t) => t.name)).to.deep.equal(["fsUSD", "fsVLT"]);
    });

    it("names the path of a bad RPC URL", () => {
      expect(issuesOf(`chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545, "ftp://x"]\n`)).to.deep.equal(["chains[0].rpc[1]: expected an http(s) URL"]);
    });

    it("reads chains[].mempool, and refuses to subscribe without the chain's ws URL", () => {
      const polled = parseConfig(`chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\n    mempool: { mode: poll }\n`, "t.yaml");
      expect(polled.config.chains[0].mempool).to.deep.equal({ mode: "poll", pollIntervalMs: 250 });
      expect(parseConfig(`chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\n`, "t.yaml").config.chains[0].mempool).to.equal(undefined);
      expect(issuesOf(`chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\n    mempool: {}\n`)).to.deep.equal([
        `chains[0].mempool.mode: "subscribe" needs the chain's ws URL; set chains[].ws or use mode: poll`,
      ]);
      expect(issuesOf(`chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\n    mempool: { mode: poll, pollIntervalMs: 5 }\n`)[0]).to.match(/^chains\[0\]\.mempool\.pollIntervalMs: /);
    });

    it("resolves { env } references and reports unset ones by path", () => {
      process.env.FAILSAFE_TEST_RPC = "http://127.0.0.1:9999/v3/secret";
      const loaded = parseConfig(`chains:\n  - id: 1\n    rpc: [{ env: FAILSAFE_TEST_RPC }]\n`, "t.yaml");
      expect(loaded.config.chains[0].rpc).to.deep.equal(["http://127.0.0.1:9999/v3/secret"]);
      delete process.env.FAILSAFE_TEST_RPC;
      expect(issuesOf(`chains:\n  - id: 1\n    rpc: [{ env: FAILSAFE_TEST_RPC }]\n`)).to.deep.equal([
        "chains[0].rpc[0]: environment variable FAILSAFE_TEST_RPC is not set",
      ]);
    });

    it("refuses literal secrets anywhere in the file", () => {
      const issues = issuesOf(`chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\nresponders:\n  trip: { type: x, privateKey: "0x1234" }\n`);
      expect(issues).to.include("responders.trip.privateKey: secrets must come from the environment: write { env: VARIABLE_NAME }");
    });

    it("checks cross references, detector parameters and plugin types together", () => {
      const issues = issuesOf(`chains:
  - id: 1
    rpc: [http://127.0.0.1:8545]
    detectors:
      reorg: { maxDepth: -1 }
contracts:
  - name: bank
    chain: 2
    address: "${BANK}"
    abi: VulnerableBank
    detectors:
      reentrancy: { severity: huge }
      reorg: true
      no-such-detector: true
notifiers:
  ops: { type: carrier-pigeon }
`);
      expect(issues).to.have.length(6);
      expect(issues[0]).to.match(/^chains\[0\]\.detectors\.reorg\.maxDepth: /);
      expect(issues).to.include("contracts[0].chain: no chain with id 2 in chains (known: 1)");
      expect(issues.find((i) => i.startsWith("contracts[0].detectors.reentrancy.severity: "))).to.match(/received 'huge'/);
      expect(issues).to.include('contracts[0].detectors.reorg: detector "reorg" is chain-wide; enable it under chains[].detectors');
      expect(issues.find((i) => i.startsWith("contracts[0].detectors.no-such-detector: "))).to.match(/unknown detector .*known: .*reentrancy/);
      expect(issues.find((i) => i.startsWith("notifiers.ops.type: "))).to.match(/unknown notifier type "carrier-pigeon"/);
    });

    it("reports unknown keys, duplicate chains and bad addresses", () => {
      const issues = issuesOf(`chains:
  - { id: 1, rpc: [http://127.0.0.1:8545], colour: blue }
`);
      expect(issues).to.deep.equal(["chains[0]: Unrecognized key(s) in object: 'colour'"]);
      expect(issuesOf(`chains:\n  - { id: 1, rpc: [http://a] }\n  - { id: 1, rpc: [http://b] }\n`)).to.deep.equal([
        "chains[1].id: chain 1 is configured twice",
      ]);
      expect(issuesOf(`chains:\n  - { id: 1, rpc: [http://a] }\ncontracts:\n  - { name: x, chain: 1, address: "0x12", abi: VulnerableBank }\n`)).to.deep.equal([
        "contracts[0].address: expected a 0x-prefixed 20-byte hex address",
      ]);
    });

    it("resolves ABIs from TypeChain names and JSON files, and names the contract whose ABI is missing", () => {
      const dir = mkdtempSync(path.join(tmpdir(), "failsafe-config-"));
      writeFileSync(path.join(dir, "erc20.json"), JSON.stringify({ abi: [{ type: "function", name: "totalSupply", inputs: [], outputs: [{ type: "uint256" }], stateMutability: "view" }] }));
      const text = `chains:\n  - { id: 1, rpc: [http://a] }\ncontracts:\n  - { name: token, chain: 1, address: "${BANK}", abi: ./erc20.json }\n`;
      const loaded = parseConfig(text, path.join(dir, "failsafe.yaml"));
      expect(loaded.contracts.get(1)![0].abi).to.have.length(1);
      const issues = issuesOf(`chains:\n  - { id: 1, rpc: [http://a] }\ncontracts:\n  - { name: x, chain: 1, address: "${BANK}", abi: NoSuchContract }\n`);
      expect(issues[0]).to.match(/^contracts\[0\]\.abi: no TypeChain contract named "NoSuchContract" \(known: .*VulnerableBank/);
    });

    it("reports YAML syntax errors with their line", () => {
      expect(issuesOf("chains: [\n")[0]).to.match(/^line 2, column 1: /);
    });
  });
});
