import { expect } from "chai";
import { readFileSync } from "node:fs";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { startHarness, waitFor, type Harness } from "../support/guardian-harness";
import { startFaultProxy, type Fault, type FaultProxy } from "../support/fault-proxy";

/** Every few requests something goes wrong, in every way a flaky provider goes wrong. */
function flakyPlan(n: number): Fault {
  if (n % 17 === 0) return { kind: "delay", ms: 1_500 }; // past the 1 s rpcTimeoutMs: a timeout
  if (n % 7 === 1) return { kind: "drop" };
  if (n % 7 === 3) return { kind: "status", status: 429 };
  if (n % 7 === 5) return { kind: "malformed" };
  if (n % 11 === 0) return { kind: "status", status: 503 };
  if (n % 5 === 0) return { kind: "delay", ms: 150 };
  return { kind: "pass" };
}

describe("guardian behind a faulty RPC", function () {
  this.timeout(120_000);
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  let proxy: FaultProxy;
  let flaky: Harness;
  let clean: Harness;

  const head = async () => scenario.provider.getBlockNumber();
  const reached = (h: Harness, n: number) => async () => ((await h.guardian.store.cursor(31337))?.number ?? -1) >= n;

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(100n * 10n ** 18n);
    for (let i = 0; i < 30; i++) {
      if (i % 6 === 2) await scenario.attack({ reentries: 2 });
      else await scenario.deposit(10n ** 16n, i % 3);
    }
    proxy = await startFaultProxy(anvil.url, flakyPlan);
  });
  after(async () => {
    await flaky?.stop();
    await clean?.stop();
    await proxy?.stop();
    await anvil?.stop();
  });

  it("keeps going through drops, delays, timeouts, 429, 5xx and malformed JSON, never skips a block, and logs its retries", async () => {
    const flakyCfg = writeGuardianConfig({ anvil, rpcUrls: [proxy.url], bank: scenario.bank, rpcTimeoutMs: 1_000 });
    flaky = await startHarness(flakyCfg.file, flakyCfg.dbFile);
    await waitFor("catch-up through the faulty proxy", reached(flaky, await head()), 90_000);

    // Keep following the head while the faults go on.
    for (let i = 0; i < 6; i++) await (i % 2 === 0 ? scenario.attack({ reentries: 1 }) : scenario.deposit(10n ** 16n));
    const finalHead = await head();
    await waitFor("following the head through the faulty proxy", reached(flaky, finalHead), 60_000);

    for (const kind of ["drop", "status", "malformed", "delay"] as const) expect(proxy.counts[kind], `${kind} faults injected`).to.be.greaterThan(0);

    expect(flaky.committed, "every block exactly once, in order").to.deep.equal(Array.from({ length: finalHead + 1 }, (_, i) => i));

    const cleanCfg = writeGuardianConfig({ anvil, bank: scenario.bank });
    clean = await startHarness(cleanCfg.file, cleanCfg.dbFile);
    await waitFor("the clean guardian", reached(clean, finalHead));
    expect((await flaky.guardian.store.findings(31337)).map((f) => f.id)).to.deep.equal((await clean.guardian.store.findings(31337)).map((f) => f.id));
    expect((await flaky.guardian.store.findings(31337)).length).to.be.greaterThan(5);

    const retries = readFileSync(flaky.logFile, "utf8")
      .split("\n")
      .filter((l) => l.includes('"rpc request failed; retrying"'))
      .map((l) => JSON.parse(l) as { attempt: number; error: { type: string } });
    const kinds = new Set(retries.map((r) => r.error.type));
    expect([...kinds]).to.include.members(["RpcNetworkError", "RpcHttpError", "RpcMalformedResponseError", "RpcTimeoutError"]);
    const retryMetric = await flaky.metrics.rpcRetries.get();
    expect(retryMetric.values.reduce((s, v) => s + v.value, 0)).to.equal(retries.length);
  });
});
