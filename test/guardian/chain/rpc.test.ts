import { expect } from "chai";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { CallBatch } from "../../../guardian/chain/call-batch";
import { RpcHttpError, RpcResponseError } from "../../../guardian/chain/errors";
import { GuardianMetrics } from "../../../guardian/ops/metrics";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy";

describe("HttpRpcClient", () => {
  let anvil: AnvilInstance;
  let proxy: FaultProxy;
  const proxies: FaultProxy[] = [];

  before(async () => {
    anvil = await startAnvil();
    proxy = await startFaultProxy(anvil.url);
  });
  beforeEach(() => {
    proxy.setPlan(() => ({ kind: "pass" }));
    for (const k of Object.keys(proxy.counts) as (keyof FaultProxy["counts"])[]) proxy.counts[k] = 0;
  });
  after(async () => {
    for (const p of proxies) await p.stop();
    await proxy?.stop();
    await anvil?.stop();
  });

  const client = (urls: string[], metrics = new GuardianMetrics(), maxAttempts = 4) =>
    new HttpRpcClient({ chainId: 31337, urls, backoffBaseMs: 1, backoffMaxMs: 5, timeoutMs: 2_000, maxAttempts, metrics });

  describe("request", () => {
    it("fails over to the next URL on a retryable error and counts the retry", async () => {
      const down = await startFaultProxy(anvil.url, () => ({ kind: "status", status: 503 }));
      proxies.push(down);
      const metrics = new GuardianMetrics();
      const rpc = client([down.url, proxy.url], metrics);
      expect(await rpc.request("eth_chainId", [])).to.equal("0x7a69");
      expect(await rpc.request("eth_chainId", []), "stays on the URL that works").to.equal("0x7a69");
      expect(down.counts.status).to.equal(1);
      expect((await metrics.rpcRetries.get()).values.map((v) => v.value)).to.deep.equal([1]);
    });

    it("does not retry what retrying cannot fix: a JSON-RPC error or a 401", async () => {
      const rpc = client([proxy.url]);
      let error: unknown;
      await rpc.request("eth_noSuchMethod", []).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(RpcResponseError);
      expect(proxy.counts.pass).to.equal(1);
      proxy.setPlan(() => ({ kind: "status", status: 401 }));
      await rpc.request("eth_chainId", []).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(RpcHttpError);
      expect((error as RpcHttpError).retryable).to.equal(false);
      expect(proxy.counts.status).to.equal(1);
    });

    it("gives up after maxAttempts with the last error", async () => {
      proxy.setPlan(() => ({ kind: "status", status: 429 }));
      let error: unknown;
      await client([proxy.url], new GuardianMetrics(), 3).request("eth_chainId", []).catch((e: unknown) => (error = e));
      expect((error as RpcHttpError).status).to.equal(429);
      expect(proxy.counts.status).to.equal(3);
    });

    it("sends calls made in the same tick as one batch", async () => {
      const rpc = client([proxy.url]);
      const bodies: string[] = [];
      proxy.setPlan((_n, body) => {
        bodies.push(body);
        return { kind: "pass" };
      });
      const [chainId, balance] = await Promise.all([
        rpc.request("eth_chainId", []),
        rpc.request("eth_getBalance", ["0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "latest"]),
      ]);
      expect(chainId).to.equal("0x7a69");
      expect(BigInt(balance as string)).to.be.greaterThan(0n);
      expect(bodies).to.have.length(1);
      expect(JSON.parse(bodies[0])).to.have.length(2);
    });
  });

  describe("batchSettled", () => {
    it("returns refused calls as errors in place, and falls back to single calls when batches are refused", async () => {
      const rpc = client([proxy.url]);
      const settled = await rpc.batchSettled([
        { method: "eth_chainId", params: [] },
        { method: "eth_noSuchMethod", params: [] },
      ]);
      expect(settled[0]).to.equal("0x7a69");
      expect(settled[1]).to.be.instanceOf(RpcResponseError);

      proxy.setPlan((_n, body) =>
        body.startsWith("[")
          ? { kind: "respond", status: 200, body: JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "batch requests are not supported" } }) }
          : { kind: "pass" },
      );
      const noBatch = client([proxy.url]);
      expect(await noBatch.batch([{ method: "eth_chainId", params: [] }, { method: "net_version", params: [] }])).to.deep.equal(["0x7a69", "31337"]);
      expect(await noBatch.batch([{ method: "eth_chainId", params: [] }, { method: "net_version", params: [] }])).to.deep.equal(["0x7a69", "31337"]);
      expect(proxy.counts.respond, "asked once, then remembered").to.equal(1);
    });
  });

  describe("CallBatch", () => {
    const recordBodies = (): string[] => {
      const bodies: string[] = [];
      proxy.setPlan((_n, body) => {
        bodies.push(body);
        return { kind: "pass" };
      });
      return bodies;
    };

    it("sends what several callers ask within one task as one batch; a refused call fails only its caller", async () => {
      const rpc = client([proxy.url]);
      const bodies = recordBodies();
      const batch = new CallBatch(rpc);
      const chainId = batch.request("eth_chainId", []);
      // A caller that starts after a few awaits (a detector's prefetch) still joins.
      const late = Promise.resolve()
        .then(() => undefined)
        .then(() => batch.request("net_version", []));
      const refused = batch.request("eth_noSuchMethod", []).catch((e: unknown) => e);
      expect(await chainId).to.equal("0x7a69");
      expect(await late).to.equal("31337");
      expect(await refused).to.be.instanceOf(RpcResponseError);
      expect(bodies).to.have.length(1);
      expect((JSON.parse(bodies[0]) as { method: string }[]).map((c) => c.method)).to.deep.equal(["eth_chainId", "eth_noSuchMethod", "net_version"]);

      // Once sent, calls go straight to the client: a follow-up never waits for a batch that has left.
      expect(await batch.request("eth_chainId", [])).to.equal("0x7a69");
      expect(bodies).to.have.length(2);
    });

    it("asks an identical call once, and every caller gets its answer", async () => {
      const rpc = client([proxy.url]);
      const bodies = recordBodies();
      const batch = new CallBatch(rpc);
      const params = ["0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "latest"];
      const [a, b, chainId] = await Promise.all([batch.request("eth_getBalance", params), batch.request("eth_getBalance", [...params]), batch.request("eth_chainId", [])]);
      expect(a).to.equal(b);
      expect(chainId).to.equal("0x7a69");
      expect((JSON.parse(bodies[0]) as { method: string }[]).map((c) => c.method)).to.deep.equal(["eth_getBalance", "eth_chainId"]);
    });

    it("keeps batches of different blocks apart, even when made in the same tick", async () => {
      const rpc = client([proxy.url]);
      const bodies = recordBodies();
      const [a, b] = [new CallBatch(rpc), new CallBatch(rpc)];
      await Promise.all([a.request("eth_chainId", []), a.request("net_version", []), b.request("eth_chainId", []), b.request("net_version", [])]);
      expect(bodies).to.have.length(2);
      for (const body of bodies) expect(JSON.parse(body)).to.have.length(2);
    });

    it("retries a retryable failure of the whole batch, and every caller gets the answer", async () => {
      const rpc = client([proxy.url]);
      let failed = false;
      proxy.setPlan(() => (failed ? { kind: "pass" } : ((failed = true), { kind: "status", status: 503 })));
      const batch = new CallBatch(rpc);
      expect(await Promise.all([batch.request("eth_chainId", []), batch.request("net_version", [])])).to.deep.equal(["0x7a69", "31337"]);
      expect(proxy.counts.status).to.equal(1);
    });
  });
});
