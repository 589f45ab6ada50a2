import { expect } from "chai";
import { traceGaps } from "../../../guardian/chain/trace-integrity";
import type { BlockContext, CallFrame, TxContext } from "../../../guardian/context/types";

const VAULT = "0x" + "11".repeat(20);
const TOKEN = "0x" + "22".repeat(20);
const ATTACKER = "0x" + "aa".repeat(20);
const TOOL = "0x" + "bb".repeat(20);

const frame = (to: string, calls: CallFrame[] = [], type: CallFrame["type"] = "CALL"): CallFrame => ({
  type, from: ATTACKER, to, value: 0n, input: "0x", gasUsed: 21_000n, calls,
});

const tx = (over: Partial<TxContext>): TxContext => ({
  hash: "0x" + "01".repeat(32), index: 0, from: ATTACKER, to: VAULT, value: 0n, input: "0x", nonce: 0,
  gasPrice: 1n, status: 1, gasUsed: 50_000n, logs: [], trace: frame(VAULT), touched: [VAULT], ...over,
});

const block = (...transactions: TxContext[]): BlockContext => ({
  chainId: 31337, number: 7, hash: "0x" + "07".repeat(32), parentHash: "0x" + "06".repeat(32), timestamp: 1, transactions,
});

/**
 * A trace gap is a receipt that shows a protected contract's code running (the call target or a log emitter) while
 * the trace never reaches it. Addresses in `touched` whose code did not run must not count: a false gap marks the
 * guardian degraded on /healthz for an honest block.
 */
describe("trace integrity: which receipts demand a trace that reaches protected code", () => {
  it("a call to a protected contract whose trace is empty is a gap; one whose trace reaches it is not", () => {
    expect(traceGaps(block(tx({ trace: null })))).to.have.length(1);
    expect(traceGaps(block(tx({ trace: frame(TOKEN) })))[0].missing).to.deep.equal([VAULT]);
    expect(traceGaps(block(tx({})))).to.have.length(0);
  });

  it("a protected log emitter the trace never calls is a gap", () => {
    const log = { address: TOKEN, topics: [], data: "0x", logIndex: 0 };
    const gaps = traceGaps(block(tx({ to: ATTACKER, logs: [log], trace: frame(ATTACKER), touched: [TOKEN] })));
    expect(gaps).to.have.length(1);
    expect(gaps[0].missing).to.deep.equal([TOKEN]);
  });

  it("a deployment that only writes a protected address into its bytecode is not a gap", () => {
    const deploy = tx({ to: null, trace: frame(TOOL, [], "CREATE"), touched: [VAULT] });
    expect(traceGaps(block(deploy))).to.have.length(0);
  });

  it("tokens a spender moves out of a protected holder (its code never runs) are not a gap", () => {
    const transfer = { address: "0x" + "33".repeat(20), topics: [], data: "0x", logIndex: 0 };
    const spend = tx({ to: transfer.address, logs: [transfer], trace: frame(transfer.address), touched: [VAULT] });
    expect(traceGaps(block(spend))).to.have.length(0);
  });

  it("a protected sender is not expected in its own trace", () => {
    expect(traceGaps(block(tx({ from: VAULT, to: ATTACKER, trace: frame(ATTACKER), touched: [VAULT] })))).to.have.length(0);
  });
});
