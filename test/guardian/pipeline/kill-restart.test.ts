import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { waitFor } from "../support/guardian-harness";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy";

const ROOT = path.resolve(__dirname, "../../..");
/** Windowed detectors: their state must be restored exactly, or sums and rates come out different. */
const WINDOWED = `      outflow-spike:
        windowBlocks: 10
        assets: [{ asset: native, maxAmount: "2000000000000000000" }]
      active-accounts: { windowBlocks: 6, factor: 2, minCount: 3, warmupBlocks: 0, baselineHalfLifeBlocks: 50 }
`;

function guard(configFile: string, logFile: string): ChildProcess {
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, [path.join(ROOT, "bin/failsafe.cjs"), "guard", "--config", configFile], {
    cwd: ROOT,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Reads the guardian's database the way an operator would, while the guardian may be writing it. */
function readStore(dbFile: string): { cursor?: number; findings: { id: string; finding: string; retracted: number | null }[] } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const cursor = db.prepare("SELECT number FROM guardian_cursor WHERE chain_id = 31337").get() as { number: number } | undefined;
    const findings = db.prepare("SELECT id, finding, retracted_at AS retracted FROM guardian_findings ORDER BY id").all() as {
      id: string;
      finding: string;
      retracted: number | null;
    }[];
    return { cursor: cursor?.number, findings };
  } finally {
    db.close();
  }
}

function cursorOf(dbFile: string): number | undefined {
  try {
    return readStore(dbFile).cursor;
  } catch {
    return undefined; // not created yet
  }
}

describe("failsafe guard across kill -9", function () {
  this.timeout(180_000);
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  let head: number;
  let slow: FaultProxy;
  const children: ChildProcess[] = [];

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(200n * 10n ** 18n);
    // Traffic with findings spread over the range, including windowed detectors whose state must survive.
    for (let i = 0; i < 150; i++) {
      if (i % 9 === 4) await scenario.attack({ reentries: 2 });
      else if (i % 13 === 6) await scenario.attack({ minProfit: 10n ** 30n });
      else await scenario.deposit(10n ** 17n, i % 3);
    }
    head = await scenario.provider.getBlockNumber();
    // The interrupted run goes through a proxy that slows every answer, so the kills land mid-range.
    slow = await startFaultProxy(anvil.url, () => ({ kind: "delay", ms: 30 }));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await slow?.stop();
    await anvil?.stop();
  });

  async function runToHead(configFile: string, dbFile: string, logFile: string): Promise<void> {
    const child = guard(configFile, logFile);
    children.push(child);
    await waitFor("the guardian to reach the head", () => {
      if (child.exitCode !== null) throw new Error(`failsafe guard exited with ${child.exitCode}; see ${logFile}`);
      return cursorOf(dbFile) === head;
    }, 90_000);
    child.kill("SIGTERM");
    const { code } = await exited(child);
    expect(code, "graceful exit on SIGTERM").to.equal(0);
  }

  it("resumes with the same findings as an uninterrupted run, with no block missed or counted twice", async () => {
    const straight = writeGuardianConfig({ anvil, bank: scenario.bank, bankDetectors: WINDOWED });
    const interrupted = writeGuardianConfig({ anvil, rpcUrls: [slow.url], bank: scenario.bank, bankDetectors: WINDOWED });

    await runToHead(straight.file, straight.dbFile, path.join(straight.dir, "guard.log"));
    const expected = readStore(straight.dbFile).findings;
    expect(expected.length, "the range has findings").to.be.greaterThan(20);
    const detectors = new Set(expected.map((f) => (JSON.parse(f.finding) as { detectorId: string }).detectorId));
    expect([...detectors].sort()).to.include.members(["reentrancy", "outflow-spike", "active-accounts"]);

    const logFile = path.join(interrupted.dir, "guard.log");
    const killPoints: number[] = [];
    for (const fraction of [0.25, 0.6]) {
      const child = guard(interrupted.file, logFile);
      children.push(child);
      const target = Math.floor(head * fraction);
      killPoints.push(await waitFor(`cursor past ${target}`, () => {
        const c = cursorOf(interrupted.dbFile);
        return c !== undefined && c >= target ? c : undefined;
      }, 90_000));
      child.kill("SIGKILL");
      const { signal } = await exited(child);
      expect(signal).to.equal("SIGKILL");
    }
    const afterKills = cursorOf(interrupted.dbFile)!;
    expect(killPoints[1], "the restart resumed and made progress").to.be.greaterThan(killPoints[0]);
    expect(afterKills, "killed before the end of the range").to.be.lessThan(head);
    await runToHead(interrupted.file, interrupted.dbFile, logFile);

    const actual = readStore(interrupted.dbFile).findings;
    expect(actual.map((f) => f.id)).to.deep.equal(expected.map((f) => f.id));
    expect(actual.map((f) => f.finding)).to.deep.equal(expected.map((f) => f.finding));
  });
});
