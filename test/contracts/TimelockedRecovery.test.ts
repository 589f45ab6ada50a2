import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { MockERC20, PausableVault, TimelockedRecovery } from "../../typechain-types";

const DAY = 24 * 60 * 60;
const DELAY = 2 * DAY;
const WINDOW = 6 * 60 * 60;
const UNIT = 10n ** 18n;

/** A vault governed by a TimelockedRecovery (2-day delay), with alice's 1,000 deposited. */
async function timelockFixture() {
  const [proposer, executor, guardian, recovery, alice, stranger, newGuardian] = await ethers.getSigners();
  const timelock = (await (await ethers.getContractFactory("TimelockedRecovery")).deploy(
    DELAY,
    [proposer.address],
    [executor.address],
    ethers.ZeroAddress,
  )) as TimelockedRecovery;
  const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Asset", "AST", 18)) as MockERC20;
  const vault = (await (await ethers.getContractFactory("PausableVault")).deploy(
    await token.getAddress(),
    "Failsafe Vault",
    "fVLT",
    {
      governance: await timelock.getAddress(),
      recovery: recovery.address,
      guardians: [guardian.address],
      tripDuration: 3 * DAY,
      outflowBps: 2_000,
      outflowWindow: WINDOW,
      outflowAction: 1, // Delay
      claimDelay: 3 * DAY, // above the 2-day timelock + the vault's 30-minute claim-order margin
    },
  )) as PausableVault;
  await token.mint(alice.address, 1_000n * UNIT);
  await token.connect(alice).approve(await vault.getAddress(), ethers.MaxUint256);
  await vault.connect(alice).deposit(1_000n * UNIT, alice.address);
  return { timelock, vault, token, proposer, executor, guardian, recovery, alice, stranger, newGuardian };
}

type Fixture = Awaited<ReturnType<typeof timelockFixture>>;

/** Executes the operation a helper scheduled, reading target and data back from its GovernanceActionScheduled event. */
async function executeScheduled(f: Fixture, txPromise: Promise<unknown>, salt: string) {
  const tx = (await txPromise) as { wait(): Promise<{ logs: Array<{ topics: string[]; data: string }> } | null> };
  const receipt = await tx.wait();
  const parsed = receipt!.logs
    .map((l) => {
      try {
        return f.timelock.interface.parseLog(l);
      } catch {
        return null;
      }
    })
    .find((l) => l?.name === "GovernanceActionScheduled")!;
  await time.increase(DELAY);
  return f.timelock.connect(f.executor).execute(parsed.args.target, 0, parsed.args.data, ethers.ZeroHash, salt);
}

describe("TimelockedRecovery", function () {
  describe("constructor", function () {
    it("makes the timelock its own proposer so the helpers can schedule through the public schedule", async function () {
      const { timelock, proposer } = await loadFixture(timelockFixture);
      const PROPOSER = await timelock.PROPOSER_ROLE();
      expect(await timelock.hasRole(PROPOSER, await timelock.getAddress())).to.equal(true);
      expect(await timelock.hasRole(PROPOSER, proposer.address)).to.equal(true);
      expect(await timelock.getMinDelay()).to.equal(DELAY);
    });
  });

  describe("scheduleLift", function () {
    it("schedules visibly with the minimum delay, executes only after it, and lifts the trip", async function () {
      const { timelock, vault, proposer, executor, guardian, alice } = await loadFixture(timelockFixture);
      const id = ethers.id("incident");
      await vault.connect(guardian).trip(id);
      const salt = ethers.id("lift-1");
      const target = await vault.getAddress();
      const data = vault.interface.encodeFunctionData("lift", [id]);
      const opId = await timelock.hashOperation(target, 0, data, ethers.ZeroHash, salt);
      const at = (await time.latest()) + 1;
      await time.setNextBlockTimestamp(at);
      const tx = timelock.connect(proposer).scheduleLift(target, id, salt);
      await expect(tx)
        .to.emit(timelock, "CallScheduled")
        .withArgs(opId, 0, target, 0, data, ethers.ZeroHash, DELAY);
      await expect(tx)
        .to.emit(timelock, "GovernanceActionScheduled")
        .withArgs(opId, vault.interface.getFunction("lift")!.selector, target, data, at + DELAY);
      expect(await timelock.isOperationPending(opId)).to.equal(true);

      await expect(timelock.connect(executor).execute(target, 0, data, ethers.ZeroHash, salt))
        .to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState")
        .withArgs(opId, ethers.toBeHex(1n << 2n, 32)); // Ready
      await time.increaseTo(at + DELAY);
      await expect(timelock.connect(executor).execute(target, 0, data, ethers.ZeroHash, salt))
        .to.emit(vault, "Lifted")
        .withArgs(id, await timelock.getAddress());
      expect(await vault.isTripped()).to.equal(false);
      await expect(vault.connect(alice).deposit(0, alice.address)).not.to.be.reverted;
    });

    it("can be cancelled during the delay, after which it never executes", async function () {
      const { timelock, vault, proposer, executor, guardian } = await loadFixture(timelockFixture);
      const id = ethers.id("incident");
      await vault.connect(guardian).trip(id);
      const salt = ethers.id("lift-cancelled");
      const target = await vault.getAddress();
      const data = vault.interface.encodeFunctionData("lift", [id]);
      const opId = await timelock.hashOperation(target, 0, data, ethers.ZeroHash, salt);
      await timelock.connect(proposer).scheduleLift(target, id, salt);
      await expect(timelock.connect(proposer).cancel(opId)).to.emit(timelock, "Cancelled").withArgs(opId);
      await time.increase(DELAY);
      await expect(
        timelock.connect(executor).execute(target, 0, data, ethers.ZeroHash, salt),
      ).to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState");
      expect(await vault.isTripped()).to.equal(true);
    });
  });

  describe("a lift scheduled for one trip", function () {
    it("never ends a later trip: the lapsed trip's id cannot trip again, and the lift reverts against a new id", async function () {
      const f = await loadFixture(timelockFixture);
      const first = ethers.id("incident-first");
      await f.vault.connect(f.guardian).trip(first);
      const target = await f.vault.getAddress();
      const salt = ethers.id("lift-first");
      const scheduled = f.timelock.connect(f.proposer).scheduleLift(target, first, salt);
      // While the lift waits out the delay, the trip lapses and, after the cooldown, the guardian trips again.
      await time.increase(3 * DAY + 2 * DAY);
      expect(await f.vault.isTripped()).to.equal(false);
      await expect(f.vault.connect(f.guardian).trip(first))
        .to.be.revertedWithCustomError(f.vault, "CircuitBreakerIncidentReused")
        .withArgs(first);
      const second = ethers.id("incident-second");
      await f.vault.connect(f.guardian).trip(second);
      await expect(executeScheduled(f, scheduled, salt))
        .to.be.revertedWithCustomError(f.vault, "CircuitBreakerIncidentMismatch")
        .withArgs(first, second);
      expect(await f.vault.isTripped()).to.equal(true);
      expect((await f.vault.incident())[0]).to.equal(second);
    });
  });

  describe("stale operations (L-2)", function () {
    it("a ratification that executes after the trip lapsed reverts, naming the incident and when it ended", async function () {
      const f = await loadFixture(timelockFixture);
      const id = ethers.id("incident");
      await f.vault.connect(f.guardian).trip(id);
      const [, , , expiresAt] = await f.vault.incident();
      const salt = ethers.id("ratify-late");
      const scheduled = f.timelock
        .connect(f.proposer)
        .scheduleRatify(await f.vault.getAddress(), id, expiresAt + BigInt(10 * DAY), salt);
      await time.increaseTo(expiresAt); // nobody executed it in time; the trip lapsed
      await expect(executeScheduled(f, scheduled, salt))
        .to.be.revertedWithCustomError(f.vault, "CircuitBreakerIncidentNotActive")
        .withArgs(id, expiresAt);
      expect(await f.vault.isTripped()).to.equal(false);
    });

    it("an operation ready for longer than GRACE_PERIOD expires: execute reverts with its id and deadline", async function () {
      const f = await loadFixture(timelockFixture);
      const grace = await f.timelock.GRACE_PERIOD();
      expect(grace).to.equal(14n * BigInt(DAY));
      const target = await f.vault.getAddress();
      const salt = ethers.id("late-duration");
      const data = f.vault.interface.encodeFunctionData("setTripDuration", [5 * DAY]);
      const opId = await f.timelock.hashOperation(target, 0, data, ethers.ZeroHash, salt);
      expect(await f.timelock.operationDeadline(opId)).to.equal(0n);
      await f.timelock.connect(f.proposer).scheduleTripDuration(target, 5 * DAY, salt);
      const readyAt = await f.timelock.getTimestamp(opId);
      expect(await f.timelock.operationDeadline(opId)).to.equal(readyAt + grace);
      await time.setNextBlockTimestamp(readyAt + grace + 1n);
      await expect(f.timelock.connect(f.executor).execute(target, 0, data, ethers.ZeroHash, salt))
        .to.be.revertedWithCustomError(f.timelock, "TimelockedRecoveryOperationExpired")
        .withArgs(opId, readyAt + grace);
      // Cancelling still works, and then nothing is pending any more.
      await f.timelock.connect(f.proposer).cancel(opId);
      expect(await f.timelock.operationDeadline(opId)).to.equal(0n);
    });

    it("an operation executes up to and including its deadline, then is done (no deadline)", async function () {
      const f = await loadFixture(timelockFixture);
      const target = await f.vault.getAddress();
      const salt = ethers.id("on-time");
      const data = f.vault.interface.encodeFunctionData("setTripDuration", [5 * DAY]);
      const opId = await f.timelock.hashOperation(target, 0, data, ethers.ZeroHash, salt);
      await f.timelock.connect(f.proposer).scheduleTripDuration(target, 5 * DAY, salt);
      const deadline = await f.timelock.operationDeadline(opId);
      await time.setNextBlockTimestamp(deadline);
      await expect(f.timelock.connect(f.executor).execute(target, 0, data, ethers.ZeroHash, salt)).to.emit(
        f.vault,
        "TripDurationSet",
      );
      expect(await f.timelock.operationDeadline(opId)).to.equal(0n);
    });

    it("expires batches too", async function () {
      const f = await loadFixture(timelockFixture);
      const target = await f.vault.getAddress();
      const salt = ethers.id("batch");
      const data = f.vault.interface.encodeFunctionData("setTripDuration", [5 * DAY]);
      await f.timelock.connect(f.proposer).scheduleBatch([target], [0], [data], ethers.ZeroHash, salt, DELAY);
      const opId = await f.timelock.hashOperationBatch([target], [0], [data], ethers.ZeroHash, salt);
      const deadline = await f.timelock.operationDeadline(opId);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(f.timelock.connect(f.executor).executeBatch([target], [0], [data], ethers.ZeroHash, salt))
        .to.be.revertedWithCustomError(f.timelock, "TimelockedRecoveryOperationExpired")
        .withArgs(opId, deadline);
      await time.setNextBlockTimestamp(deadline + 2n);
      await expect(
        f.timelock.connect(f.executor).executeBatch([target], [0], [data], ethers.ZeroHash, ethers.id("never scheduled")),
      ).to.be.revertedWithCustomError(f.timelock, "TimelockUnexpectedOperationState");
    });
  });

  describe("the other helpers", function () {
    it("scheduleRatify extends the trip", async function () {
      const f = await loadFixture(timelockFixture);
      const id = ethers.id("incident");
      await f.vault.connect(f.guardian).trip(id);
      const until = BigInt(await time.latest()) + BigInt(20 * DAY);
      const salt = ethers.id("ratify");
      await expect(
        executeScheduled(f, f.timelock.connect(f.proposer).scheduleRatify(await f.vault.getAddress(), id, until, salt), salt),
      ).to.emit(f.vault, "Ratified");
      expect((await f.vault.incident())[3]).to.equal(until);
    });

    it("scheduleGuardianRotation rotates the guardian", async function () {
      const f = await loadFixture(timelockFixture);
      const salt = ethers.id("rotate");
      await executeScheduled(
        f,
        f.timelock
          .connect(f.proposer)
          .scheduleGuardianRotation(await f.vault.getAddress(), f.guardian.address, f.newGuardian.address, salt),
        salt,
      );
      const role = await f.vault.GUARDIAN_ROLE();
      expect(await f.vault.hasRole(role, f.guardian.address)).to.equal(false);
      expect(await f.vault.hasRole(role, f.newGuardian.address)).to.equal(true);
    });

    it("scheduleOutflowLimit and scheduleTripDuration change the settings", async function () {
      const f = await loadFixture(timelockFixture);
      const asset = await f.token.getAddress();
      const target = await f.vault.getAddress();
      const s1 = ethers.id("limit");
      await executeScheduled(f, f.timelock.connect(f.proposer).scheduleOutflowLimit(target, asset, 500, DAY, 1, s1), s1);
      expect(await f.vault.outflowLimit(asset)).to.deep.equal([500n, BigInt(DAY), 1n]);
      const s2 = ethers.id("duration");
      await executeScheduled(f, f.timelock.connect(f.proposer).scheduleTripDuration(target, 5 * DAY, s2), s2);
      expect(await f.vault.tripDuration()).to.equal(5 * DAY);
    });
  });

  describe("scheduleRecovery", function () {
    it("sweeps the vault's funds to the registered recovery address and nowhere else", async function () {
      const f = await loadFixture(timelockFixture);
      const salt = ethers.id("recover");
      const asset = await f.token.getAddress();
      await expect(
        executeScheduled(f, f.timelock.connect(f.proposer).scheduleRecovery(await f.vault.getAddress(), asset, 400n * UNIT, salt), salt),
      )
        .to.emit(f.vault, "Recovered")
        .withArgs(asset, f.recovery.address, 400n * UNIT);
      expect(await f.token.balanceOf(f.recovery.address)).to.equal(400n * UNIT);
      expect(await f.token.balanceOf(await f.timelock.getAddress())).to.equal(0n);
      expect(await f.token.balanceOf(f.proposer.address)).to.equal(0n);
      expect(await f.token.balanceOf(f.executor.address)).to.equal(0n);
    });

    it("is the only way: proposer, executor and guardian cannot call recover on the vault themselves", async function () {
      const f = await loadFixture(timelockFixture);
      const role = await f.vault.GOVERNOR_ROLE();
      for (const signer of [f.proposer, f.executor, f.guardian, f.stranger]) {
        await expect(f.vault.connect(signer).recover(await f.token.getAddress(), 1n))
          .to.be.revertedWithCustomError(f.vault, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, role);
      }
    });
  });

  describe("access", function () {
    it("lets only proposers use the helpers", async function () {
      const { timelock, vault, guardian, stranger } = await loadFixture(timelockFixture);
      const role = await timelock.PROPOSER_ROLE();
      const target = await vault.getAddress();
      const id = ethers.id("x");
      const calls = [
        (s: typeof stranger) => timelock.connect(s).scheduleLift(target, id, id),
        (s: typeof stranger) => timelock.connect(s).scheduleRatify(target, id, 1n, id),
        (s: typeof stranger) => timelock.connect(s).scheduleGuardianRotation(target, s.address, s.address, id),
        (s: typeof stranger) => timelock.connect(s).scheduleOutflowLimit(target, target, 1, DAY, 0, id),
        (s: typeof stranger) => timelock.connect(s).scheduleTripDuration(target, DAY, id),
        (s: typeof stranger) => timelock.connect(s).scheduleRecovery(target, target, 1n, id),
      ];
      for (const signer of [guardian, stranger]) {
        for (const call of calls) {
          await expect(call(signer))
            .to.be.revertedWithCustomError(timelock, "AccessControlUnauthorizedAccount")
            .withArgs(signer.address, role);
        }
      }
    });

    it("rejects a target that is not a contract", async function () {
      const { timelock, proposer, stranger } = await loadFixture(timelockFixture);
      await expect(timelock.connect(proposer).scheduleLift(stranger.address, ethers.id("x"), ethers.ZeroHash))
        .to.be.revertedWithCustomError(timelock, "TimelockedRecoveryInvalidTarget")
        .withArgs(stranger.address);
    });
  });
});
