import { expect } from "chai";
import Database from "better-sqlite3";
import { JsonRpcProvider, Wallet, parseUnits } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MockERC20__factory } from "../../../typechain-types";
import { alertsConfigSchema } from "../../../guardian/notifiers/alert-routes";
import { createNotifiers } from "../../../guardian/notifiers/create-notifiers";
import { AlertDispatcher } from "../../../guardian/notifiers/dispatcher";
import { findingHumanizer } from "../../../guardian/notifiers/human-units";
import type { AlertMessage } from "../../../guardian/notifiers/types";
import { anvilKey, startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { AlertStore } from "../../../guardian/state/alert-store";
import { VAULT, finding, silentLogger } from "./fixtures";
import { startCaptureServer, type CaptureServer } from "./local-servers";

/**
 * Alerts go to people: "9,000 fsUSD (0x…)" rather than "9000000000000000000000 of token 0x…". The symbol is the
 * token's own text (attacker-chosen), and reading it must never hold an alert back.
 */
describe("alerts in human units", function () {
  this.timeout(120_000);
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  let usd: string;
  let hostile: string;

  before(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const deployer = new Wallet(anvilKey(0), provider);
    const a = await new MockERC20__factory(deployer).deploy("Failsafe USD", "fsUSD", 6);
    const b = await new MockERC20__factory(deployer).deploy("Evil", "EVIL\u001b[2J\u202e", 18);
    usd = (await a.getAddress()).toLowerCase();
    hostile = (await b.getAddress()).toLowerCase();
    await b.waitForDeployment();
  });
  after(async () => {
    provider?.destroy();
    await anvil?.stop();
  });

  const spike = (token: string, amount: string) => finding({ title: `Outflow spike from vault: ${amount} of token ${token} over 50 blocks`, evidence: { asset: token } });

  it("reads symbol and decimals from the chain and rewrites token amounts and wei", async () => {
    const humanize = findingHumanizer(() => provider);
    const [t, e, untouched] = await humanize([
      spike(usd, parseUnits("9000", 6).toString()),
      finding({ title: "Outflow over a time window from bank: 10000000000000000000 wei, 100.00% of its holdings, within 1 h" }),
      finding({ title: "Reentrancy into bank" }),
    ]);
    expect(t.title).to.equal(`Outflow spike from vault: 9,000 fsUSD (${usd}) over 50 blocks`);
    expect(e.title).to.equal("Outflow over a time window from bank: 10 ETH, 100.00% of its holdings, within 1 h");
    expect(untouched.title).to.equal("Reentrancy into bank");
  });

  it("a hostile symbol arrives without its control characters", async () => {
    const [f] = await findingHumanizer(() => provider)([spike(hostile, parseUnits("5", 18).toString())]);
    expect(f.title).to.not.match(/[\u0000-\u001f\u007f\u202e]/);
    expect(f.title).to.include("5 EVIL\\x1b[2J");
  });

  it("a node that does not answer leaves the alert in base units after the timeout, instead of holding it", async () => {
    const hanging = { ...provider, call: () => new Promise<string>(() => undefined) } as unknown as JsonRpcProvider;
    const started = Date.now();
    const raw = spike(usd, "1000000");
    const [f] = await findingHumanizer(() => hanging, { timeoutMs: 200 })([raw]);
    expect(f.title).to.equal(raw.title);
    expect(Date.now() - started).to.be.lessThan(2_000);
  });

  describe("through the dispatcher", () => {
    let hooks: CaptureServer;
    let dir: string;
    let db: Database.Database;
    before(async () => {
      process.env.FAILSAFE_TEST_HUMAN_SECRET = "human-units-test-secret-0123456789";
      hooks = await startCaptureServer((_req, res) => res.writeHead(204).end());
      dir = mkdtempSync(path.join(tmpdir(), "failsafe-human-"));
      db = new Database(path.join(dir, "alerts.sqlite"));
    });
    after(async () => {
      await hooks.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("the webhook's alert carries the human title", async () => {
      const d = new AlertDispatcher(alertsConfigSchema.parse({ routes: [{ match: { minSeverity: "low" }, notify: ["hook"] }] }), {
        store: new AlertStore(db),
        logger: silentLogger,
        notifiers: createNotifiers({ hook: { type: "webhook", url: `${hooks.url}/h`, secret: { env: "FAILSAFE_TEST_HUMAN_SECRET" } } }, { logger: silentLogger }),
        contracts: [{ name: "Vault", address: VAULT }],
        humanize: findingHumanizer(() => provider),
      });
      try {
        await d.onFindings([spike(usd, parseUnits("250000", 6).toString())], { chainId: 31337, number: 1, hash: "0x01", parentHash: "0x00", timestamp: 0, transactions: [] });
        await d.idle();
        const alert = (JSON.parse((await hooks.request(0)).body) as { alert: AlertMessage }).alert;
        expect(alert.findings[0].title).to.equal(`Outflow spike from vault: 250,000 fsUSD (${usd}) over 50 blocks`);
      } finally {
        await d.close();
      }
    });
  });
});
