import { expect } from "chai";
import { parseEther } from "ethers";
import { ReorgTracker } from "../../../guardian/chain/reorg-tracker";
import type { BlockRef, ChainEvent } from "../../../guardian/chain/types";
import { buildBlockContext } from "../../../guardian/context/build-block-context";
import { invariantDetector } from "../../../guardian/detectors/invariant";
import { reentrancyDetector } from "../../../guardian/detectors/reentrancy";
import { reorgDetector } from "../../../guardian/detectors/reorg";
import type { DetectorDefinition, Finding, ProtectedContract } from "../../../guardian/detectors/types";
import { BuggyWrappedEther__factory, VulnerableBank__factory } from "../../../typechain-types";
import { silentLogger } from "./detector-harness";
import { openTestChain, reentrancyScenario, unbackedMintScenario, type TestChain } from "./scenarios";

/** The detectors against a live anvil: attacks happen, contexts are built by the guardian, findings come out. */
describe("detectors on anvil", function () {
  let chain: TestChain;

  before(async () => {
    chain = await openTestChain();
  });
  after(async () => {
    await chain.stop();
  });

  const create = <P>(def: DetectorDefinition<P>, contracts: ProtectedContract[], params: unknown = {}) =>
    def.create(def.params.parse(params), { chainId: chain.rpc.chainId, rpc: chain.rpc, logger: silentLogger, contracts });

  async function findingsFor(blocks: number[], contracts: ProtectedContract[], detector: ReturnType<typeof create>): Promise<Finding[]> {
    const out: Finding[] = [];
    for (const n of blocks) out.push(...(await detector.onBlock(await buildBlockContext(chain.rpc, n, contracts.map((c) => c.address)))));
    return out;
  }

  it("a reentrancy attack yields a reentrancy finding, also when the attack reverts", async () => {
    const s = await reentrancyScenario(chain);
    const contracts = [{ name: "bank", address: s.bank, abi: VulnerableBank__factory.abi }];
    const findings = await findingsFor(
      Object.values(s.txs).map((t) => t.block),
      contracts,
      create(reentrancyDetector, contracts),
    );
    expect(findings.map((f) => [f.txHash, f.evidence.txStatus, f.severity])).to.deep.equal([
      [s.txs.attack.hash, "success", "critical"],
      [s.txs.revertedAttack.hash, "reverted", "critical"],
    ]);
    expect(s.txs.revertedAttack.status).to.equal(0);
    expect(await chain.provider.getBalance(s.bank)).to.equal(parseEther("10"));
  });

  it("an unbacked mint yields an invariant finding at the block it happened", async () => {
    const s = await unbackedMintScenario(chain);
    const contracts = [{ name: "weth", address: s.weth, abi: BuggyWrappedEther__factory.abi }];
    const detector = create(invariantDetector, contracts, { invariants: [{ name: "backing", expr: "weth.totalSupply() <= eth.balance(weth)" }] });
    // The block before the token existed is included: an invariant over a contract without code does not apply.
    const beforeDeployment = s.txs.deposit.block - 2;
    expect(await chain.provider.getCode(s.weth, beforeDeployment)).to.equal("0x");
    const findings = await findingsFor([beforeDeployment, ...Object.values(s.txs).map((t) => t.block)], contracts, detector);
    expect(findings).to.have.length(1);
    expect(findings[0]).to.include({ detectorId: "invariant", severity: "critical", blockNumber: s.txs.unbackedMint.block });
    expect(findings[0].evidence.left).to.deep.equal({ expr: "weth.totalSupply()", value: parseEther("1004").toString() });
    expect(findings[0].evidence.right).to.deep.equal({ expr: "eth.balance(weth)", value: parseEther("4").toString() });
  });

  it("a real anvil_reorg deeper than maxDepth yields a reorg finding", async () => {
    const refOf = async (tag: string | number): Promise<BlockRef> => {
      const method = typeof tag === "string" && tag.length === 66 ? "eth_getBlockByHash" : "eth_getBlockByNumber";
      const b = await chain.rpc.request<{ number: string; hash: string; parentHash: string; timestamp: string }>(method, [
        typeof tag === "number" ? `0x${tag.toString(16)}` : tag,
        false,
      ]);
      return { number: Number(b.number), hash: b.hash, parentHash: b.parentHash, timestamp: Number(b.timestamp) };
    };
    for (let i = 0; i < 4; i++) await chain.provider.send("evm_mine", []);
    const head = await chain.provider.getBlockNumber();
    const tracker = new ReorgTracker({ chainId: 31337, window: 64, confirmations: 12 });
    for (let n = head - 6; n <= head; n++) await tracker.add(await refOf(n), refOf);
    const orphanedHashes = await Promise.all([head - 2, head - 1, head].map(async (n) => (await refOf(n)).hash));

    // Replace the last three blocks with a branch that carries a transfer.
    const signer = chain.account(9);
    const raw = await signer.signer.signTransaction(
      await signer.populateTransaction({ to: await chain.account(1).getAddress(), value: 1n, gasLimit: 21_000n, chainId: 31337n }),
    );
    await chain.provider.send("anvil_reorg", [3, [[raw, 0]]]);

    const events: ChainEvent[] = await tracker.add(await refOf(head), refOf);
    const reorg = events.find((e) => e.kind === "reorg");
    expect(reorg, "the tracker saw the reorg").to.not.equal(undefined);
    if (reorg?.kind !== "reorg") return;
    expect(reorg.reorg.orphaned.map((b) => b.hash)).to.deep.equal(orphanedHashes);

    const [f] = await create(reorgDetector, [], { maxDepth: 2 }).onReorg!(reorg.reorg);
    expect(f).to.include({ detectorId: "reorg", severity: "high", blockNumber: head - 2, blockHash: reorg.reorg.added[0].hash });
    expect(f.evidence.depth).to.equal(3);
  });
});
