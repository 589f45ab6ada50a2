import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { waitFor } from "../support/guardian-harness";
import { exited } from "../support/trip-lab";

const ROOT = path.resolve(__dirname, "../../..");

/**
 * The log disk is full (`/dev/full` answers every write with ENOSPC): the guardian keeps following the chain and a
 * routine SIGTERM still stops it cleanly. Before, the first failed log write left the shutdown waiting on a flush
 * that never finished.
 */
describe("failsafe guard with a full log disk", function () {
  this.timeout(60_000);
  let anvil: AnvilInstance;
  let dir: string;

  before(async () => {
    anvil = await startAnvil();
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-logfull-"));
  });
  after(async () => {
    await anvil?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("follows the chain, says once on stderr that lines are dropped, and exits 0 on SIGTERM", async () => {
    await fetch(anvil.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_mine", params: ["0x5"] }) });
    const dbFile = path.join(dir, "guardian.sqlite");
    const config = path.join(dir, "failsafe.yaml");
    writeFileSync(config, `chains:\n  - id: 31337\n    rpc: [${anvil.url}]\n    pollIntervalMs: 100\n    startBlock: 0\nstore:\n  path: ${dbFile}\nmetrics:\n  enabled: false\nlogging:\n  level: debug\n  destination: /dev/full\n`);
    const stderrFile = path.join(dir, "stderr.txt");
    const child = spawn(process.execPath, [path.join(ROOT, "bin/failsafe.cjs"), "guard", "--config", config], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    try {
      await waitFor("the guardian at block 5", () => {
        if (child.exitCode !== null) throw new Error(`failsafe guard exited with ${child.exitCode}: ${stderr}`);
        if (!existsSync(dbFile)) return false;
        const db = new Database(dbFile, { readonly: true });
        try {
          const row = db.prepare("SELECT number FROM guardian_cursor WHERE chain_id = 31337").get() as { number: number } | undefined;
          return (row?.number ?? -1) >= 5;
        } catch {
          return false;
        } finally {
          db.close();
        }
      }, 30_000);
      child.kill("SIGTERM");
      const outcome = await Promise.race([exited(child), new Promise<"hung">((r) => setTimeout(() => r("hung"), 15_000))]);
      expect(outcome, "SIGTERM stops it").to.not.equal("hung");
      expect((outcome as { code: number | null }).code).to.equal(0);
      expect(stderr.match(/cannot write the log to \/dev\/full \(ENOSPC\)/g), "said once").to.have.length(1);
      writeFileSync(stderrFile, stderr);
      expect(readFileSync(stderrFile, "utf8")).to.not.match(/at .*\.ts:\d+/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
