import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import Ajv from "ajv";
import { parse } from "yaml";

// The configuration reference and the editors' JSON Schema are generated from the zod schemas; these tests keep
// them from drifting and check that the JSON Schema says what the loader says about real files.
const root = join(__dirname, "../..");

describe("docs: configuration reference", () => {
  it("docs/config-reference.md and docs/failsafe.schema.json match the schemas (npm run docs:config)", () => {
    const run = spawnSync(process.execPath, [require.resolve("tsx/cli"), "scripts/docs/config-reference.ts", "--check"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(run.stderr, run.stderr).to.equal("");
    expect(run.status).to.equal(0);
  });

  const schema = JSON.parse(readFileSync(join(root, "docs/failsafe.schema.json"), "utf8"));
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

  it("the JSON Schema accepts the shipped example config", () => {
    for (const file of ["guardian/config/failsafe.example.yaml"]) {
      const doc = parse(readFileSync(join(root, file), "utf8"));
      expect(validate(doc), `${file}: ${JSON.stringify(validate.errors)}`).to.equal(true);
    }
  });

  it("the JSON Schema rejects what the loader rejects: unknown keys, an unknown detector, bad detector params", () => {
    const base = parse(readFileSync(join(root, "guardian/config/failsafe.example.yaml"), "utf8"));
    const withKey = structuredClone(base);
    withKey.chains[0].privateKey = "0x01";
    expect(validate(withKey)).to.equal(false);
    const unknownDetector = structuredClone(base);
    unknownDetector.contracts[0].detectors = { "no-such-detector": true };
    expect(validate(unknownDetector)).to.equal(false);
    const badParams = structuredClone(base);
    badParams.chains[0].detectors = { reorg: { maxDepth: "deep" } };
    expect(validate(badParams)).to.equal(false);
  });

  it("the reference documents every registered detector, notifier and responder", () => {
    const page = readFileSync(join(root, "docs/config-reference.md"), "utf8");
    const { detectorRegistry } = require("../../guardian/detectors/registry");
    const { notifierRegistry } = require("../../guardian/notifiers/registry");
    for (const d of detectorRegistry) expect(page).to.include(`### \`${d.id}\``);
    for (const n of notifierRegistry) expect(page).to.include(`### \`type: ${n.type}\``);
  });
});
