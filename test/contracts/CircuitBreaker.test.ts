import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time, mine } from "@nomicfoundation/hardhat-network-helpers";
import type { Interface } from "ethers";
import type { BreakerConsumer, MockERC20 } from "../../typechain-types";

// The abstract CircuitBreaker, driven through BreakerConsumer (the README's example treasury: `fund` is an inflow,
// `pay` an outflow, both protected operations).
const DAY = 24 * 60 * 60;
const WINDOW = 6 * 60 * 60;
const UNIT = 10n ** 18n;
const WAD = 10n ** 18n;
/** The bucket of a 20 % limit: half of it (10 % of holdings, in WAD) at once, refilling at that much per window. */
const BURST = 1_000n * 10n ** 14n;
enum Action {
  Revert,
  Trip,
  Delay,
}

async function breakerFixture() {
  const [governance, guardian, guardian2, stranger, payee] = await ethers.getSigners();
  const breaker = (await (await ethers.getContractFactory("BreakerConsumer")).deploy(governance.address, [
    guardian.address,
    guardian2.address,
  ])) as BreakerConsumer;
  const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Token", "TKN", 18)) as MockERC20;
  await token.mint(stranger.address, 1_000_000n * UNIT);
  await token.connect(stranger).approve(await breaker.getAddress(), ethers.MaxUint256);
  return { breaker, token, governance, guardian, guardian2, stranger, payee };
}

/** A funded breaker with a 20 % / 6 h limit on the token. */
async function limitedFixture() {
  const f = await breakerFixture();
  await f.breaker.connect(f.governance).setOutflowLimit(await f.token.getAddress(), 2_000, WINDOW, Action.Revert);
  await f.breaker.connect(f.stranger).fund(await f.token.getAddress(), 1_000n * UNIT);
  return f;
}

const incident = (label: string) => ethers.id(label);

describe("CircuitBreaker", function () {
  describe("constructor", function () {
    it("gives governance DEFAULT_ADMIN_ROLE and GOVERNOR_ROLE, guardians GUARDIAN_ROLE, and makes GOVERNOR_ROLE the guardians' admin", async function () {
      const { breaker, governance, guardian, guardian2 } = await loadFixture(breakerFixture);
      const [admin, gov, grd] = [
        await breaker.DEFAULT_ADMIN_ROLE(),
        await breaker.GOVERNOR_ROLE(),
        await breaker.GUARDIAN_ROLE(),
      ];
      expect(await breaker.hasRole(admin, governance.address)).to.equal(true);
      expect(await breaker.hasRole(gov, governance.address)).to.equal(true);
      expect(await breaker.hasRole(grd, guardian.address)).to.equal(true);
      expect(await breaker.hasRole(grd, guardian2.address)).to.equal(true);
      expect(await breaker.hasRole(grd, governance.address)).to.equal(false);
      expect(await breaker.getRoleAdmin(grd)).to.equal(gov);
      expect(await breaker.tripDuration()).to.equal(DAY);
    });

    it("rejects a zero governance or a zero guardian", async function () {
      const factory = await ethers.getContractFactory("BreakerConsumer");
      const [someone] = await ethers.getSigners();
      const probe = await factory.deploy(someone.address, []);
      await expect(factory.deploy(ethers.ZeroAddress, []))
        .to.be.revertedWithCustomError(probe, "CircuitBreakerInvalidAccount")
        .withArgs(await probe.GOVERNOR_ROLE());
      await expect(factory.deploy(someone.address, [ethers.ZeroAddress]))
        .to.be.revertedWithCustomError(probe, "CircuitBreakerInvalidAccount")
        .withArgs(await probe.GUARDIAN_ROLE());
    });

    it("supports ERC-165 for ICircuitBreaker and IAccessControl", async function () {
      const { breaker } = await loadFixture(breakerFixture);
      const iface = (names: string[], abi: Interface) =>
        names.reduce((acc, n) => acc ^ BigInt(abi.getFunction(n)!.selector), 0n);
      const cb = breaker.interface;
      const breakerId = iface(
        [
          "trip", "ratify", "lift", "setTripDuration", "setOperationExempt", "setOutflowLimit", "rotateGuardian",
          "GUARDIAN_ROLE", "GOVERNOR_ROLE", "isTripped", "incident", "tripDuration", "isOperationExempt",
          "isOperationOpen", "outflowLimit", "outflowState",
        ],
        cb,
      );
      expect(await breaker.supportsInterface(ethers.toBeHex(breakerId, 4))).to.equal(true);
      expect(await breaker.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await breaker.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("trip", function () {
    it("pauses protected operations until the trip lapses, with no write needed for the lapse", async function () {
      const { breaker, token, guardian, stranger } = await loadFixture(breakerFixture);
      const id = incident("exploit-1");
      await expect(breaker.connect(guardian).trip(id)).to.emit(breaker, "Tripped");
      const [, , trippedAt, expiresAt] = await breaker.incident();
      expect(expiresAt - trippedAt).to.equal(BigInt(DAY));
      expect(await breaker.isTripped()).to.equal(true);
      const fund = breaker.interface.getFunction("fund")!.selector;
      await expect(breaker.connect(stranger).fund(await token.getAddress(), 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOperationPaused")
        .withArgs(fund, id, expiresAt);

      await time.increaseTo(expiresAt - 1n);
      expect(await breaker.isTripped()).to.equal(true);
      await time.increaseTo(expiresAt);
      expect(await breaker.isTripped()).to.equal(false);
      await expect(breaker.connect(stranger).fund(await token.getAddress(), 1n)).not.to.be.reverted;
    });

    it("records the incident, the guardian and the expiry, and emits them", async function () {
      const { breaker, guardian } = await loadFixture(breakerFixture);
      const id = incident("exploit-2");
      const at = (await time.latest()) + 10;
      await time.setNextBlockTimestamp(at);
      await expect(breaker.connect(guardian).trip(id))
        .to.emit(breaker, "Tripped")
        .withArgs(id, guardian.address, at + DAY);
      expect(await breaker.incident()).to.deep.equal([id, guardian.address, BigInt(at), BigInt(at + DAY)]);
    });

    it("is idempotent: a second trip while tripped returns false, emits nothing and keeps the first incident", async function () {
      const { breaker, guardian, guardian2 } = await loadFixture(breakerFixture);
      const first = incident("first");
      await breaker.connect(guardian).trip(first);
      const before = await breaker.incident();
      expect(await breaker.connect(guardian2).trip.staticCall(incident("second"))).to.equal(false);
      await expect(breaker.connect(guardian2).trip(incident("second"))).not.to.emit(breaker, "Tripped");
      expect(await breaker.incident()).to.deep.equal(before);
    });

    it("lets two guardians racing in the same block both succeed, exactly one of them tripping", async function () {
      const { breaker, guardian, guardian2 } = await loadFixture(breakerFixture);
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        const a = await breaker.connect(guardian).trip(incident("race-a"));
        const b = await breaker.connect(guardian2).trip(incident("race-b"));
        await mine();
        const [ra, rb] = [await a.wait(), await b.wait()];
        expect(ra!.status).to.equal(1);
        expect(rb!.status).to.equal(1);
        expect(ra!.blockNumber).to.equal(rb!.blockNumber);
        const tripped = [ra!, rb!].flatMap((r) =>
          r.logs.map((l) => breaker.interface.parseLog(l)).filter((l) => l?.name === "Tripped"),
        );
        expect(tripped).to.have.length(1);
        expect((await breaker.incident())[0]).to.equal(tripped[0]!.args.incidentId);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
    });

    it("trips again after a lapse, with the new incident", async function () {
      const { breaker, guardian } = await loadFixture(breakerFixture);
      await breaker.connect(guardian).trip(incident("old"));
      await time.increase(DAY);
      expect(await breaker.connect(guardian).trip.staticCall(incident("new"))).to.equal(true);
      await breaker.connect(guardian).trip(incident("new"));
      expect((await breaker.incident())[0]).to.equal(incident("new"));
    });

    it("makes incident ids single-use: an id that tripped before reverts, naming it, once no trip is active", async function () {
      const { breaker, governance, guardian, guardian2 } = await loadFixture(breakerFixture);
      const id = incident("once");
      await breaker.connect(guardian).trip(id);
      // During the trip the same id stays the racing guardians' no-op, not a revert.
      expect(await breaker.connect(guardian2).trip.staticCall(id)).to.equal(false);
      await breaker.connect(governance).lift(id);
      await expect(breaker.connect(guardian2).trip(id))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentReused")
        .withArgs(id);
      await breaker.connect(guardian).trip(incident("twice-lapsed"));
      await time.increase(DAY);
      await expect(breaker.connect(guardian).trip(incident("twice-lapsed")))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentReused")
        .withArgs(incident("twice-lapsed"));
      expect(await breaker.isTripped()).to.equal(false);
    });

    it("rejects the zero incident id", async function () {
      const { breaker, guardian } = await loadFixture(breakerFixture);
      await expect(breaker.connect(guardian).trip(ethers.ZeroHash)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerInvalidIncident",
      );
    });
  });

  describe("ratify", function () {
    it("extends the current incident's trip and emits the old and new expiry", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      const id = incident("ratified");
      await breaker.connect(guardian).trip(id);
      const [, , , expiresAt] = await breaker.incident();
      const extended = expiresAt + BigInt(10 * DAY);
      await expect(breaker.connect(governance).ratify(id, extended))
        .to.emit(breaker, "Ratified")
        .withArgs(id, expiresAt, extended);
      await time.increaseTo(expiresAt + 1n);
      expect(await breaker.isTripped()).to.equal(true);
      await time.increaseTo(extended);
      expect(await breaker.isTripped()).to.equal(false);
    });

    it("re-imposes a lapsed trip of the same incident", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      const id = incident("lapsed");
      await breaker.connect(guardian).trip(id);
      await time.increase(2 * DAY);
      expect(await breaker.isTripped()).to.equal(false);
      await breaker.connect(governance).ratify(id, BigInt((await time.latest()) + DAY));
      expect(await breaker.isTripped()).to.equal(true);
    });

    it("rejects an expiry in the past, now, or beyond MAX_RATIFIED_DURATION", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      const id = incident("bounds");
      await breaker.connect(guardian).trip(id);
      const max = await breaker.MAX_RATIFIED_DURATION();
      const now = BigInt(await time.latest());
      await time.setNextBlockTimestamp(now + 1n);
      await expect(breaker.connect(governance).ratify(id, now + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidExpiry")
        .withArgs(now + 1n, now + 1n + max);
      await time.setNextBlockTimestamp(now + 2n);
      await expect(breaker.connect(governance).ratify(id, now + 3n + max))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidExpiry")
        .withArgs(now + 3n + max, now + 2n + max);
      await time.setNextBlockTimestamp(now + 3n);
      await expect(breaker.connect(governance).ratify(id, now + 3n + max)).to.emit(breaker, "Ratified");
    });

    it("cannot ratify another incident than the current one (a stale timelock operation)", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      await expect(breaker.connect(governance).ratify(incident("never"), 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentMismatch")
        .withArgs(incident("never"), ethers.ZeroHash);
      await breaker.connect(guardian).trip(incident("current"));
      await expect(breaker.connect(governance).ratify(incident("older"), 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentMismatch")
        .withArgs(incident("older"), incident("current"));
      await expect(breaker.connect(governance).ratify(ethers.ZeroHash, 1n)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerInvalidIncident",
      );
    });
  });

  describe("lift", function () {
    it("ends the trip now, emits Lifted and returns true", async function () {
      const { breaker, governance, guardian, token, stranger } = await loadFixture(breakerFixture);
      const id = incident("lifted");
      await breaker.connect(guardian).trip(id);
      expect(await breaker.connect(governance).lift.staticCall(id)).to.equal(true);
      await expect(breaker.connect(governance).lift(id))
        .to.emit(breaker, "Lifted")
        .withArgs(id, governance.address);
      expect(await breaker.isTripped()).to.equal(false);
      await expect(breaker.connect(stranger).fund(await token.getAddress(), 1n)).not.to.be.reverted;
    });

    it("returns false and emits nothing once the trip has lapsed or been lifted", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      const id = incident("twice");
      await breaker.connect(guardian).trip(id);
      await breaker.connect(governance).lift(id);
      expect(await breaker.connect(governance).lift.staticCall(id)).to.equal(false);
      await expect(breaker.connect(governance).lift(id)).not.to.emit(breaker, "Lifted");
    });

    it("never lifts a newer incident than the one it names", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      await breaker.connect(guardian).trip(incident("a"));
      await time.increase(DAY);
      await breaker.connect(guardian).trip(incident("b"));
      await expect(breaker.connect(governance).lift(incident("a")))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentMismatch")
        .withArgs(incident("a"), incident("b"));
      expect(await breaker.isTripped()).to.equal(true);
    });

    it("never lifts a later trip that reused the same id: the re-trip itself is refused", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      const id = incident("reused");
      await breaker.connect(guardian).trip(id);
      await time.increase(DAY); // lapsed: a lift for it may still be waiting in the timelock
      await expect(breaker.connect(guardian).trip(id)).to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentReused");
      await breaker.connect(guardian).trip(incident("fresh"));
      await expect(breaker.connect(governance).lift(id))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentMismatch")
        .withArgs(id, incident("fresh"));
      await expect(breaker.connect(governance).ratify(id, BigInt((await time.latest()) + DAY)))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentMismatch")
        .withArgs(id, incident("fresh"));
      expect(await breaker.isTripped()).to.equal(true);
    });

    it("never lifts a second automatic trip of the same asset, amount and block with the first one's lift", async function () {
      const { breaker, token, governance, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, Action.Trip);
      const amount = 300n * UNIT;
      const block = BigInt(await ethers.provider.getBlockNumber()) + 1n;
      const automaticId = (count: bigint) =>
        ethers.keccak256(
          ethers.AbiCoder.defaultAbiCoder().encode(
            ["address", "address", "uint256", "uint256", "uint64"],
            [breaker.target, asset, amount, block, count],
          ),
        );
      const gasLimit = 500_000n;
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        // Over the limit (trip 1), lifted, over the limit again with the same amount (trip 2): all in one block.
        const first = await breaker.connect(stranger).pay(asset, payee.address, amount, { gasLimit });
        const lift = await breaker.connect(governance).lift(automaticId(0n), { gasLimit });
        const second = await breaker.connect(stranger).pay(asset, payee.address, amount, { gasLimit });
        await mine();
        const receipts = [await first.wait(), await lift.wait(), await second.wait()];
        expect(receipts.map((r) => r!.blockNumber)).to.deep.equal([Number(block), Number(block), Number(block)]);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      expect(automaticId(1n)).to.not.equal(automaticId(0n));
      expect((await breaker.incident())[0]).to.equal(automaticId(1n));
      // The first trip's lift, executed again (say, a second copy waiting in the timelock), cannot end the second.
      await expect(breaker.connect(governance).lift(automaticId(0n)))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentMismatch")
        .withArgs(automaticId(0n), automaticId(1n));
      expect(await breaker.isTripped()).to.equal(true);
    });
  });

  describe("setTripDuration", function () {
    it("sets the duration of future trips within [MIN_TRIP_DURATION, MAX_TRIP_DURATION]", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      const [min, max] = [await breaker.MIN_TRIP_DURATION(), await breaker.MAX_TRIP_DURATION()];
      await expect(breaker.connect(governance).setTripDuration(min - 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidTripDuration")
        .withArgs(min - 1n, min, max);
      await expect(breaker.connect(governance).setTripDuration(max + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidTripDuration")
        .withArgs(max + 1n, min, max);
      await expect(breaker.connect(governance).setTripDuration(max))
        .to.emit(breaker, "TripDurationSet")
        .withArgs(DAY, max);
      await breaker.connect(guardian).trip(incident("long"));
      const [, , trippedAt, expiresAt] = await breaker.incident();
      expect(expiresAt - trippedAt).to.equal(max);
    });

    it("does not shorten or lengthen a trip already in force", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      await breaker.connect(guardian).trip(incident("in-force"));
      const [, , , expiresAt] = await breaker.incident();
      await breaker.connect(governance).setTripDuration(await breaker.MIN_TRIP_DURATION());
      expect((await breaker.incident())[3]).to.equal(expiresAt);
    });
  });

  describe("setOperationExempt (selective pause)", function () {
    it("keeps an exempt operation open while the others stay paused", async function () {
      const { breaker, token, governance, guardian, stranger, payee } = await loadFixture(limitedFixture);
      const pay = breaker.interface.getFunction("pay")!.selector;
      const fund = breaker.interface.getFunction("fund")!.selector;
      await expect(breaker.connect(governance).setOperationExempt(pay, true))
        .to.emit(breaker, "OperationExemptionSet")
        .withArgs(pay, true);
      await breaker.connect(guardian).trip(incident("selective"));
      expect(await breaker.isOperationExempt(pay)).to.equal(true);
      expect(await breaker.isOperationOpen(pay)).to.equal(true);
      expect(await breaker.isOperationOpen(fund)).to.equal(false);
      await expect(breaker.connect(stranger).pay(await token.getAddress(), payee.address, UNIT))
        .to.emit(breaker, "Paid")
        .withArgs(await token.getAddress(), payee.address, UNIT, false);
      await expect(breaker.connect(stranger).fund(await token.getAddress(), UNIT)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerOperationPaused",
      );

      await breaker.connect(governance).setOperationExempt(pay, false);
      await expect(breaker.connect(stranger).pay(await token.getAddress(), payee.address, UNIT)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerOperationPaused",
      );
    });
  });

  describe("outflow limit", function () {
    it("allows at once exactly half the limit (the burst) and rejects one unit more, naming the available amount", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      const [holdings, usedBps, available] = await breaker.outflowState(asset);
      expect([holdings, usedBps, available]).to.deep.equal([1_000n * UNIT, 0n, 100n * UNIT]);
      await expect(breaker.connect(stranger).pay(asset, payee.address, available + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, available + 1n, available);
      await breaker.connect(stranger).pay(asset, payee.address, available);
      expect(await token.balanceOf(payee.address)).to.equal(available);
      expect(await breaker.outflowState(asset)).to.deep.equal([900n * UNIT, 1_000n, 0n]);
      // One second later exactly one second of refill (half the limit per window) is available.
      const t0 = BigInt(await time.latest());
      const refill = ((BURST / BigInt(WINDOW)) * 900n * UNIT) / WAD;
      await time.setNextBlockTimestamp(t0 + 1n);
      await expect(breaker.connect(stranger).pay(asset, payee.address, refill + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, refill + 1n, refill);
    });

    it("refills linearly: one second before the window's end almost all of the burst, at the end exactly all of it", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      const t0 = BigInt(await time.latest());
      const holdings = 900n * UNIT;
      // One second before the edge: used = burst - floor((window - 1) * burst / window).
      const usedBeforeEdge = BURST - ((BigInt(WINDOW) - 1n) * BURST) / BigInt(WINDOW);
      const availableBeforeEdge = ((BURST - usedBeforeEdge) * holdings) / WAD;
      await time.setNextBlockTimestamp(t0 + BigInt(WINDOW) - 1n);
      await expect(breaker.connect(stranger).pay(asset, payee.address, availableBeforeEdge + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, availableBeforeEdge + 1n, availableBeforeEdge);
      // At the edge: the whole burst, 10 % of the current holdings.
      await time.setNextBlockTimestamp(t0 + BigInt(WINDOW));
      await expect(breaker.connect(stranger).pay(asset, payee.address, holdings / 10n)).not.to.be.reverted;
    });

    it("never lets more than the limit out within one window: a burst, then all that refilled a second before the edge", async function () {
      // A bucket holding the whole limit allowed 20 % at once and almost 16 % more at window - 1 s: 36 % in one window.
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      const t0 = BigInt(await time.latest());
      const refilled = ((((BigInt(WINDOW) - 1n) * BURST) / BigInt(WINDOW)) * 900n * UNIT) / WAD;
      await time.setNextBlockTimestamp(t0 + BigInt(WINDOW) - 1n);
      await expect(breaker.connect(stranger).pay(asset, payee.address, refilled + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, refilled + 1n, refilled);
      await breaker.connect(stranger).pay(asset, payee.address, refilled);
      const paid = await token.balanceOf(payee.address);
      expect(paid).to.equal(100n * UNIT + refilled);
      expect(paid).to.be.at.most((1_000n * UNIT * 2_000n) / 10_000n); // 20 % of the holdings at the window's start
    });

    it("costs the same after any idle time: the state decays in O(1)", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      await time.increase(WINDOW);
      const afterWindow = await breaker.connect(stranger).pay.estimateGas(asset, payee.address, UNIT);
      await time.increase(365 * DAY);
      const afterYear = await breaker.connect(stranger).pay.estimateGas(asset, payee.address, UNIT);
      expect(afterYear).to.equal(afterWindow);
    });

    it("credits inflows back: money that leaves and returns frees the window", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      expect((await breaker.outflowState(asset))[2]).to.equal(0n);
      await breaker.connect(stranger).fund(asset, 100n * UNIT);
      const [holdings, usedBps, available] = await breaker.outflowState(asset);
      expect(holdings).to.equal(1_000n * UNIT);
      expect(usedBps).to.equal(0n);
      expect(available).to.equal(100n * UNIT);
    });

    it("credits a smaller inflow back in part", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      const t0 = BigInt(await time.latest());
      await time.setNextBlockTimestamp(t0 + 1n);
      await breaker.connect(stranger).fund(asset, 50n * UNIT);
      // used: the 10 % burst minus one second of refill, minus 50 / 950 of the new holdings.
      const used = BURST - BURST / BigInt(WINDOW) - (50n * UNIT * WAD) / (950n * UNIT);
      expect((await breaker.outflowState(asset))[2]).to.equal(((BURST - used) * 950n * UNIT) / WAD);
    });

    it("accepts a zero outflow without using the limit", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 0n);
      expect((await breaker.outflowState(asset))[1]).to.equal(0n);
    });

    it("counts an approved outflow against the limit without refusing it, recording at most 100 % used", async function () {
      const { breaker, token, governance, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(governance).sweep(asset, payee.address, 600n * UNIT); // 60 % of 1,000
      expect((await breaker.outflowState(asset)).slice(0, 2)).to.deep.equal([400n * UNIT, 6_000n]);
      await breaker.connect(governance).sweep(asset, payee.address, 300n * UNIT); // + 75 % of 400: capped at 100 %
      expect((await breaker.outflowState(asset)).slice(0, 2)).to.deep.equal([100n * UNIT, 10_000n]);
      await breaker.connect(governance).sweep(asset, payee.address, 0n);
      await expect(breaker.connect(governance).sweep(asset, payee.address, 100n * UNIT + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 100n * UNIT + 1n, 100n * UNIT);
    });

    it("caps successive outflows relative to the shrinking holdings", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 50n * UNIT);
      // 5 % of 1,000 used; 5 % of the remaining 950 is what is left of the 10 % burst.
      expect((await breaker.outflowState(asset))[2]).to.equal((950n * UNIT * 5n) / 100n);
    });

    it("with action Trip, trips the breaker and defers the outflow instead of reverting", async function () {
      const { breaker, token, governance, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, Action.Trip);
      const tx = breaker.connect(stranger).pay(asset, payee.address, 300n * UNIT);
      await expect(tx)
        .to.emit(breaker, "OutflowLimitReached")
        .withArgs(asset, 300n * UNIT, 100n * UNIT, Action.Trip);
      await expect(tx).to.emit(breaker, "Tripped");
      await expect(tx).to.emit(breaker, "Paid").withArgs(asset, payee.address, 300n * UNIT, true);
      expect(await breaker.isTripped()).to.equal(true);
      expect((await breaker.incident())[1]).to.equal(await breaker.getAddress());
      expect(await token.balanceOf(payee.address)).to.equal(0n);
      expect((await breaker.outflowState(asset))[0]).to.equal(1_000n * UNIT);
    });

    it("with action Delay, defers the outflow without tripping", async function () {
      const { breaker, token, governance, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, Action.Delay);
      await expect(breaker.connect(stranger).pay(asset, payee.address, 300n * UNIT))
        .to.emit(breaker, "OutflowLimitReached")
        .withArgs(asset, 300n * UNIT, 100n * UNIT, Action.Delay);
      expect(await breaker.isTripped()).to.equal(false);
    });

    it("without a limit only keeps the books, and never pays more than the tracked holdings", async function () {
      const { breaker, token, governance, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await expect(breaker.connect(governance).setOutflowLimit(asset, 0, 12345, Action.Delay))
        .to.emit(breaker, "OutflowLimitSet")
        .withArgs(asset, 0, 0, Action.Revert);
      expect(await breaker.outflowLimit(asset)).to.deep.equal([0n, 0n, BigInt(Action.Revert)]);
      await breaker.connect(stranger).pay(asset, payee.address, 900n * UNIT);
      expect(await breaker.outflowState(asset)).to.deep.equal([100n * UNIT, 0n, 100n * UNIT]);
      await expect(breaker.connect(stranger).pay(asset, payee.address, 101n * UNIT))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 101n * UNIT, 100n * UNIT);
    });

    it("settles decay under the old limit when the limit changes", async function () {
      const { breaker, token, governance, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT); // 10 % used: the whole burst
      await time.increase(WINDOW / 2 - 1); // half refilled under the old rate at the next block
      await breaker.connect(governance).setOutflowLimit(asset, 1_000, 2 * WINDOW, Action.Revert);
      const [, usedBps] = await breaker.outflowState(asset);
      expect(usedBps).to.equal(500n);
      expect(await breaker.outflowLimit(asset)).to.deep.equal([1_000n, BigInt(2 * WINDOW), BigInt(Action.Revert)]);
    });

    it("rejects an invalid limit, a zero asset and holdings beyond 112 bits", async function () {
      const { breaker, token, governance, stranger } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      const [minW, maxW] = [await breaker.MIN_WINDOW(), await breaker.MAX_WINDOW()];
      await expect(breaker.connect(governance).setOutflowLimit(asset, 10_001, WINDOW, Action.Revert))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidOutflowLimit")
        .withArgs(asset, 10_001, WINDOW);
      await expect(breaker.connect(governance).setOutflowLimit(asset, 1, minW - 1n, Action.Revert))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidOutflowLimit")
        .withArgs(asset, 1, minW - 1n);
      await expect(breaker.connect(governance).setOutflowLimit(asset, 1, maxW + 1n, Action.Revert))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidOutflowLimit")
        .withArgs(asset, 1, maxW + 1n);
      await expect(
        breaker.connect(governance).setOutflowLimit(ethers.ZeroAddress, 1, WINDOW, Action.Revert),
      ).to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidAsset");
      const huge = 2n ** 112n;
      await token.mint(stranger.address, huge);
      await expect(breaker.connect(stranger).fund(asset, huge - 1000n * UNIT))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerHoldingsOverflow")
        .withArgs(asset, huge);
    });
  });

  describe("rotateGuardian", function () {
    it("revokes the old guardian and grants the new one in one action", async function () {
      const { breaker, governance, guardian, stranger } = await loadFixture(breakerFixture);
      const role = await breaker.GUARDIAN_ROLE();
      await expect(breaker.connect(governance).rotateGuardian(guardian.address, stranger.address))
        .to.emit(breaker, "GuardianRotated")
        .withArgs(guardian.address, stranger.address);
      expect(await breaker.hasRole(role, guardian.address)).to.equal(false);
      expect(await breaker.hasRole(role, stranger.address)).to.equal(true);
      await expect(breaker.connect(guardian).trip(incident("x")))
        .to.be.revertedWithCustomError(breaker, "AccessControlUnauthorizedAccount")
        .withArgs(guardian.address, role);
      await expect(breaker.connect(stranger).trip(incident("x"))).to.emit(breaker, "Tripped");
    });

    it("rejects the zero address as the new guardian", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      await expect(breaker.connect(governance).rotateGuardian(guardian.address, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidAccount")
        .withArgs(await breaker.GUARDIAN_ROLE());
    });
  });
});
