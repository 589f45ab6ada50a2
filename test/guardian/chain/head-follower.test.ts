import { expect } from "chai";
import { readFileSync } from "node:fs";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { deployBankScenario, writeGuardianConfig, type BankScenario } from "../support/bank-scenario";
import { startHarness, waitFor, type Harness } from "../support/guardian-harness";

/** The slice of the `ws` package's server used here (it has no bundled typings). */
interface WsServer {
  on(event: "connection", cb: (socket: { on(e: "message", cb: (d: Buffer) => void): void; send(s: string): void }) => void): void;
  address(): { port: number };
  close(cb: () => void): void;
  clients: Set<{ terminate(): void }>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { WebSocketServer } = require("ws") as { WebSocketServer: new (o: { host: string; port: number }, cb: () => void) => WsServer };

/** A websocket endpoint whose newHeads notifications the test writes by hand: gaps, repeats, disorder. */
async function startHeadsServer(): Promise<{ url: string; notify(head: { number: number; hash: string; parentHash: string }): void; stop(): Promise<void> }> {
  const sockets: { send(s: string): void }[] = [];
  const server = await new Promise<WsServer>((resolve) => {
    const s: WsServer = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  server.on("connection", (socket) => {
    socket.on("message", (data) => {
      const msg = JSON.parse(data.toString()) as { id: number; method: string };
      if (msg.method === "eth_subscribe") {
        socket.send(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: "0x1" }));
        sockets.push(socket);
      }
    });
  });
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    notify(head) {
      const result = { number: `0x${head.number.toString(16)}`, hash: head.hash, parentHash: head.parentHash, timestamp: "0x0" };
      for (const s of sockets) s.send(JSON.stringify({ jsonrpc: "2.0", method: "eth_subscription", params: { subscription: "0x1", result } }));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}

describe("HeadFollower", function () {
  this.timeout(60_000);
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  let harness: Harness;
  let second: Harness | undefined;
  let heads: Awaited<ReturnType<typeof startHeadsServer>> | undefined;

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(10n ** 19n);
  });
  after(async () => {
    await second?.stop();
    await heads?.stop();
    await harness?.stop();
    await anvil?.stop();
  });

  describe("run", () => {
    it("follows the head through eth_subscribe newHeads when a websocket is configured", async () => {
      // Polling every 10 minutes: only the subscription can bring these blocks in within the test.
      const cfg = writeGuardianConfig({ anvil, bank: scenario.bank, ws: true, pollIntervalMs: 600_000 });
      harness = await startHarness(cfg.file, cfg.dbFile);
      const reached = (n: number) => async () => ((await harness.guardian.store.cursor(31337))?.number ?? -1) >= n;
      await waitFor("the initial catch-up", reached(await scenario.provider.getBlockNumber()));
      await waitFor("the subscription", () => readFileSync(harness.logFile, "utf8").includes('"subscribed to newHeads"'));

      const attack = await scenario.attack();
      await scenario.mine(3);
      const head = await scenario.provider.getBlockNumber();
      await waitFor("blocks announced by newHeads", reached(head), 20_000);
      expect(harness.committed.slice(-4)).to.deep.equal([head - 3, head - 2, head - 1, head]);
      expect(harness.sink.findings.map((f) => f.txHash)).to.include(attack.toLowerCase());
    });

    it("counts missed, duplicate and out-of-order notifications, and still commits every block once", async () => {
      heads = await startHeadsServer();
      const cfg = writeGuardianConfig({ anvil: { url: anvil.url, wsUrl: heads.url }, bank: scenario.bank, ws: true, pollIntervalMs: 600_000 });
      second = await startHarness(cfg.file, cfg.dbFile);
      const h = second;
      const reached = (n: number) => async () => ((await h.guardian.store.cursor(31337))?.number ?? -1) >= n;
      const start = await scenario.provider.getBlockNumber();
      await waitFor("the initial catch-up", reached(start));
      await waitFor("the subscription", () => readFileSync(h.logFile, "utf8").includes('"subscribed to newHeads"'));
      const header = async (n: number) => {
        const b = await scenario.provider.getBlock(n);
        return { number: n, hash: b!.hash!, parentHash: b!.parentHash };
      };
      heads.notify(await header(start));
      await scenario.mine(3);
      heads.notify(await header(start + 3)); // skipped start+1 and start+2
      heads.notify(await header(start + 3)); // again
      heads.notify(await header(start + 1)); // late
      await waitFor("the backfilled blocks", reached(start + 3), 20_000);

      const anomalies = await waitFor("all three notifications", async () => {
        const values = (await h.metrics.headEvents.get()).values.map((v) => [v.labels.kind, v.value]);
        return values.length === 3 ? values : undefined;
      });
      expect(anomalies).to.have.deep.members([["missed", 1], ["duplicate", 1], ["out_of_order", 1]]);
      expect(h.committed.filter((n) => n > start)).to.deep.equal([start + 1, start + 2, start + 3]);
    });
  });
});
