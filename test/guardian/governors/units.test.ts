import { expect } from "chai";
import { humanEvidence, humanTitle, tokensOf, type TokenUnits } from "../../../guardian/reports/governor-report-units";

const USDC = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const tokens = new Map<string, TokenUnits>([[USDC.toLowerCase(), { symbol: "USDC", decimals: 6 }]]);

/** What governors read: detector amounts in human units, never 22-digit base units next to a bare address. */
describe("human units in the governor report", () => {
  it("rewrites a detector's base-unit amounts of known tokens and of ether", () => {
    expect(humanTitle(`Outflow spike from vault: 240000000000 of token ${USDC} over 50 blocks`, tokens)).to.equal(
      `Outflow spike from vault: 240,000 USDC (${USDC}) over 50 blocks`,
    );
    expect(humanTitle("Outflow spike from bank: 5000000000000000000 wei over 50 blocks", tokens)).to.equal("Outflow spike from bank: 5 ETH over 50 blocks");
    // A token that did not answer keeps its base units and address: nothing is guessed.
    const unknown = "0x1111111111111111111111111111111111111111";
    expect(humanTitle(`10000 of token ${unknown}`, tokens)).to.equal(`10000 of token ${unknown}`);
  });

  it("gives the evidence's amounts in the asset's units", () => {
    expect(humanEvidence({ asset: USDC, windowTotal: 240_000_000_000n, blockOut: "10000000000", share: "0.096", fromBlock: 7 }, tokens)).to.deep.equal({
      windowTotal: "240,000 USDC",
      blockOut: "10,000 USDC",
    });
    expect(humanEvidence({ asset: "native", windowTotal: "1500000000000000000" }, tokens)).to.deep.equal({ windowTotal: "1.5 ETH" });
    expect(humanEvidence({ windowTotal: "1" }, tokens)).to.deep.equal({});
  });

  it("collects each token once, from evidence and titles", () => {
    expect(tokensOf([{ title: `x of token ${USDC.toLowerCase()}`, evidence: { asset: USDC } }, { title: "none", evidence: { asset: "native" } }])).to.deep.equal([USDC]);
  });
});
