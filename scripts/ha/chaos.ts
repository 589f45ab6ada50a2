/**
 * Three `failsafe guard` processes on one PostgreSQL store follow anvil (blocks built by the local relay every
 * `blockMs`), and a scripted reentrancy attack runs once per round while the leader is killed (SIGKILL) at a random
 * point of it: before the attack's block is committed, after the trip bundle is sent, while an alert is being
 * delivered, or at a random instant. One round pauses the leader (SIGSTOP) instead and wakes it after a standby took
 * over. What must hold, in the units that matter: one `Tripped` per attack, one incident per trip, each alert
 * delivered (a retry of the same alert id is absorbed by the receiver, a second alert id is a duplicate), and every
 * attack's block processed once by the shared cursor. Used by test/guardian/ha/chaos.test.ts and `npm run bench:ha`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "pg";
import { NonceManager, Wallet, parseEther } from "ethers";
import { anvilKey } from "../../guardian/ops/anvil";
import { exited, startTripLab, type GuardProcess, type TripLab } from "../../test/guardian/support/trip-lab";
import { prng } from "../../test/support/prng";

export type KillPoint = "before-commit" | "after-bundle" | "during-alert" | "random" | "sigstop";

export interface ChaosOptions {
  /** PostgreSQL URL of an empty (or chaos-only) database. */
  url: string;
  /** Rounds with a kill -9 of the leader; one SIGSTOP round is added. */
  kills: number;
  blockMs: number;
  leaseMs: number;
  /** Alert delivery claims: a delivery whose guardian died is taken over after this long. */
  claimMs: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface RoundResult {
  round: number;
  point: KillPoint;
  killedPid: number;
  /** From the signal to the next leader's lease (a higher fencing token). */
  failoverMs: number;
  tripped: boolean;
  trippedEvents: number;
  blocksToTrip: number;
}

export interface ChaosResult {
  rounds: RoundResult[];
  kills: number;
  failoverP50Ms: number;
  failoverMaxMs: number;
  missedTrips: number;
  duplicateTrips: number;
  duplicateIncidents: number;
  duplicateAlerts: number;
  undeliveredAlerts: number;
  /** Each alert never received: its kind, id and deliveries (status/attempts/last error). */
  undelivered: string[];
  missedBlocks: number;
  /** Incidents and alerts as PostgreSQL holds them, for the caller's own checks. */
  incidents: number;
  alertIds: number;
}

const URL_ENV = "FAILSAFE_CHAOS_POSTGRES_URL";
const SECRET_ENV = "FAILSAFE_CHAOS_WEBHOOK_SECRET";


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && (v as unknown) !== false) return v;
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** The webhook the guardians alert: records every request's alert id; can hold requests so a kill lands mid-delivery. */
interface Receiver {
  url: string;
  received: { alertId: string; kind: string; incidentId?: string; at: number }[];
  /** Resolves with the next request, which is held (no answer) until `release`. */
  holdNext(): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Receiver["received"] = [];
  let holding: ((arrived: void) => void) | undefined;
  const held: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const alertId = String(req.headers["x-failsafe-alert-id"] ?? "");
      let body: { kind?: string; incidentId?: string } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {
        // recorded with its id alone
      }
      received.push({ alertId, kind: body.kind ?? "?", ...(body.incidentId ? { incidentId: body.incidentId } : {}), at: Date.now() });
      if (holding) {
        const arrived = holding;
        holding = undefined;
        held.push(res);
        arrived();
        return;
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/failsafe`,
    received,
    holdNext: () => new Promise<void>((resolve) => (holding = resolve)),
    release() {
      holding = undefined;
      for (const res of held.splice(0)) if (!res.writableEnded) res.writeHead(204).end();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Guardian {
  name: string;
  file: string;
  process: GuardProcess;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const random = prng(options.seed ?? 0xc4a05);
  const lab: TripLab = await startTripLab();
  const receiver = await startReceiver();
  const pg = new Client({ connectionString: options.url });
  await pg.connect();
  process.env[URL_ENV] = options.url;
  process.env[SECRET_ENV] = "chaos-webhook-secret-0123456789abcdef0123";
  const guardians: Guardian[] = [];
  let mining = true;
  let paused = false;
  const miner = (async () => {
    while (mining) {
      if (!paused) await lab.mine().catch(() => undefined);
      await sleep(options.blockMs);
    }
  })();
  const depositor = new NonceManager(new Wallet(anvilKey(5), lab.provider));
  try {
    const start = await lab.head();
    for (const name of ["g1", "g2", "g3"]) {
      const cfg = await lab.writeConfig({
        startBlock: start,
        extra: {
          store: { postgres: { url: { env: URL_ENV }, leaseMs: options.leaseMs, deliveryClaimMs: options.claimMs }, path: `${lab.dir}/${name}.sqlite` },
          notifiers: { chaos: { type: "webhook", url: receiver.url, secret: { env: SECRET_ENV } } },
          alerts: { cooldownSeconds: 0, retry: { maxAttempts: 20, initialDelayMs: 100, maxDelayMs: 1000 }, routes: [{ notify: ["chaos"] }] },
        },
      });
      guardians.push({ name, file: cfg.file, process: lab.guard(cfg.file) });
    }
    const lease = async () => {
      const { rows } = await pg.query<{ holder: string; token: string }>("SELECT holder, token FROM failsafe_leases WHERE scope = 'chain:31337' AND expires_at > clock_timestamp()").catch(() => ({ rows: [] as { holder: string; token: string }[] }));
      return rows[0] ? { holder: rows[0].holder, token: BigInt(rows[0].token) } : undefined;
    };
    const leaderOf = (holder: string) => guardians.find((g) => holder.split("/")[1] === String(g.process.child.pid));
    const cursor = async () => {
      const { rows } = await pg.query<{ number: string }>("SELECT number FROM guardian_cursor WHERE chain_id = 31337").catch(() => ({ rows: [] as { number: string }[] }));
      return rows[0] ? Number(rows[0].number) : undefined;
    };
    log(`three guardians started at block ${start}`);
    await until("a leader following the chain", async () => ((await lease()) && ((await cursor()) ?? -1) >= start ? true : undefined), 60_000);
    log("a leader follows the chain");

    const points: KillPoint[] = [];
    const kinds: KillPoint[] = ["before-commit", "after-bundle", "during-alert", "random"];
    for (let i = 0; i < options.kills; i++) points.push(kinds[i % kinds.length]);
    points.splice(Math.floor(points.length / 2), 0, "sigstop");
    const rounds: RoundResult[] = [];
    const attacks: string[] = [];

    for (const [round, point] of points.entries()) {
      // A fresh round: the breaker lifted by governance, the trip cooldown over, money in the bank.
      paused = true;
      await sleep(options.blockMs);
      await lab.resetBreaker();
      const deposit = await lab.bank.connect(depositor).deposit({ value: parseEther("5") });
      await lab.mine();
      await deposit.wait();
      paused = false;
      log(`round ${round + 1}: breaker reset`);
      const current = await until("a leader", lease, 30_000);
      const leader = await until("the leader's process", () => leaderOf(current.holder), 5_000);
      const roundStart = await lab.head();

      const attack = await lab.attack();
      attacks.push(attack);
      let signalledAt = 0;
      const hit = (signal: NodeJS.Signals) => {
        signalledAt = Date.now();
        leader.process.child.kill(signal);
      };
      if (point === "before-commit") {
        // The attack's block is not built yet: the leader dies before it could see it, let alone commit it.
        hit("SIGKILL");
      } else if (point === "after-bundle") {
        await until("the leader's trip bundle at the relay", async () => ((await lab.pendingBundles()) > 0 || (await lab.bank.isTripped()) ? true : undefined), 20_000, 5);
        hit("SIGKILL");
      } else if (point === "during-alert") {
        const arrived = receiver.holdNext();
        await until("an alert delivery in flight", () => arrived.then(() => true), 20_000);
        hit("SIGKILL");
        receiver.release();
      } else if (point === "random") {
        await sleep(Math.floor(random() * 3 * options.blockMs));
        hit("SIGKILL");
      } else {
        await sleep(Math.floor(random() * options.blockMs));
        hit("SIGSTOP");
      }
      const next = await until("a new leader after the signal", async () => {
        const l = await lease();
        return l && l.token > current.token ? l : undefined;
      }, 10 * options.leaseMs + 30_000, 10);
      const failoverMs = Date.now() - signalledAt;
      await until("the breaker tripped", () => lab.bank.isTripped().then((t) => (t ? true : undefined)), 60_000, 50);
      const trippedAt = await lab.head();
      const events = await lab.bank.queryFilter(lab.bank.filters.Tripped(), roundStart);
      if (point === "sigstop") {
        // Woken after a standby took over: its next commit is fenced off and it stands by.
        leader.process.child.kill("SIGCONT");
        await until("the woken leader to step down", () => (leader.process.log().some((l) => typeof l.msg === "string" && /lease (lost|.*stale)|stepping down/.test(l.msg as string)) ? true : undefined), 30_000, 50);
      } else {
        await exited(leader.process.child);
        // A restarted guardian joins as a standby: three again for the next round.
        leader.process = lab.guard(leader.file);
      }
      rounds.push({ round, point, killedPid: leader.process.child.pid ?? 0, failoverMs, tripped: true, trippedEvents: events.length, blocksToTrip: trippedAt - roundStart });
      log(`round ${round + 1}/${points.length} ${point}: failover ${failoverMs} ms to token ${next.token}, tripped after ${trippedAt - roundStart} block(s), ${events.length} Tripped event(s)`);
    }

    // The chain stops; the cursor reaches the head: every block behind it was committed once by whichever guardian led.
    mining = false;
    await miner;
    const head = await lab.head();
    await until("the shared cursor at the head", async () => (((await cursor()) ?? 0) >= head ? true : undefined), 30_000);
    // Every delivery a dead guardian held is taken over once its claim expires: wait for the alert log to drain, and
    // stay drained for a while (an alert raised by the last blocks is recorded a moment after their commit).
    let drainedSince = 0;
    await until("every alert delivery to finish", async () => {
      const { rows } = await pg.query<{ n: string }>("SELECT count(*) AS n FROM alert_deliveries WHERE status = 'pending'");
      if (Number(rows[0].n) > 0) drainedSince = 0;
      else drainedSince ||= Date.now();
      return drainedSince > 0 && Date.now() - drainedSince >= 2_000 ? true : undefined;
    }, options.claimMs * 3 + 60_000, 200);

    const { rows: incidents } = await pg.query<{ id: string; status: string; record: string }>("SELECT id, status, record FROM incidents");
    const { rows: findings } = await pg.query<{ tx_hash: string | null }>("SELECT tx_hash FROM guardian_findings WHERE detector_id = 'reentrancy' AND retracted_at IS NULL");
    const { rows: tripAlerts } = await pg.query<{ id: string; incident_id: string }>("SELECT id, incident_id FROM alert_messages WHERE kind = 'trip'");
    // A finding announced by more than one finding alert (two guardians alerting the same finding) is a duplicate too.
    const { rows: twice } = await pg.query<{ n: string }>(
      "SELECT count(*) AS n FROM (SELECT f.finding_id FROM alert_findings f JOIN alert_messages m ON m.id = f.alert_id WHERE m.kind = 'finding' GROUP BY f.finding_id HAVING count(DISTINCT f.alert_id) > 1) d",
    );
    const { rows: allAlerts } = await pg.query<{ id: string; kind: string; statuses: string }>(
      "SELECT m.id, m.kind, string_agg(d.status || '/' || d.attempts || '/' || coalesce(d.last_error, ''), ', ') AS statuses FROM alert_messages m LEFT JOIN alert_deliveries d ON d.alert_id = m.id GROUP BY m.id, m.kind",
    );
    const seenTx = new Set(findings.map((f) => f.tx_hash?.toLowerCase()));
    const receivedIds = new Set(receiver.received.map((r) => r.alertId));
    const trippedIncidents = incidents.filter((i) => i.status === "tripped" || i.status === "lifted");
    const tripAlertsPerIncident = new Map<string, number>();
    for (const a of tripAlerts) tripAlertsPerIncident.set(a.incident_id, (tripAlertsPerIncident.get(a.incident_id) ?? 0) + 1);
    const sorted = rounds.map((r) => r.failoverMs).sort((a, b) => a - b);
    return {
      rounds,
      kills: rounds.length,
      failoverP50Ms: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
      failoverMaxMs: sorted[sorted.length - 1] ?? 0,
      missedTrips: rounds.filter((r) => r.trippedEvents === 0).length,
      duplicateTrips: rounds.reduce((n, r) => n + Math.max(0, r.trippedEvents - 1), 0),
      duplicateIncidents: Math.max(0, trippedIncidents.length - rounds.length),
      duplicateAlerts: [...tripAlertsPerIncident.values()].reduce((n, c) => n + c - 1, 0) + Number(twice[0].n),
      undeliveredAlerts: allAlerts.filter((a) => !receivedIds.has(a.id)).length,
      undelivered: allAlerts.filter((a) => !receivedIds.has(a.id)).map((a) => `${a.kind} ${a.id.slice(0, 10)}: ${a.statuses ?? "no delivery"}`),
      missedBlocks: attacks.filter((tx) => !seenTx.has(tx)).length,
      incidents: incidents.length,
      alertIds: allAlerts.length,
    };
  } finally {
    mining = false;
    await miner;
    for (const g of guardians) if (g.process.child.signalCode === "SIGSTOP") g.process.child.kill("SIGCONT");
    await lab.stop();
    await receiver.close();
    await pg.end();
    delete process.env[URL_ENV];
  }
}
