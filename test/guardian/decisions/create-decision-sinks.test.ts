import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { parseConfig } from "../../../guardian/config/load-config";
import { createDecisionSinks, createTripPath } from "../../../guardian/decisions/create-decision-sinks";
import { anvilKey } from "../../../guardian/ops/anvil";
import { GuardianMetrics } from "../../../guardian/ops/metrics";
import { openDatabase } from "../../../guardian/state/database";
import { sinkFactories } from "../../../guardian/sinks";

const VAULT = "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9";
const TIMELOCK = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512";

function yaml(policy: string, responders = "  trip:\n    type: flashbots-trip\n    relays: [{ url: \"http://127.0.0.1:1\" }]\n    signer: { keyEnv: FAILSAFE_TEST_GUARDIAN_KEY }\n") {
  return `chains:
  - id: 31337
    rpc: ["http://127.0.0.1:1"]
contracts:
  - name: Vault
    chain: 31337
    address: "${VAULT}"
    abi: PausableVault
responders:
${responders}policy:
${policy}`;
}

describe("createDecisionSinks", function () {
  let dir: string;
  const cwd = process.cwd();
  const metrics = new GuardianMetrics();
  const logger = pino({ level: "silent" });

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-policy-"));
    process.chdir(dir);
    process.env.FAILSAFE_TEST_GUARDIAN_KEY = anvilKey(1);
  });

  after(function () {
    process.chdir(cwd);
    delete process.env.FAILSAFE_TEST_GUARDIAN_KEY;
    rmSync(dir, { recursive: true, force: true });
  });

  async function build(text: string) {
    const loaded = parseConfig(text, path.join(dir, "guardian.yaml"));
    return createTripPath({ loaded, db: openDatabase(":memory:"), logger, metrics });
  }

  it("resolves policy.breakers against contracts and responders and puts the decision sink first", async function () {
    const text = yaml(`  breakers:\n    - contract: Vault\n      timelock: "${TIMELOCK}"\n`);
    const tripPath = await build(text);
    expect(tripPath.breakers).to.have.length(1);
    expect(tripPath.breakers[0]).to.include({ chainId: 31337, contract: VAULT, contractName: "Vault", breaker: VAULT, timelock: TIMELOCK });
    expect(tripPath.breakers[0].responder.name).to.equal("trip");

    const sinks = await createDecisionSinks({ loaded: parseConfig(text, path.join(dir, "guardian.yaml")), db: openDatabase(":memory:"), logger, metrics });
    expect(sinks.map((s) => s.name)).to.deep.equal(["decisions"]);
    expect(sinkFactories[0]).to.equal(createDecisionSinks);
    await sinks[0].close?.();
  });

  it("names the config path of a breaker whose contract is unknown", async function () {
    await build(yaml("  breakers:\n    - contract: Treasury\n")).then(
      () => expect.fail("built"),
      (err: Error) => expect(err.message).to.equal(`${path.join(dir, "guardian.yaml")}: policy.breakers[0].contract: no contract named "Treasury" (known: Vault)`),
    );
  });

  it("asks which responder to use when several can trip", async function () {
    const two = "  a:\n    type: flashbots-trip\n    relays: [{ url: \"http://127.0.0.1:1\" }]\n    signer: { keyEnv: FAILSAFE_TEST_GUARDIAN_KEY }\n  b:\n    type: flashbots-trip\n    relays: [{ url: \"http://127.0.0.1:2\" }]\n    signer: { keyEnv: FAILSAFE_TEST_GUARDIAN_KEY }\n";
    await build(yaml("  breakers:\n    - contract: Vault\n", two)).then(
      () => expect.fail("built"),
      (err: Error) => expect(err.message).to.match(/policy\.breakers\[0\]\.responder: name one of: a, b$/),
    );
    const chosen = await build(yaml("  breakers:\n    - contract: Vault\n      responder: b\n", two));
    expect(chosen.breakers[0].responder.name).to.equal("b");
  });

  it("stops at startup when the guardian key is missing", async function () {
    const text = yaml("  breakers:\n    - contract: Vault\n").replace("FAILSAFE_TEST_GUARDIAN_KEY", "FAILSAFE_TEST_MISSING_KEY");
    await build(text).then(
      () => expect.fail("built"),
      (err: Error) => expect(err.message).to.equal("environment variable FAILSAFE_TEST_MISSING_KEY (guardian key) is not set"),
    );
  });

  it("validates the policy section with the rest of the config", function () {
    expect(() => parseConfig(yaml("  tripSeverity: severe\n"), "guardian.yaml")).to.throw(/policy\.tripSeverity/);
  });
});
