import { expect } from "chai";
import { artifacts } from "hardhat";
import { Interface } from "ethers";
import { dispatcherSelectors } from "../../../guardian/context/deployment-probe";

describe("deployment probe: the entry points a new contract's dispatcher exposes", () => {
  it("reads every external function of compiled contracts from their runtime code", () => {
    for (const name of ["VulnerableBank", "OneShotBankExploit", "ReentrancyAttacker"]) {
      const artifact = artifacts.readArtifactSync(name);
      const abi = new Interface(artifact.abi);
      const expected: string[] = [];
      abi.forEachFunction((f) => expected.push(f.selector));
      expect(expected.length, name).to.be.greaterThan(0);
      expect(dispatcherSelectors(artifact.deployedBytecode), name).to.include.members(expected);
    }
  });

  it("does not read PUSH data as code: a PUSH32 holding PUSH4 <x> EQ yields nothing", () => {
    const hidden = "7f" + "63aabbccdd14".padEnd(64, "0");
    expect(dispatcherSelectors("0x" + hidden)).to.deep.equal([]);
    expect(dispatcherSelectors("0x8063aabbccdd14")).to.deep.equal(["0xaabbccdd"]);
  });
});
