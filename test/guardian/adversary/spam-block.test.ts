import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { spamBlock } from "../../../scripts/scenarios/adaptive";
import { describeResult, type ScenarioResult } from "../../../scripts/scenarios/scenarios";
import type { Lab, Pacing } from "../../../scripts/scenarios/lab";

/**
 * One block of spam must never stop the guardian (issue 12, part 1). Blocks are paced by the guardian but a slot
 * lasts at most 4 s: a guardian stuck on the spam block lets the chain, and the attack, move on without it.
 */
const pacing: Pacing = { mode: "guardian", maxSlotMs: 4_000 };

function check(r: ScenarioResult): void {
  const facts = r.facts as { spamTxs: number; spamCommitted: boolean; degradedFindings: { block: number; evidence: Record<string, unknown> }[]; spamBlock: number; later: { ok: boolean }[]; maxLagBlocks: number };
  console.log(`      ${describeResult(r)}; spam block ${facts.spamTxs} txs, ${facts.degradedFindings.length ? `degraded: ${JSON.stringify(facts.degradedFindings[0].evidence)}` : "processed in full"}, max lag ${facts.maxLagBlocks} blocks`);
  expect(facts.spamCommitted, "the spam block is committed").to.equal(true);
  expect(r.blocksToTrip, "tripped within one block of the attack's own").to.be.at.most(1);
  expect(facts.later.map((a) => a.ok), "later attacks fail").to.deep.equal([false, false, false]);
  expect(r.savedPct).to.be.at.least(90);
}

/** A node without the `trace_` namespace (geth's shape): a JSON-RPC proxy in front of anvil that refuses trace_*. */
async function noParityProxy(lab: Lab): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: unknown; method: string } | { id: unknown; method: string }[];
      const list = Array.isArray(body) ? body : [body];
      const refused = (r: { id: unknown; method: string }) => r.method.startsWith("trace_");
      const forward = list.filter((r) => !refused(r));
      let answers: { id: unknown }[] = [];
      if (forward.length > 0) {
        const upstream = await fetch(lab.anvil.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(forward) });
        answers = (await upstream.json()) as { id: unknown }[];
      }
      const byId = new Map(answers.map((a) => [JSON.stringify(a.id), a]));
      const out = list.map((r) => (refused(r) ? { jsonrpc: "2.0", id: r.id, error: { code: -32601, message: `the method ${r.method} does not exist/is not available` } } : byId.get(JSON.stringify(r.id))));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(Array.isArray(body) ? out : out[0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("adaptive attacker: a block of spam before the attack", function () {
  this.timeout(180_000);

  it("500 reverted calls, then the attack two blocks later: tripped within 1 block, the spam block processed or degraded", async function () {
    check(await spamBlock("reverted", 500)({ pacing }));
  });

  it("1,000 cheap successful calls, then the attack two blocks later: tripped within 1 block", async function () {
    check(await spamBlock("cheap", 1000)({ pacing }));
  });

  it("on a node without trace_block: the spam block degrades to receipts and logs with a degraded-block finding, and the attack is still tripped", async function () {
    let proxy: Server | undefined;
    try {
      const r = await spamBlock("reverted", 500, async (lab) => {
        const p = await noParityProxy(lab);
        proxy = p.server;
        return { rpc: [p.url], blockDeadlineMs: 1_500 };
      })({ pacing });
      check(r);
      const degraded = r.facts.degradedFindings as { block: number; evidence: { transactions: number; untraced: number; attempts: string[] } }[];
      const spam = degraded.find((d) => d.block === r.facts.spamBlock);
      expect(spam, "degraded-block finding for the spam block").to.not.equal(undefined);
      expect(spam!.evidence.transactions).to.equal(500);
      expect(spam!.evidence.untraced).to.equal(500);
      expect(spam!.evidence.attempts.join(" | ")).to.match(/trace_block: not served/);
    } finally {
      proxy?.closeAllConnections();
      await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
    }
  });
});
