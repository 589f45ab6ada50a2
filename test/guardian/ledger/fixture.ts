import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { HeadFollower } from "../../../guardian/chain/head-follower";
import type { ChainEvent, RpcClient } from "../../../guardian/chain/types";
import { GuardianMetrics } from "../../../guardian/ops/metrics";
import pino from "pino";
import { reportingConfigSchema } from "../../../guardian/ledger/config";
import { startAnvil, anvilKey, type AnvilInstance } from "../../../guardian/ops/anvil";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IndexStore } from "../../../guardian/ledger/index-store";
import { Indexer } from "../../../guardian/ledger/indexer";
import { ReportingScope } from "../../../guardian/ledger/reporting-scope";
import type { ReportDeps } from "../../../guardian/ledger/report-context";
import { ReportPayoutGame__factory, ReportToken__factory, type ReportPayoutGame, type ReportToken } from "../../../typechain-types";

/**
 * Drives the indexer with the guardian's own chain source: the HeadFollower reads the node's head,
 * backfills, links blocks with the ReorgTracker and hands over block/reorg/finalize events, exactly as
 * in the daemon. `sync()` runs it until it has caught up with what anvil mined.
 */
export class ChainEventFeed {
  private readonly follower: HeadFollower;
  /** Reorgs handed to the indexer, to show a test went through the reorg path. */
  readonly reorgs: ChainEvent[] = [];

  constructor(rpc: RpcClient, private readonly indexer: Indexer) {
    this.follower = new HeadFollower({
      chainId: rpc.chainId,
      rpc,
      logger: pino({ level: "silent" }),
      metrics: new GuardianMetrics(),
      pollIntervalMs: 50,
      window: 64,
      confirmations: 32,
      startBlock: 0,
      loadWindow: () => [],
    });
  }

  async sync(): Promise<void> {
    let failure: unknown;
    const handler = async (events: ChainEvent[]) => {
      try {
        for (const event of events) {
          if (event.kind === "reorg") this.reorgs.push(event);
          await this.indexer.handle(event);
        }
      } catch (err) {
        failure = err;
        throw err;
      }
    };
    for (;;) {
      const caughtUp = await this.follower.step(handler);
      if (caughtUp === "failed") throw failure ?? new Error("the chain source failed; see its log");
      if (caughtUp) return;
    }
  }
}

export interface ReportsFixture {
  anvil: AnvilInstance;
  rpc: HttpRpcClient;
  provider: JsonRpcProvider;
  owner: NonceManager;
  holders: Wallet[];
  token: ReportToken;
  game: ReportPayoutGame;
  db: Db;
  dir: string;
  dbFile: string;
  deps: ReportDeps;
  indexer: Indexer;
  feed: ChainEventFeed;
  configFile: string;
  stop(): Promise<void>;
}

export async function reportsFixture(): Promise<ReportsFixture> {
  const anvil = await startAnvil();
  const rpc = new HttpRpcClient({ chainId: 31337, urls: [anvil.url], maxAttempts: 2 });
  const provider = new JsonRpcProvider(anvil.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  provider.pollingInterval = 50;
  const owner = new NonceManager(new Wallet(anvilKey(0), provider));
  const holders = [1, 2, 3, 4, 5].map((i) => new Wallet(anvilKey(i), provider));
  const token = await (await new ReportToken__factory(owner).deploy(await owner.getAddress())).waitForDeployment();
  const game = await (await new ReportPayoutGame__factory(owner).deploy()).waitForDeployment();
  const tokenAddress = (await token.getAddress()).toLowerCase();
  const gameAddress = (await game.getAddress()).toLowerCase();
  const treasury = holders[0].address.toLowerCase();

  const reporting = {
    fromBlock: 1,
    tokens: [{ name: "RPT", address: tokenAddress, standard: "erc20", decimals: 18 }],
    accounts: [{ name: "treasury", address: treasury }],
    groups: [
      { name: "treasury", members: ["treasury", holders[1].address] },
      { name: "dice", industry: "gambling", members: [gameAddress] },
    ],
  };
  const config = reportingConfigSchema.parse(reporting);
  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-reports-"));
  const dbFile = path.join(dir, "guardian.sqlite");
  const db = openDatabase(dbFile);
  const store = new IndexStore(db);
  const scope = new ReportingScope(config);
  const indexer = new Indexer({ rpc, store, scope });
  const feed = new ChainEventFeed(rpc, indexer);
  const configFile = path.join(dir, "failsafe.yaml");
  writeFileSync(
    configFile,
    stringify({ chains: [{ id: 31337, rpc: [anvil.url], rpcMaxAttempts: 2, pollIntervalMs: 100, confirmations: 4, maxReorgDepth: 16 }], store: { path: dbFile }, logging: { level: "warn", destination: "stderr" }, reporting }),
  );
  return {
    anvil,
    rpc,
    provider,
    owner,
    holders,
    token,
    game,
    db,
    dir,
    dbFile,
    deps: { store, scope, rpc },
    indexer,
    feed,
    configFile,
    stop: async () => {
      db.close();
      provider.destroy();
      await anvil.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
