import { expect } from "chai";
import { Interface, MaxUint256, ZeroHash, id as keccakText, parseEther } from "ethers";
import { decide } from "../../../guardian/decisions/policy";
import { outflowSpikeDetector } from "../../../guardian/detectors/outflow-spike";
import { CorpusBank__factory, CorpusExploit__factory, CorpusProxy__factory, CorpusRouter__factory, CorpusVaultLogic__factory, TimelockController__factory } from "../../../typechain-types";
import { attackCases } from "../../../scripts/corpus/attacks";
import { CorpusGuardian, GUARDIAN_INDEX, corpusConfig, openCorpusChain, type CorpusChain } from "../../../scripts/corpus/env";
import { runAttack } from "../../../scripts/corpus/run-attack";
import { silentLogger } from "./detector-harness";

const caseOf = (id: string) => {
  const c = attackCases.find((x) => x.id === id);
  if (!c) throw new Error(`no corpus case ${id}`);
  return c;
};

/**
 * The attack classes and the griefing cases on anvil, each through the guardian's real config loader,
 * detectors, block contexts and policy (scripts/corpus/env.ts), one fast case per class. The full corpus
 * runs in `npm run bench:corpus`.
 */
describe("attack classes and griefing on anvil", function () {
  this.timeout(300_000);
  let chain: CorpusChain;

  before(async () => {
    chain = await openCorpusChain();
  });
  after(async () => {
    await chain.stop();
  });

  const send = async <T extends { hash: string }>(p: Promise<T>): Promise<string> => (await p).hash;

  describe("never pause a correct contract", () => {
    it("a re-entry the bank's own guard refused (inner call reverted, transaction succeeded) alerts and does not trip", async () => {
      const g = await chain.account(GUARDIAN_INDEX).getAddress();
      const bank = await chain.deploy(new CorpusBank__factory(chain.account(0)).deploy(g, 1));
      const a = (await bank.getAddress()).toLowerCase();
      await chain.setup(bank.connect(chain.account(2)).deposit({ value: parseEther("50") }));
      const contracts = [{ name: "bank", address: a, abi: "CorpusBank", pausable: true }];
      const guardian = new CorpusGuardian(chain, corpusConfig(chain, contracts).yaml, new Set([a]));
      const griefer = chain.account(9);
      const exploit = await chain.deploy(new CorpusExploit__factory(griefer).deploy([a]));
      await chain.setup(exploit.setHook([{ to: a, value: 0n, data: bank.interface.encodeFunctionData("withdraw"), allowFailure: true }], 1));
      const hash = await send(
        exploit.run(
          [
            { to: a, value: parseEther("0.01"), data: bank.interface.encodeFunctionData("deposit"), allowFailure: false },
            { to: a, value: 0n, data: bank.interface.encodeFunctionData("withdraw"), allowFailure: false },
          ],
          { value: parseEther("0.01"), gasLimit: 500_000n },
        ),
      );
      const block = await chain.mine();
      const receipt = await chain.provider.getTransactionReceipt(hash);
      expect(receipt?.status).to.equal(1);
      // One cheap transaction: anyone can send it after every lapse of a trip.
      expect(Number(receipt!.gasUsed)).to.be.lessThan(150_000);
      const findings = await guardian.onBlock(block);
      const re = findings.filter((f) => f.detectorId === "reentrancy");
      expect(re).to.have.length(1);
      expect(re[0].severity).to.equal("high");
      expect(re[0].evidence).to.include({ outcome: "refused", refusedReentries: 1 });
      expect(decide(re[0], guardian.config.policy, "bank").action).to.equal("alert");
      expect(findings.filter((f) => f.severity === "critical")).to.deep.equal([]);
      await guardian.onBlock(await chain.mine());
      expect(guardian.trips).to.deep.equal([]);
      expect(await bank.paused()).to.equal(false);
    });

    it("a whale's deposit then withdrawal of its own money trips nothing; a sweep of other people's money does", async () => {
      const g = await chain.account(GUARDIAN_INDEX).getAddress();
      const bank = await chain.deploy(new CorpusBank__factory(chain.account(0)).deploy(g, 1));
      const a = (await bank.getAddress()).toLowerCase();
      const contracts = [{ name: "bank", address: a, abi: "CorpusBank", pausable: true }];
      const guardian = new CorpusGuardian(chain, corpusConfig(chain, contracts).yaml, new Set([a]));
      // The demo's outflow policy: 5 % over 50 blocks, which paused the vault on a round trip before.
      const spike = outflowSpikeDetector.create(outflowSpikeDetector.params.parse({ contracts: ["bank"], windowBlocks: 50, assets: [{ asset: "native", maxShare: 0.05 }] }), {
        chainId: chain.rpc.chainId,
        rpc: chain.rpc,
        logger: silentLogger,
        contracts: guardian.contracts,
      });
      const found: string[] = [];
      const step = async (p?: Promise<unknown>) => {
        if (p) await p;
        const block = await chain.mine();
        for (const f of await guardian.onBlock(block)) found.push(`${f.detectorId}:${f.severity}`);
        const { BlockContextBuilder } = await import("../../../guardian/context/build-block-context");
        const ctx = await new BlockContextBuilder(chain.rpc, [a], "parity").build(block);
        for (const f of await spike.onBlock(ctx)) found.push(`spike:${f.severity}`);
      };
      for (const i of [2, 3, 4, 5]) await step(bank.connect(chain.account(i)).deposit({ value: parseEther("25") }));
      const whale = chain.account(6);
      await step(bank.connect(whale).deposit({ value: parseEther("300") }));
      await step();
      await step(bank.connect(whale).withdraw({ gasLimit: 200_000n }));
      expect(found.filter((f) => /high|critical/.test(f) || f.startsWith("spike"))).to.deep.equal([]);
      expect(guardian.trips).to.deep.equal([]);

      // The same bank's unprotected sweep takes 20 of the users' 100 ETH: that is a loss, and it trips.
      await step(bank.connect(chain.account(9)).sweep(await chain.account(9).getAddress(), parseEther("20"), { gasLimit: 200_000n }));
      expect(found).to.include("outflow-window:critical");
      expect(found).to.include("spike:high");
      expect(guardian.trips.map((t) => t.contract)).to.deep.equal([a]);
    });

    it("the real reentrancy attack still trips, after its first transaction", async () => {
      const r = await runAttack(chain, caseOf("dao-reentrancy"), { mempool: false });
      expect(r.findings.some((f) => f.detectorId === "reentrancy" && f.severity === "critical" && f.evidence.outcome === "value-moved")).to.equal(true);
      expect(r.tripBlocksAfterFirst).to.be.lessThanOrEqual(2);
      expect(r.savedPct).to.be.greaterThanOrEqual(80);
    });
  });

  describe("the classes that were missed", () => {
    it("cross-contract reentrancy through a protection group: entering market B while market A is mid-call trips", async () => {
      const r = await runAttack(chain, caseOf("cross-contract-reentrancy"), { mempool: false });
      const f = r.findings.find((x) => x.detectorId === "reentrancy" && x.evidence.crossContract === true);
      expect(f, "a cross-contract reentrancy finding").to.not.equal(undefined);
      expect(f!.severity).to.equal("critical");
      expect(f!.evidence.midCallName).to.equal("marketA");
      expect(f!.evidence.contractName).to.equal("marketB");
      expect(r.tripDetector).to.equal("reentrancy");
      expect(r.savedPct).to.be.greaterThanOrEqual(85);
    });

    it("read-only reentrancy is filed against the lender that acted on the stale price, naming the pool it read", async () => {
      const r = await runAttack(chain, caseOf("read-only-reentrancy"), { mempool: false });
      const f = r.findings.find((x) => x.detectorId === "reentrancy" && x.evidence.readOnly === true);
      expect(f, "a read-only reentrancy finding").to.not.equal(undefined);
      expect(f!.severity).to.equal("critical");
      expect(f!.evidence).to.include({ victimName: "lender", contractReadName: "pool", outcome: "value-moved" });
      expect(f!.contract).to.equal(f!.evidence.victim);
      expect(r.tripBlocksAfterFirst).to.not.equal(undefined);
    });

    it("a slow sybil drain under every block window trips on the one-hour window, relative to holdings at its start", async () => {
      const r = await runAttack(chain, caseOf("slow-sybil-drain"), { mempool: false });
      const f = r.findings.find((x) => x.detectorId === "outflow-window" && x.severity === "critical")!;
      expect(f).to.not.equal(undefined);
      const windows = f.evidence.windows as { windowSeconds: number; accounts: number }[];
      expect(windows.map((w) => w.windowSeconds)).to.include(3600);
      expect(windows.find((w) => w.windowSeconds === 3600)!.accounts).to.be.greaterThan(100);
      expect(r.savedPct).to.be.greaterThanOrEqual(85);
    });

    it("an allowance drain through an approved router: a finding that says a trip cannot revoke it, with the revoke calldata", async () => {
      const r = await runAttack(chain, caseOf("allowance-drain"), { mempool: false });
      const f = r.findings.find((x) => x.detectorId === "allowance" && x.severity === "critical")!;
      expect(f).to.not.equal(undefined);
      expect(f.evidence).to.include({ kind: "transferFrom", tripCanHelp: false, sentByOwnerSide: false });
      const revoke = f.evidence.revoke as { to: string; data: string; note: string };
      const decoded = new Interface(["function approve(address,uint256)"]).decodeFunctionData("approve", revoke.data);
      expect(decoded[0].toLowerCase()).to.equal(f.evidence.spender);
      expect(decoded[1]).to.equal(0n);
      expect(revoke.note).to.match(/cannot revoke/);
      expect(decide(f, { rules: [{ detectors: ["allowance"], action: "trip" }], tripSeverity: "critical" }).action).to.equal("alert");
      expect(r.tripBlocksAfterFirst).to.equal(undefined);
      // The operator's revoke, sent on the first alert, stops the later pulls.
      expect(r.revoked).to.equal(true);
      expect(r.savedPct).to.be.greaterThanOrEqual(60);
    });

    it("an exploit contract that names the protected bank is a finding before the first attack transaction", async () => {
      const r = await runAttack(chain, caseOf("exploit-contract-deployed-first"), { mempool: false });
      expect(r.detected?.detector).to.equal("exploit-deployment");
      expect(r.detectedBeforeLoss).to.equal(true);
      const f = r.findings.find((x) => x.detectorId === "exploit-deployment")!;
      expect(f.evidence).to.include({ referencesInBytecode: true, contractName: "bank" });
      expect(f.evidence.callbacks as string[]).to.include("executeOperation(address,uint256,uint256,address,bytes)");
    });

    it("privileged changes: an upgrade outside the timelock is critical and trips; through the timelock, batched or through a multicall, it is info", async () => {
      const deployer = chain.account(0);
      const g = await chain.account(GUARDIAN_INDEX).getAddress();
      const timelock = await chain.deploy(new TimelockController__factory(deployer).deploy(60, [await deployer.getAddress()], [await deployer.getAddress()], await deployer.getAddress()));
      const tl = (await timelock.getAddress()).toLowerCase();
      const router = await chain.deploy(new CorpusRouter__factory(deployer).deploy());
      const logic = await chain.deploy(new CorpusVaultLogic__factory(deployer).deploy());
      const viaTimelock = await chain.deploy(new CorpusProxy__factory(deployer).deploy(g, await logic.getAddress()));
      const viaMulticall = await chain.deploy(new CorpusProxy__factory(deployer).deploy(g, await logic.getAddress()));
      await chain.setup(viaTimelock.transferOwnership(tl));
      await chain.setup(viaMulticall.transferOwnership(await router.getAddress()));
      const [p1, p2] = [(await viaTimelock.getAddress()).toLowerCase(), (await viaMulticall.getAddress()).toLowerCase()];
      const contracts = [
        { name: "p1", address: p1, abi: "CorpusProxy", pausable: true },
        { name: "p2", address: p2, abi: "CorpusProxy", pausable: true },
      ];
      const guardian = new CorpusGuardian(chain, corpusConfig(chain, contracts, { timelocks: [tl], trustedDeployers: [(await deployer.getAddress()).toLowerCase()] }).yaml, new Set([p1, p2]));
      const upgrade = viaTimelock.interface.encodeFunctionData("upgradeTo", [await logic.getAddress()]);
      const routed = router.interface.encodeFunctionData("route", [p2, upgrade]);
      const salt = keccakText("s");
      await chain.setup(timelock.scheduleBatch([p1, await router.getAddress()], [0, 0], [upgrade, routed], ZeroHash, salt, 60));
      for (let i = 0; i < 6; i++) await chain.mine();
      await send(timelock.executeBatch([p1, await router.getAddress()], [0, 0], [upgrade, routed], ZeroHash, salt, { gasLimit: 500_000n }));
      const scheduled = await guardian.onBlock(await chain.mine());
      expect(scheduled.filter((f) => f.detectorId === "privileged-change").map((f) => [f.evidence.contractName, f.severity, f.evidence.scheduled])).to.deep.equal([
        ["p1", "info", true],
        ["p2", "info", true],
      ]);
      // The same upgrade of p2 through the router, by anyone, not through the timelock.
      await send(router.connect(chain.account(9)).route(p2, upgrade, { gasLimit: 500_000n }));
      const direct = await guardian.onBlock(await chain.mine());
      const f = direct.find((x) => x.detectorId === "privileged-change")!;
      expect([f.evidence.event, f.severity, f.evidence.scheduled]).to.deep.equal(["Upgraded", "critical", false]);
      expect(guardian.trips.map((t) => t.contract)).to.deep.equal([p2]);
      void MaxUint256;
    });
  });
});
