import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { getCreateAddress, JsonRpcProvider, ZeroAddress } from "ethers";
import { startAnvil, type AnvilInstance } from "../../guardian/ops/anvil";
import { deployFailsafe } from "../../deploy/deploy-failsafe";
import localhost from "../../deploy/parameters/localhost.json";
import { MockERC20__factory, PausableVault__factory, TimelockedRecovery__factory } from "../../typechain-types";
import { deployedAddresses, REPO_ROOT, runHardhat, startHardhat } from "../helpers/hardhat-cli";

const MODULE = "deploy/modules/FailsafeLocal.ts";
const PARAMETERS = "deploy/parameters/localhost.json";
const params = localhost.FailsafeLocal;
const DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/** Checks every role and setting the parameters file asks for, on chain, and that the deployer kept none. */
async function expectWired(provider: JsonRpcProvider, addresses: { asset: string; timelock: string; vault: string }) {
  const vault = PausableVault__factory.connect(addresses.vault, provider);
  const timelock = TimelockedRecovery__factory.connect(addresses.timelock, provider);
  const asset = MockERC20__factory.connect(addresses.asset, provider);

  expect(await vault.asset()).to.equal(addresses.asset);
  expect(await vault.name()).to.equal(params.vaultName);
  expect(await vault.recoveryAddress()).to.equal(params.recovery);
  expect(await vault.hasRole(await vault.GOVERNOR_ROLE(), addresses.timelock)).to.equal(true);
  // The breaker grants no DEFAULT_ADMIN_ROLE: GOVERNOR_ROLE administers itself and the guardians.
  expect(await vault.getRoleAdmin(await vault.GOVERNOR_ROLE())).to.equal(await vault.GOVERNOR_ROLE());
  for (const guardian of params.guardians) expect(await vault.hasRole(await vault.GUARDIAN_ROLE(), guardian)).to.equal(true);
  expect(await vault.tripDuration()).to.equal(BigInt(params.tripDuration));
  expect(await vault.claimDelay()).to.equal(BigInt(params.claimDelay));
  const [bps, window, action] = await vault.outflowLimit(addresses.asset);
  expect([bps, window, action]).to.deep.equal([BigInt(params.outflowBps), BigInt(params.outflowWindow), BigInt(params.outflowAction)]);

  expect(await timelock.getMinDelay()).to.equal(BigInt(params.timelockDelay));
  for (const proposer of params.proposers) {
    expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), proposer)).to.equal(true);
    expect(await timelock.hasRole(await timelock.CANCELLER_ROLE(), proposer)).to.equal(true);
  }
  for (const executor of params.executors) expect(await timelock.hasRole(await timelock.EXECUTOR_ROLE(), executor)).to.equal(true);

  for (const role of [await vault.DEFAULT_ADMIN_ROLE(), await vault.GOVERNOR_ROLE(), await vault.GUARDIAN_ROLE()]) {
    expect(await vault.hasRole(role, DEPLOYER)).to.equal(false);
  }
  expect(await timelock.hasRole(await timelock.DEFAULT_ADMIN_ROLE(), DEPLOYER)).to.equal(false);
  expect(await timelock.hasRole(await timelock.DEFAULT_ADMIN_ROLE(), ZeroAddress)).to.equal(false);

  expect(await asset.balanceOf(params.mintTo)).to.equal(BigInt(params.mintAmount));
}

function localAddresses(printed: Record<string, string>) {
  return {
    asset: printed["FailsafeLocal#MockERC20"]!,
    timelock: printed["FailsafeLocal#TimelockedRecovery"]!,
    vault: printed["FailsafeLocal#PausableVault"]!,
  };
}

describe("deploy/ (Ignition)", function () {
  let anvil: AnvilInstance;
  let provider: JsonRpcProvider;
  const deploymentIds: string[] = [];

  function deploymentId(name: string): string {
    const id = `test-${name}-${process.pid}-${Date.now()}`;
    deploymentIds.push(id);
    return id;
  }

  afterEach(async function () {
    provider?.destroy();
    await anvil?.stop();
  });

  after(async function () {
    for (const id of deploymentIds) await rm(path.join(REPO_ROOT, "deploy", "deployments", id), { recursive: true, force: true });
  });

  describe("npx hardhat ignition deploy deploy/modules/FailsafeLocal.ts --network localhost", function () {
    it("deploys and wires the timelock, vault and mock asset, and a rerun changes nothing", async function () {
      anvil = await startAnvil();
      provider = new JsonRpcProvider(anvil.url);
      const id = deploymentId("clean");
      const args = ["ignition", "deploy", MODULE, "--network", "localhost", "--parameters", PARAMETERS, "--deployment-id", id];

      const first = await runHardhat(args, anvil.url);
      expect(first.code, first.output).to.equal(0);
      expect(first.output).to.contain("[ FailsafeLocal ] successfully deployed");
      const addresses = localAddresses(deployedAddresses(first.output));
      await expectWired(provider, addresses);
      const nonceAfterFirst = await provider.getTransactionCount(DEPLOYER);
      expect(nonceAfterFirst).to.equal(4); // asset, timelock, mint, vault

      const second = await runHardhat(args, anvil.url);
      expect(second.code, second.output).to.equal(0);
      expect(second.output).to.contain("Nothing new to deploy");
      expect(localAddresses(deployedAddresses(second.output))).to.deep.equal(addresses);
      expect(await provider.getTransactionCount(DEPLOYER)).to.equal(nonceAfterFirst);
    });

    it("resumes a deployment that was killed after sending its first transactions, without redeploying", async function () {
      // With mining off, the deployment sends its first batch and then waits; killing it there leaves
      // transactions in flight that only the journal knows about.
      anvil = await startAnvil({ noMining: true });
      provider = new JsonRpcProvider(anvil.url);
      const id = deploymentId("resume");
      const args = ["ignition", "deploy", MODULE, "--network", "localhost", "--parameters", PARAMETERS, "--deployment-id", id];
      const journal = path.join(REPO_ROOT, "deploy", "deployments", id, "journal.jsonl");

      // Kill only once the first batch (asset and timelock) is sent and journaled, and nothing is mid-send:
      // a kill between a send and its journal entry is a different failure (Ignition then sees a foreign
      // transaction at its nonce), not the resume this test is about.
      const settled = (): boolean => {
        if (!existsSync(journal)) return false;
        const text = readFileSync(journal, "utf8");
        const sent = text.split('"TRANSACTION_SEND"').length - 1;
        return sent >= 2 && sent === text.split('"TRANSACTION_PREPARE_SEND"').length - 1;
      };
      const interrupted = startHardhat(args, anvil.url);
      const deadline = Date.now() + 60_000;
      while (!settled()) {
        if (Date.now() > deadline) throw new Error("the deployment never sent a transaction");
        if (interrupted.child.exitCode !== null) throw new Error(`the deployment exited early:\n${(await interrupted.done).output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      interrupted.child.kill("SIGKILL");
      const killed = await interrupted.done;
      expect(killed.signal).to.equal("SIGKILL");
      expect(killed.output).not.to.contain("successfully deployed");
      const pendingSends = await provider.send("eth_getTransactionCount", [DEPLOYER, "pending"]);
      expect(Number(pendingSends)).to.equal(2);
      expect(await provider.getCode(getCreateAddress({ from: DEPLOYER, nonce: 3 }))).to.equal("0x");

      await provider.send("evm_setAutomine", [true]);
      await provider.send("evm_mine", []);
      const resumed = await runHardhat(args, anvil.url);
      expect(resumed.code, resumed.output).to.equal(0);
      expect(resumed.output).to.contain("[ FailsafeLocal ] successfully deployed");

      // Exactly the module's four transactions: the ones sent before the kill were picked up, not resent.
      expect(await provider.getTransactionCount(DEPLOYER)).to.equal(4);
      const addresses = localAddresses(deployedAddresses(resumed.output));
      const created = [0, 1, 2, 3].map((nonce) => getCreateAddress({ from: DEPLOYER, nonce }));
      for (const address of Object.values(addresses)) expect(created).to.include(address);
      await expectWired(provider, addresses);
    });
  });

  describe("npx hardhat ignition deploy deploy/modules/Failsafe.ts (public-network module)", function () {
    it("deploys from the annotated example parameters file, wired as it says", async function () {
      anvil = await startAnvil();
      provider = new JsonRpcProvider(anvil.url);
      const id = deploymentId("example");
      const args = [
        "ignition", "deploy", "deploy/modules/Failsafe.ts", "--network", "localhost",
        "--parameters", "deploy/parameters/mainnet.example.json5", "--deployment-id", id,
      ];
      const deployed = await runHardhat(args, anvil.url);
      expect(deployed.code, deployed.output).to.equal(0);
      const printed = deployedAddresses(deployed.output);
      const vault = PausableVault__factory.connect(printed["Failsafe#PausableVault"]!, provider);
      const timelock = TimelockedRecovery__factory.connect(printed["Failsafe#TimelockedRecovery"]!, provider);
      // The example's values (USDC, 2-day timelock, 3-day trips, 20 % per 6 h delayed, placeholder roles).
      expect(await vault.asset()).to.equal("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");
      expect(await vault.recoveryAddress()).to.equal("0x4444444444444444444444444444444444444444");
      expect(await vault.hasRole(await vault.GUARDIAN_ROLE(), "0x3333333333333333333333333333333333333333")).to.equal(true);
      expect(await vault.hasRole(await vault.GOVERNOR_ROLE(), await timelock.getAddress())).to.equal(true);
      expect(await vault.tripDuration()).to.equal(259_200n);
      expect(await timelock.getMinDelay()).to.equal(172_800n);
      expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), "0x1111111111111111111111111111111111111111")).to.equal(true);
      expect(await timelock.hasRole(await timelock.EXECUTOR_ROLE(), ZeroAddress)).to.equal(true);
    });
  });

  describe("deployFailsafe()", function () {
    it("deploys the same module programmatically, and resumes from its journal directory", async function () {
      anvil = await startAnvil();
      provider = new JsonRpcProvider(anvil.url);
      const deploymentDir = path.join(os.tmpdir(), deploymentId("programmatic"));
      try {
        const first = await deployFailsafe({ rpcUrl: anvil.url, module: "FailsafeLocal", parameters: localhost, deploymentDir });
        expect(first.addresses.asset).to.be.a("string");
        await expectWired(provider, { asset: first.addresses.asset!, timelock: first.addresses.timelock, vault: first.addresses.vault });

        const again = await deployFailsafe({ rpcUrl: anvil.url, module: "FailsafeLocal", parameters: localhost, deploymentDir });
        expect(again.addresses).to.deep.equal(first.addresses);
        expect(await provider.getTransactionCount(DEPLOYER)).to.equal(4);
      } finally {
        await rm(deploymentDir, { recursive: true, force: true });
      }
    });

    it("names the missing parameter when the parameters are incomplete", async function () {
      anvil = await startAnvil();
      const { recovery: _omitted, ...withoutRecovery } = params;
      await deployFailsafe({ rpcUrl: anvil.url, module: "FailsafeLocal", parameters: { FailsafeLocal: withoutRecovery } }).then(
        () => expect.fail("deployed without a recovery address"),
        (err: Error) => expect(err.message).to.contain("recovery"),
      );
    });
  });
});
