import { expect } from "chai";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
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
});
