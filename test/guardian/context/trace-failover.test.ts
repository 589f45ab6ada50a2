import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { JsonRpcProvider, Wallet, parseEther } from "ethers";
import { VulnerableBank__factory } from "../../../typechain-types";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { BlockContextBuilder } from "../../../guardian/context/build-block-context";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";

const CHAIN_ID = 31337;

/** A node that answers everything but never answers a block trace: the slow node the guardian must fail over. */
async function stallingProxy(upstream: string): Promise<{ url: string; server: Server; stalled: string[] }> {
  const stalled: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = JSON.parse(text) as { method: string } | { method: string }[];
      const methods = (Array.isArray(body) ? body : [body]).map((r) => r.method);
      if (methods.some((m) => m.startsWith("debug_traceBlock") || m === "trace_block")) {
        stalled.push(...methods);
        return; // never answered
      }
      const upstreamRes = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: text });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(await upstreamRes.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, stalled };
}

describe("BlockContextBuilder: a node that stalls on block traces", function () {
  this.timeout(60_000);
  let anvil: AnvilInstance;
  let proxy: Awaited<ReturnType<typeof stallingProxy>> | undefined;

  before(async function () {
    anvil = await startAnvil();
  });

  after(async function () {
    proxy?.server.closeAllConnections();
    await new Promise<void>((resolve) => (proxy ? proxy.server.close(() => resolve()) : resolve()));
    await anvil?.stop();
  });

  it("is failed over: the block it stalled on degrades within its deadline, the next block is traced in full by the next node", async function () {
    const provider = new JsonRpcProvider(anvil.url, CHAIN_ID, { staticNetwork: true, cacheTimeout: -1 });
    const owner = new Wallet(anvilKey(0), provider);
    const bank = await new VulnerableBank__factory(owner).deploy();
    await bank.waitForDeployment();
    const first = await (await bank.deposit({ value: parseEther("1") })).wait();
    const second = await (await bank.deposit({ value: parseEther("2") })).wait();
    provider.destroy();
    proxy = await stallingProxy(anvil.url);

    const client = (url: string) => new HttpRpcClient({ chainId: CHAIN_ID, urls: [url], timeoutMs: 800, maxAttempts: 1 });
    const builder = new BlockContextBuilder(client(anvil.url), [await bank.getAddress()], "callTracer", { deadlineMs: 800, traceRpc: [client(proxy.url), client(anvil.url)] });

    const stalledOn = await builder.build({ number: first!.blockNumber, hash: first!.blockHash });
    expect(proxy.stalled, "the slow node was asked once").to.deep.equal(["debug_traceBlockByHash"]);
    expect(stalledOn.degraded?.attempts[0]).to.equal("debug_traceBlockByHash: no answer within 800 ms; failing over to the next node");
    // Seen from its receipt (the bank is its target), without a call tree.
    expect(stalledOn.transactions.map((t) => [t.hash, t.trace])).to.deep.equal([[first!.hash.toLowerCase(), null]]);

    const next = await builder.build({ number: second!.blockNumber, hash: second!.blockHash });
    expect(proxy.stalled, "not asked again").to.have.length(1);
    expect(next.degraded).to.equal(undefined);
    expect(next.transactions[0].trace?.to).to.equal((await bank.getAddress()).toLowerCase());
  });
});
