import { expect } from "chai";
import pino from "pino";
import type { RpcClient } from "../../../guardian/chain/types";
import type { BlockContext, TxContext } from "../../../guardian/context/types";
import { findDetector } from "../../../guardian/detectors/registry";
import type { Detector } from "../../../guardian/detectors/types";

const BANK = "0x00000000000000000000000000000000000000ba";
const hex = (n: number, bytes: number) => `0x${n.toString(16).padStart(bytes * 2, "0")}`;

function block(n: number, senders: number[]): BlockContext {
  const transactions: TxContext[] = senders.map((s, i) => ({
    hash: hex(n * 100_000 + i, 32),
    index: i,
    from: hex(0x100000 + s, 20),
    to: BANK,
    value: 0n,
    input: "0x",
    nonce: 0,
    gasPrice: 1n,
    status: 1,
    gasUsed: 21_000n,
    logs: [],
    trace: null,
    touched: [BANK],
  }));
  return { chainId: 31337, number: n, hash: hex(n + 1, 32), parentHash: hex(n, 32), timestamp: n * 12, transactions };
}

function detector(params: Record<string, unknown>): Detector {
  const def = findDetector("active-accounts")!;
  return def.create(def.params.parse(params), { chainId: 31337, rpc: undefined as unknown as RpcClient, logger: pino({ level: "silent" }), contracts: [{ name: "bank", address: BANK, abi: [] }] });
}

/** The state as the store keeps it: entries by key (insertion order is not state). */
const canonical = (d: Detector) => JSON.stringify(Object.entries(d.saveState!() as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));

const baselinesOf = (d: Detector) => Object.keys(d.saveState!() as Record<string, unknown>).filter((k) => k.startsWith("baseline:")).length;

/**
 * A spammer who rotates through fresh senders made active-accounts keep one baseline per sender forever (RSS grew
 * about 48 MB per 50k senders). The state is bounded now: baselines under the floor go, then the lowest rates past
 * `maxAccounts`; the detector still fires on a burst, and a reorg still rewinds the state exactly.
 */
describe("active-accounts: per-account state is bounded", () => {
  it("keeps at most maxAccounts baselines under a flood of distinct senders, and one-off senders leave no state", async () => {
    const d = detector({ windowBlocks: 10, warmupBlocks: 0, maxAccounts: 300, baselineHalfLifeBlocks: 50 });
    let sender = 0;
    // 1,500 regulars, each active every few blocks (baselines above the floor), then 20,000 one-off senders.
    for (let n = 1; n <= 60; n++) await d.onBlock(block(n, Array.from({ length: 100 }, (_, i) => ((n * 100 + i) % 1_500))));
    expect(baselinesOf(d), "regulars past the bound are evicted").to.be.at.most(300);
    for (let n = 61; n <= 260; n++) await d.onBlock(block(n, Array.from({ length: 100 }, () => 10_000 + sender++)));
    expect(baselinesOf(d)).to.be.at.most(300);
    const entries = Object.keys(d.saveState!() as Record<string, unknown>).length;
    expect(entries, "state entries stay bounded (baselines + window blocks + meta)").to.be.below(300 + 10 + 64 + 2 + 50);
  });

  it("still fires on a burst from one account after the flood", async () => {
    const d = detector({ windowBlocks: 10, warmupBlocks: 0, maxAccounts: 100, factor: 3, minCount: 5 });
    let sender = 0;
    for (let n = 1; n <= 100; n++) await d.onBlock(block(n, Array.from({ length: 50 }, () => sender++)));
    const burst = Array.from({ length: 8 }, () => 7_777_777);
    const findings = await d.onBlock(block(101, burst));
    expect(findings.map((f) => f.evidence.account)).to.deep.equal([hex(0x100000 + 7_777_777, 20)]);
  });

  it("an eviction is undone exactly by a reorg's rewind", async () => {
    const d = detector({ windowBlocks: 10, warmupBlocks: 0, maxAccounts: 50, baselineHalfLifeBlocks: 20 });
    for (let n = 1; n <= 29; n++) await d.onBlock(block(n, Array.from({ length: 60 }, (_, i) => (n * 7 + i) % 200)));
    const before = canonical(d);
    // Block 30 is a multiple of the window: the sweep runs in it.
    await d.onBlock(block(30, Array.from({ length: 60 }, (_, i) => 500 + i)));
    expect(canonical(d)).to.not.equal(before);
    d.rewind!(29);
    expect(canonical(d)).to.equal(before);
  });
});
