import { expect } from "chai";
import hre from "hardhat";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { callTreeFromStructLogs, type StructLogTrace } from "../../../guardian/context/struct-logs";
import { normalizeCallFrame, type RawCallFrame } from "../../../guardian/context/call-frame";
import { BlockContextBuilder } from "../../../guardian/context/build-block-context";
import type { RpcClient } from "../../../guardian/chain/types";
import type { CallFrame } from "../../../guardian/context/types";
import { RpcResponseError } from "../../../guardian/chain/errors";
import { deployBankScenario, type BankScenario } from "../support/bank-scenario";
import { ReentrancyAttacker__factory, VulnerableBank__factory } from "../../../typechain-types";

/** The shape both tracers agree on: who called whom, with what, and whether it failed. */
function shape(f: CallFrame): unknown {
  return { type: f.type, from: f.from, to: f.to, value: f.value.toString(), input: f.input, failed: f.error !== undefined, calls: f.calls.map(shape) };
}

async function rebuilt(rpc: RpcClient, hash: string): Promise<CallFrame> {
  const [tx, receipt, trace] = await Promise.all([
    rpc.request<{ from: string; to: string | null; value: string; input: string }>("eth_getTransactionByHash", [hash]),
    rpc.request<{ gasUsed: string; contractAddress: string | null }>("eth_getTransactionReceipt", [hash]),
    rpc.request<StructLogTrace>("debug_traceTransaction", [hash, { enableMemory: true, disableStorage: true }]),
  ]);
  return callTreeFromStructLogs(
    { from: tx.from, to: tx.to, value: BigInt(tx.value), input: tx.input, gasUsed: BigInt(receipt.gasUsed), contractAddress: receipt.contractAddress },
    trace,
  );
}

describe("callTreeFromStructLogs", () => {
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  let rpc: HttpRpcClient;

  before(async () => {
    // anvil records struct logs only with step tracing on; real nodes always do.
    anvil = await startAnvil({ extraArgs: ["--steps-tracing"] });
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(3n * 10n ** 18n);
    rpc = new HttpRpcClient({ chainId: 31337, urls: [anvil.url] });
  });
  after(async () => anvil?.stop());

  for (const [label, minProfit] of [["a successful re-entrant attack", 0n], ["a reverted attack", 10n ** 30n]] as const) {
    it(`rebuilds the same call tree as callTracer for ${label}`, async () => {
      const hash = await scenario.attack({ minProfit });
      const viaCallTracer = normalizeCallFrame(await rpc.request<RawCallFrame>("debug_traceTransaction", [hash, { tracer: "callTracer" }]));
      const viaStructLogs = await rebuilt(rpc, hash);
      expect(viaCallTracer.calls.length, "the attack makes nested calls").to.be.greaterThan(0);
      expect(shape(viaStructLogs)).to.deep.equal(shape(viaCallTracer));
    });
  }

  it("rebuilds contract creation frames with the created address", async () => {
    const factory = new VulnerableBank__factory(scenario.deployer);
    const bank = await factory.deploy();
    const receipt = await bank.deploymentTransaction()!.wait();
    const viaCallTracer = normalizeCallFrame(await rpc.request<RawCallFrame>("debug_traceTransaction", [receipt!.hash, { tracer: "callTracer" }]));
    const viaStructLogs = await rebuilt(rpc, receipt!.hash);
    expect(viaStructLogs.type).to.equal("CREATE");
    expect(viaStructLogs.to).to.equal(viaCallTracer.to);
  });
});

function occurrencesOnDeepestPath(frame: CallFrame, address: string): number {
  const here = frame.to === address ? 1 : 0;
  return here + Math.max(0, ...frame.calls.map((c) => occurrencesOnDeepestPath(c, address)));
}

/** Hardhat's in-process network as an RpcClient: the node without callTracer. */
function hardhatRpc(): RpcClient {
  return {
    chainId: 31337,
    async request<T>(method: string, params: unknown[]): Promise<T> {
      try {
        return (await hre.network.provider.request({ method, params })) as T;
      } catch (err) {
        const e = err as { code?: number; message: string };
        throw new RpcResponseError({ url: "hardhat", method, code: e.code ?? -32603, message: e.message });
      }
    },
  };
}

describe("BlockContextBuilder on Hardhat's network (struct-log fallback)", () => {
  it("still sees the re-entrant call tree of an attack, reverted or not", async () => {
    const [deployer, user, thief] = await hre.ethers.getSigners();
    const bank = await new VulnerableBank__factory(deployer).deploy();
    const attacker = await new ReentrancyAttacker__factory(thief).deploy(await bank.getAddress());
    await bank.connect(user).deposit({ value: 3n * 10n ** 18n });
    const ok = await (await attacker.attack(2, 0n, { value: 10n ** 18n, gasLimit: 1_000_000n })).wait();
    // With automine on, Hardhat throws on a reverting transaction instead of mining it; mine it by hand.
    await hre.network.provider.send("evm_setAutomine", [false]);
    const reverted = await attacker.attack(2, 10n ** 30n, { value: 10n ** 18n, gasLimit: 1_000_000n });
    await hre.network.provider.send("evm_mine", []);
    await hre.network.provider.send("evm_setAutomine", [true]);
    const revertedBlock = await hre.ethers.provider.getTransactionReceipt(reverted.hash);

    const builder = new BlockContextBuilder(hardhatRpc(), [await bank.getAddress()]);
    for (const blockNumber of [ok!.blockNumber, revertedBlock!.blockNumber]) {
      const ctx = await builder.build(blockNumber);
      expect(ctx.transactions).to.have.length(1);
      const [tx] = ctx.transactions;
      const bankAddress = (await bank.getAddress()).toLowerCase();
      // attacker -> bank.withdraw -> attacker.receive -> bank.withdraw: the bank at least twice on one path.
      expect(occurrencesOnDeepestPath(tx.trace!, bankAddress), `bank re-entered in block ${blockNumber}`).to.be.at.least(2);
      expect(tx.status).to.equal(blockNumber === ok!.blockNumber ? 1 : 0);
    }
  });
});
