import { expect } from "chai";
import { NonceManager } from "../../../guardian/responders/nonce-manager";

describe("NonceManager", function () {
  it("hands concurrent callers distinct nonces starting at the chain's count", async function () {
    const manager = new NonceManager(async () => 7);
    const leases = await Promise.all([manager.reserve(), manager.reserve(), manager.reserve()]);
    expect(leases.map((l) => l.nonce).sort()).to.deep.equal([7, 8, 9]);
    expect(manager.held()).to.deep.equal([7, 8, 9]);
  });

  it("hands a released nonce out again so no gap strands later transactions", async function () {
    const manager = new NonceManager(async () => 3);
    const a = await manager.reserve();
    const b = await manager.reserve();
    a.release();
    a.release();
    expect((await manager.reserve()).nonce).to.equal(3);
    expect(b.nonce).to.equal(4);
  });

  it("forgets leases the chain has moved past", async function () {
    let count = 0;
    const manager = new NonceManager(async () => count);
    await manager.reserve();
    await manager.reserve();
    count = 2;
    expect((await manager.reserve()).nonce).to.equal(2);
    expect(manager.held()).to.deep.equal([2]);
  });
});
