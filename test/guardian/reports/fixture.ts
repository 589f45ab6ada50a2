import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { ReorgTracker } from "../../../guardian/chain/reorgTracker";
import type { BlockRef, RpcClient } from "../../../guardian/chain/types";
import { reportingConfigSchema } from "../../../guardian/config/reporting";
import { startAnvil, anvilKey, type AnvilInstance } from "../../../guardian/ops/anvil";
import { openDatabase, type Db } from "../../../guardian/state/database";
import { IndexStore } from "../../../guardian/state/index-store";
import { blockByHash, blockByNumber } from "../../../guardian/reports/chain-reader";
import { Indexer } from "../../../guardian/reports/indexer";
import { ReportingScope } from "../../../guardian/reports/reporting-scope";
import type { ReportDeps } from "../../../guardian/reports/report-context";
import { ReportPayoutGame__factory, ReportToken__factory, type ReportPayoutGame, type ReportToken } from "../../../typechain-types";

/**
 * Feeds the indexer the chain source's events for whatever anvil mined since the last call: blocks go
 * through the core's ReorgTracker, which turns a changed branch into a reorg event, exactly as the
 * guardian's follower does.
 */
export class ChainEventFeed {
  private readonly tracker: ReorgTracker;

  constructor(private readonly rpc: RpcClient, private readonly indexer: Indexer, start: BlockRef) {
    this.tracker = new ReorgTracker({ chainId: rpc.chainId, window: 64, confirmations: 32 }, [start]);
  }

  async sync(): Promise<void> {
    const head = (await blockByNumber(this.rpc, "latest"))!;
    const tip = this.tracker.tip()!;
    const blocks: BlockRef[] = [];
    for (let n = Math.min(tip.number + 1, head.number); n < head.number; n++) blocks.push((await blockByNumber(this.rpc, n))!);
    blocks.push(head);
    for (const block of blocks) {
      const events = await this.tracker.add(block, async (hash) => (await blockByHash(this.rpc, hash))!);
      for (const event of events) await this.indexer.handle(event);
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
  const feed = new ChainEventFeed(rpc, indexer, (await blockByNumber(rpc, 0))!);
  const configFile = path.join(dir, "failsafe.yaml");
  writeFileSync(
    configFile,
    stringify({ chains: [{ id: 31337, rpc: [anvil.url], rpcMaxAttempts: 2 }], store: { path: dbFile }, logging: { level: "warn", destination: "stderr" }, reporting }),
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
