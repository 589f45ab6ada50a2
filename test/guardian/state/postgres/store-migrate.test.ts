import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createTestDatabase } from "../../../support/postgres";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../../../..");

describe("failsafe store migrate", function () {
  this.timeout(120_000);

  it("migrates a fresh PostgreSQL store once, then says it is up to date, never printing the password", async () => {
    const url = await createTestDatabase("migrate_cli");
    const dir = mkdtempSync(path.join(tmpdir(), "failsafe-migrate-"));
    const file = path.join(dir, "failsafe.yaml");
    writeFileSync(file, `chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\nstore:\n  postgres: { url: { env: FAILSAFE_TEST_MIGRATE_URL } }\n  path: ${dir}/local.sqlite\n`);
    const env = { ...process.env, FAILSAFE_TEST_MIGRATE_URL: url };
    const cli = (args: string[]) => run(process.execPath, [path.join(ROOT, "bin/failsafe.cjs"), ...args], { cwd: ROOT, env });
    const first = await cli(["store", "migrate", "--config", file]);
    expect(first.stdout).to.match(/schema version 0 -> 2 \(applied 1, 2\)/);
    const again = await cli(["store", "migrate", "--config", file]);
    expect(again.stdout).to.match(/schema version 2, up to date/);
    expect(first.stdout + first.stderr + again.stdout + again.stderr).to.not.include(new URL(url).password);
  });
});
