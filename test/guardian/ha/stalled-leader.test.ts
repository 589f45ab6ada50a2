import { expect } from "chai";
import { Client } from "pg";
import { createTestDatabase } from "../../support/postgres";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy";
import { waitFor } from "../support/guardian-harness";
import { startTripLab, type GuardProcess, type TripLab } from "../support/trip-lab";

const URL_ENV = "FAILSAFE_TEST_STALL_URL";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The leader is alive and renews its lease, but its node stops answering: it processes nothing. The liveness watch
 * finds it stalled (silent for the heartbeat while its node calls fail), it gives the lease up, and a standby whose
 * node serves the chain leads and trips the attack. Without that, a live-but-stuck leader would hold the chain.
 */
describe("a leader whose node fails hands its chain to a standby", function () {
  this.timeout(180_000);
  let lab: TripLab;
  let proxy: FaultProxy;
  let store: Client;
  let mining = true;
  let miner: Promise<void> | undefined;
  const guards: GuardProcess[] = [];

  before(async () => {
    lab = await startTripLab();
    proxy = await startFaultProxy(lab.anvil.url);
    process.env[URL_ENV] = await createTestDatabase("stall");
    store = new Client({ connectionString: process.env[URL_ENV] });
    store.on("error", () => undefined);
    await store.connect();
  });

  after(async () => {
    mining = false;
    await miner;
    await store?.end();
    await proxy?.stop();
    await lab?.stop();
    delete process.env[URL_ENV];
  });

  it("the stuck leader steps down within its heartbeat and the standby trips the attack", async () => {
    const start = await lab.head();
    const configOf = (name: string, rpc: string) =>
      lab.writeConfig({
        startBlock: start,
        rpc: [rpc],
        chain: { rpcTimeoutMs: 500, rpcMaxAttempts: 1, liveness: { heartbeatSeconds: 2, checkIntervalMs: 200 } },
        extra: { store: { postgres: { url: { env: URL_ENV }, leaseMs: 900 }, path: `${lab.dir}/${name}.sqlite` } },
      });
    const holder = async () => (await store.query<{ holder: string }>("SELECT holder FROM failsafe_leases WHERE expires_at > clock_timestamp()").catch(() => ({ rows: [] }))).rows[0]?.holder;
    // The first guardian reaches the chain through a proxy that will fail; it starts alone, so it leads.
    const stuck = lab.guard((await configOf("stuck", proxy.url)).file);
    guards.push(stuck);
    await waitFor("the first guardian leading", async () => ((await holder())?.split("/")[1] === String(stuck.child.pid) ? true : undefined), 60_000);
    const standby = lab.guard((await configOf("standby", lab.anvil.url)).file);
    guards.push(standby);
    miner = (async () => {
      while (mining) {
        await lab.mine().catch(() => undefined);
        await sleep(300);
      }
    })();
    await sleep(1_500);

    proxy.setPlan(() => ({ kind: "drop" }));
    const attack = await lab.attack();
    await waitFor("the standby to trip the attack", () => lab.bank.isTripped().then((t) => (t ? true : undefined)), 30_000).catch((err: Error) => {
      const tail = (g: GuardProcess) => g.log().filter((l) => (l.level as number) >= 40 || /elected|lease|unhealthy/.test(String(l.msg))).slice(-8).map((l) => `${l.msg}`);
      throw new Error(`${err.message}; stuck: ${JSON.stringify(tail(stuck))}; standby: ${JSON.stringify(tail(standby))}`);
    });
    expect((await holder())?.split("/")[1]).to.equal(String(standby.child.pid));
    expect(stuck.log().some((l) => l.msg === "leader unhealthy: giving the lease up so a standby takes over")).to.equal(true);
    expect(stuck.child.exitCode, "the stuck guardian keeps running as a standby").to.equal(null);
    const rows = await waitFor("the incident recorded as tripped", async () => {
      const { rows: found } = await store.query<{ status: string; record: string }>("SELECT status, record FROM incidents");
      return found.length === 1 && found[0].status === "tripped" ? found : undefined;
    }, 30_000);
    expect((JSON.parse(rows[0].record) as { findings: { txHash?: string }[] }).findings.some((f) => f.txHash === attack)).to.equal(true);
  });
});
