import { expect } from "chai";
import { startAnvil, type AnvilInstance } from "../../../guardian/ops/anvil";
import { HttpRpcClient } from "../../../guardian/chain/rpc";
import { callTreesFromParityTraces, type ParityTrace } from "../../../guardian/context/parity-trace";
import { normalizeCallFrame, type RawCallFrame } from "../../../guardian/context/call-frame";
import { BlockContextBuilder } from "../../../guardian/context/build-block-context";
import type { BlockContext, CallFrame } from "../../../guardian/context/types";
import { deployBankScenario, type BankScenario } from "../support/bank-scenario";

/** What both trace formats carry: the call tree, its inputs and values, and which frames failed. */
function shape(f: CallFrame): unknown {
  return { type: f.type, from: f.from, to: f.to, value: f.value.toString(), input: f.input, failed: f.error !== undefined, calls: f.calls.map(shape) };
}

function contextShape(ctx: BlockContext): unknown {
  return { ...ctx, transactions: ctx.transactions.map((t) => ({ ...t, trace: t.trace && shape(t.trace) })) };
}

describe("callTreesFromParityTraces", () => {
  let anvil: AnvilInstance;
  let scenario: BankScenario;
  let rpc: HttpRpcClient;

  before(async () => {
    anvil = await startAnvil();
    scenario = await deployBankScenario(anvil);
    await scenario.deposit(3n * 10n ** 18n);
    rpc = new HttpRpcClient({ chainId: 31337, urls: [anvil.url] });
  });
  after(async () => anvil?.stop());

  for (const [label, minProfit] of [["a successful re-entrant attack", 0n], ["a reverted attack", 10n ** 30n]] as const) {
    it(`gives the same call tree as callTracer for ${label}`, async () => {
      const hash = await scenario.attack({ minProfit });
      const viaCallTracer = normalizeCallFrame(await rpc.request<RawCallFrame>("debug_traceTransaction", [hash, { tracer: "callTracer" }]));
      const viaParity = callTreesFromParityTraces(await rpc.request<ParityTrace[]>("trace_transaction", [hash])).get(hash.toLowerCase());
      expect(viaCallTracer.calls.length).to.be.greaterThan(0);
      expect(shape(viaParity!)).to.deep.equal(shape(viaCallTracer));
    });
  }

  it("lets BlockContextBuilder build the same contexts from trace_block as from callTracer", async () => {
    await scenario.attack();
    await scenario.attack({ minProfit: 10n ** 30n });
    const head = await scenario.provider.getBlockNumber();
    const viaCallTracer = new BlockContextBuilder(rpc, [scenario.bank], "callTracer");
    const viaParity = new BlockContextBuilder(rpc, [scenario.bank], "parity");
    let touching = 0;
    for (let n = 1; n <= head; n++) {
      const hash = (await scenario.provider.getBlock(n))!.hash!;
      const a = await viaCallTracer.build({ number: n, hash });
      const b = await viaParity.build({ number: n, hash });
      expect(contextShape(b), `block ${n}`).to.deep.equal(contextShape(a));
      touching += a.transactions.length;
    }
    expect(touching, "blocks with transactions touching the bank").to.be.greaterThan(3);
  });
});
