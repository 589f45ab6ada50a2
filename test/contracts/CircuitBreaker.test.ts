import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time, mine } from "@nomicfoundation/hardhat-network-helpers";
import type { Interface } from "ethers";
import type { AdminBreakerConsumer, BreakerConsumer, MockERC20 } from "../../typechain-types";

// The abstract CircuitBreaker, driven through BreakerConsumer (the README's example treasury: `fund` is an inflow,
// `pay` an outflow, both protected operations).
const DAY = 24 * 60 * 60;
const WINDOW = 6 * 60 * 60;
const COOLDOWN = 2 * DAY;
const UNIT = 10n ** 18n;
enum Action {
  Revert,
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
  // Views run at the latest block's timestamp; one more block puts them after the deposit's timestamp, where the floor
  // has been raised to 90 % of the 1,000.
  await mine();
  return f;
}

const incident = (label: string) => ethers.id(label);

/** The breaker's 64-bit float (58-bit mantissa), rounded up: the floor is stored this way. */
function encodeUp(x: bigint): bigint {
  const MANTISSA = 1n << 58n;
  if (x < MANTISSA) return x;
  let e = BigInt(x.toString(2).length) - 58n;
  let m = (x + (1n << e) - 1n) >> e;
  if (m === MANTISSA) {
    m >>= 1n;
    e += 1n;
  }
  return m << e;
}

/** The floor at a new timestamp, as OutflowFloor.refresh computes it (c = d = bps / 20,000). */
function refreshedFloor(floor: bigint, holdings: bigint, bps: bigint, elapsed: bigint, window: bigint): bigint {
  const decrease = (floor * bps * elapsed) / (20_000n * window);
  const decayed = decrease >= floor ? 0n : floor - decrease;
  const base = (holdings * (20_000n - bps) + 19_999n) / 20_000n;
  return encodeUp(decayed > base ? decayed : base);
}

/** Sends `calls` in one block (one timestamp) and returns their receipts' statuses. */
async function inOneBlock(calls: Array<() => Promise<{ wait(): Promise<unknown> }>>): Promise<number[]> {
  await ethers.provider.send("evm_setAutomine", [false]);
  const sent = [];
  try {
    for (const call of calls) sent.push(await call());
    await mine();
  } finally {
    await ethers.provider.send("evm_setAutomine", [true]);
  }
  const statuses: number[] = [];
  for (const tx of sent) {
    try {
      const receipt = (await tx.wait()) as { status: number };
      statuses.push(receipt.status);
    } catch {
      statuses.push(0);
    }
  }
  return statuses;
}

describe("CircuitBreaker", function () {
  describe("constructor", function () {
    it("gives governance GOVERNOR_ROLE (its own admin and the guardians'), guardians GUARDIAN_ROLE, and nobody DEFAULT_ADMIN_ROLE", async function () {
      const { breaker, governance, guardian, guardian2 } = await loadFixture(breakerFixture);
      const [admin, gov, grd] = [
        await breaker.DEFAULT_ADMIN_ROLE(),
        await breaker.GOVERNOR_ROLE(),
        await breaker.GUARDIAN_ROLE(),
      ];
      expect(await breaker.hasRole(admin, governance.address)).to.equal(false);
      expect(await breaker.hasRole(gov, governance.address)).to.equal(true);
      expect(await breaker.hasRole(grd, guardian.address)).to.equal(true);
      expect(await breaker.hasRole(grd, guardian2.address)).to.equal(true);
      expect(await breaker.hasRole(grd, governance.address)).to.equal(false);
      expect(await breaker.getRoleAdmin(grd)).to.equal(gov);
      expect(await breaker.getRoleAdmin(gov)).to.equal(gov);
      expect(await breaker.tripDuration()).to.equal(DAY);
      expect(await breaker.tripCooldown()).to.equal(COOLDOWN);
      expect(await breaker.DEFAULT_TRIP_COOLDOWN()).to.equal(COOLDOWN);
      expect(await breaker.nextTripAt()).to.equal(0n);
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
          "trip", "ratify", "lift", "setTripDuration", "setTripCooldown", "setOperationExempt", "setOutflowLimit",
          "rotateGuardian", "GUARDIAN_ROLE", "GOVERNOR_ROLE", "isTripped", "incident", "tripDuration", "tripCooldown",
          "nextTripAt", "isOperationExempt",
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

    it("trips again only once the cooldown after a lapse has passed, with the new incident", async function () {
      const { breaker, guardian } = await loadFixture(breakerFixture);
      await breaker.connect(guardian).trip(incident("old"));
      const [, , , expiresAt] = await breaker.incident();
      expect(await breaker.nextTripAt()).to.equal(expiresAt + BigInt(COOLDOWN));
      await time.setNextBlockTimestamp(expiresAt); // the lapse: the old L-1 re-trip moment
      await expect(breaker.connect(guardian).trip(incident("new"))).not.to.emit(breaker, "Tripped");
      await time.setNextBlockTimestamp(expiresAt + BigInt(COOLDOWN) - 1n);
      await expect(breaker.connect(guardian).trip(incident("new"))).not.to.emit(breaker, "Tripped");
      expect(await breaker.isTripped()).to.equal(false);
      await time.setNextBlockTimestamp(expiresAt + BigInt(COOLDOWN));
      await expect(breaker.connect(guardian).trip(incident("new")))
        .to.emit(breaker, "Tripped")
        .withArgs(incident("new"), guardian.address, expiresAt + BigInt(COOLDOWN + DAY));
      expect((await breaker.incident())[0]).to.equal(incident("new"));
    });

    it("starts the cooldown at a lift: a guardian cannot re-trip in the lift's block or until the cooldown ends", async function () {
      const { breaker, governance, guardian, guardian2 } = await loadFixture(breakerFixture);
      await breaker.connect(guardian).trip(incident("lifted"));
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        const lift = await breaker.connect(governance).lift(incident("lifted"));
        const retrip = await breaker.connect(guardian2).trip(incident("same-block"), { gasLimit: 200_000 });
        await mine();
        expect((await retrip.wait())!.status).to.equal(1); // a no-op, not a revert: racing guardians stay green
        expect((await lift.wait())!.blockNumber).to.equal((await retrip.wait())!.blockNumber);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      expect(await breaker.isTripped()).to.equal(false);
      const liftedAt = BigInt(await time.latest());
      expect(await breaker.nextTripAt()).to.equal(liftedAt + BigInt(COOLDOWN));
      expect(await breaker.connect(guardian2).trip.staticCall(incident("same-block"))).to.equal(false);
      await time.increaseTo(liftedAt + BigInt(COOLDOWN));
      expect(await breaker.connect(guardian2).trip.staticCall(incident("same-block"))).to.equal(true);
    });

    it("makes incident ids single-use: an id that tripped before reverts, naming it, once no trip is active", async function () {
      const { breaker, governance, guardian, guardian2 } = await loadFixture(breakerFixture);
      const id = incident("once");
      await breaker.connect(guardian).trip(id);
      // During the trip the same id stays the racing guardians' no-op, not a revert.
      expect(await breaker.connect(guardian2).trip.staticCall(id)).to.equal(false);
      await breaker.connect(governance).lift(id);
      await time.increase(COOLDOWN);
      await expect(breaker.connect(guardian2).trip(id))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentReused")
        .withArgs(id);
      await breaker.connect(guardian).trip(incident("twice-lapsed"));
      await time.increase(DAY + COOLDOWN);
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

    it("L-2: refuses to re-impose a trip that lapsed or was lifted (a forgotten timelock operation)", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      const id = incident("lapsed");
      await breaker.connect(guardian).trip(id);
      const [, , , expiresAt] = await breaker.incident();
      await time.increaseTo(expiresAt);
      await expect(breaker.connect(governance).ratify(id, expiresAt + BigInt(DAY)))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentNotActive")
        .withArgs(id, expiresAt);
      expect(await breaker.isTripped()).to.equal(false);

      await time.increase(COOLDOWN);
      const lifted = incident("lifted");
      await breaker.connect(guardian).trip(lifted);
      await breaker.connect(governance).lift(lifted);
      const liftedAt = BigInt(await time.latest());
      await expect(breaker.connect(governance).ratify(lifted, liftedAt + BigInt(DAY)))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerIncidentNotActive")
        .withArgs(lifted, liftedAt);
      expect(await breaker.isTripped()).to.equal(false);
    });

    it("starts the cooldown at the ratified expiry", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      const id = incident("ratified-cooldown");
      await breaker.connect(guardian).trip(id);
      const until = BigInt(await time.latest()) + BigInt(5 * DAY);
      await breaker.connect(governance).ratify(id, until);
      expect(await breaker.nextTripAt()).to.equal(until + BigInt(COOLDOWN));
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
      await time.increase(DAY + COOLDOWN);
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
      await time.increase(DAY + COOLDOWN); // lapsed: a lift for it may still be waiting in the timelock
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

  describe("outflow limit (a decaying floor in asset units)", function () {
    it("allows at once exactly the burst, bps/2 of the holdings, and rejects one unit more, naming the available amount", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      expect(await breaker.outflowState(asset)).to.deep.equal([1_000n * UNIT, 900n * UNIT, 100n * UNIT]);
      await expect(breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 100n * UNIT + 1n, 100n * UNIT);
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      expect(await token.balanceOf(payee.address)).to.equal(100n * UNIT);
      // One second later: the floor decayed by d = 10 % per window for one second, and that is all that is available.
      const t0 = BigInt(await time.latest());
      const floor = refreshedFloor(900n * UNIT, 900n * UNIT, 2_000n, 1n, BigInt(WINDOW));
      await time.setNextBlockTimestamp(t0 + 1n);
      await expect(breaker.connect(stranger).pay(asset, payee.address, 900n * UNIT - floor + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 900n * UNIT - floor + 1n, 900n * UNIT - floor);
    });

    it("never lets more than the limit out within one window: the burst, then all that decayed a second before the edge", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      const t0 = BigInt(await time.latest());
      const floor = refreshedFloor(900n * UNIT, 900n * UNIT, 2_000n, BigInt(WINDOW) - 1n, BigInt(WINDOW));
      const available = 900n * UNIT - floor;
      await time.setNextBlockTimestamp(t0 + BigInt(WINDOW) - 1n);
      await expect(breaker.connect(stranger).pay(asset, payee.address, available + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, available + 1n, available);
      await breaker.connect(stranger).pay(asset, payee.address, available);
      const paid = await token.balanceOf(payee.address);
      expect(paid).to.equal(100n * UNIT + available);
      expect(paid).to.be.at.most((1_000n * UNIT * 2_000n) / 10_000n); // 20 % of the holdings at the window's start
    });

    it("is back to the full burst of the current holdings one window after it was used", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      await time.increase(WINDOW);
      await expect(breaker.connect(stranger).pay(asset, payee.address, 90n * UNIT + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 90n * UNIT + 1n, 90n * UNIT);
      await breaker.connect(stranger).pay(asset, payee.address, 90n * UNIT);
    });

    it("costs the same after any idle time: the state decays in O(1)", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT);
      await time.increase(WINDOW);
      const afterWindow = await breaker.connect(stranger).pay.estimateGas(asset, payee.address, UNIT);
      await time.increase(365 * DAY);
      const afterYear = await breaker.connect(stranger).pay.estimateGas(asset, payee.address, UNIT);
      // Equal up to the float encoding's few branches (rounding or not): no loop over idle time.
      expect(Number(afterYear - afterWindow)).to.be.within(-100, 100);
    });

    it("H-1: within one timestamp inflows raise the holdings, not the floor, so split deposits and withdrawals net out", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      const fund = (amount: bigint) => () => breaker.connect(stranger).fund(asset, amount, { gasLimit: 200_000 });
      const pay = (amount: bigint) => () => breaker.connect(stranger).pay(asset, payee.address, amount, { gasLimit: 200_000 });
      // Burst taken, then ten dust deposits of 5 and ten withdrawals of 5, then one more unit: all in one block.
      const statuses = await inOneBlock([
        pay(100n * UNIT),
        ...Array.from({ length: 10 }, () => fund(5n * UNIT)),
        ...Array.from({ length: 10 }, () => pay(5n * UNIT)),
        pay(1n),
      ]);
      expect(statuses.slice(0, 21)).to.deep.equal(Array(21).fill(1));
      expect(statuses[21]).to.equal(0);
      expect(await token.balanceOf(payee.address)).to.equal(150n * UNIT); // net: exactly the 100 burst
    });

    it("raises the floor with the holdings at the next timestamp: a deposit gives its own bps/2 to take later", async function () {
      const { breaker, token, stranger } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(stranger).fund(asset, 1_000n * UNIT);
      // At the deposit's own timestamp the floor has not moved: the depositor could take its deposit straight back.
      expect(await breaker.outflowState(asset)).to.deep.equal([2_000n * UNIT, 900n * UNIT, 1_100n * UNIT]);
      await mine();
      expect(await breaker.outflowState(asset)).to.deep.equal([2_000n * UNIT, 1_800n * UNIT, 200n * UNIT]);
    });

    it("accepts a zero outflow without touching the state", async function () {
      const { breaker, token, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      const before = await breaker.outflowState(asset);
      await breaker.connect(stranger).pay(asset, payee.address, 0n);
      expect(await breaker.outflowState(asset)).to.deep.equal(before);
    });

    it("books a counted governance outflow without refusing it and keeps the floor, so instant outflows wait", async function () {
      const { breaker, token, governance, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(governance).sweep(asset, payee.address, 600n * UNIT, true);
      expect(await breaker.outflowState(asset)).to.deep.equal([400n * UNIT, 900n * UNIT, 0n]);
      await expect(breaker.connect(stranger).pay(asset, payee.address, 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 1n, 0n);
      await expect(breaker.connect(governance).sweep(asset, payee.address, 400n * UNIT + 1n, true))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 400n * UNIT + 1n, 400n * UNIT);
    });

    it("scales the floor down with an uncounted outflow (recovery, loss), so the others keep their share of the limit", async function () {
      const { breaker, token, governance } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(governance).sweep(asset, governance.address, 500n * UNIT, false);
      expect(await breaker.outflowState(asset)).to.deep.equal([500n * UNIT, 450n * UNIT, 50n * UNIT]);
      await breaker.connect(governance).sweep(asset, governance.address, 0n, false);
      expect(await breaker.outflowState(asset)).to.deep.equal([500n * UNIT, 450n * UNIT, 50n * UNIT]);
    });

    it("with action Delay, emits OutflowLimitReached and defers the outflow; it never trips", async function () {
      const { breaker, token, governance, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      expect(await breaker.overLimitAction(asset)).to.equal(Action.Revert);
      await breaker.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, Action.Delay);
      expect(await breaker.overLimitAction(asset)).to.equal(Action.Delay);
      const tx = breaker.connect(stranger).pay(asset, payee.address, 300n * UNIT);
      await expect(tx)
        .to.emit(breaker, "OutflowLimitReached")
        .withArgs(asset, 300n * UNIT, 100n * UNIT, Action.Delay);
      await expect(tx).to.emit(breaker, "Paid").withArgs(asset, payee.address, 300n * UNIT, true);
      await expect(tx).not.to.emit(breaker, "Tripped");
      expect(await breaker.isTripped()).to.equal(false);
      expect(await token.balanceOf(payee.address)).to.equal(0n);
    });

    it("M-1: dust outflows by an account with no role and no balance never pause, under either action", async function () {
      const { breaker, token, governance, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      const [, , , , , , nobody] = await ethers.getSigners();
      // The burst taken and a dust outflow in the same block: the dust is refused, nothing pauses.
      const statuses = await inOneBlock([
        () => breaker.connect(stranger).pay(asset, payee.address, 100n * UNIT, { gasLimit: 200_000 }),
        () => breaker.connect(nobody).pay(asset, nobody.address, 1n, { gasLimit: 200_000 }),
      ]);
      expect(statuses).to.deep.equal([1, 0]);
      const [, , available] = await breaker.outflowState(asset);
      await expect(breaker.connect(nobody).pay.staticCall(asset, nobody.address, available + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, available + 1n, available);
      await breaker.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, Action.Delay);
      for (let i = 0; i < 3; i++) {
        await expect(breaker.connect(nobody).pay(asset, nobody.address, 1n)).not.to.emit(breaker, "Tripped");
      }
      expect(await breaker.isTripped()).to.equal(false);
      expect((await breaker.incident())[0]).to.equal(ethers.ZeroHash);
      await expect(breaker.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, 2)).to.be.reverted; // no Trip action
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
      await breaker.connect(governance).sweep(asset, payee.address, 10n * UNIT, false);
      await breaker.connect(stranger).fund(asset, 10n * UNIT);
      await expect(breaker.connect(stranger).pay(asset, payee.address, 101n * UNIT))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, 101n * UNIT, 100n * UNIT);
    });

    it("applies a tighter limit at once and keeps used limit when loosening (no refund, no carry beyond the decay)", async function () {
      const { breaker, token, governance } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      await breaker.connect(governance).setOutflowLimit(asset, 1_000, 2 * WINDOW, Action.Revert);
      expect(await breaker.outflowLimit(asset)).to.deep.equal([1_000n, BigInt(2 * WINDOW), BigInt(Action.Revert)]);
      expect(await breaker.outflowState(asset)).to.deep.equal([1_000n * UNIT, 950n * UNIT, 50n * UNIT]);
      await breaker.connect(governance).setOutflowLimit(asset, 4_000, WINDOW, Action.Revert);
      const t0 = BigInt(await time.latest());
      // The 950 floor stays and decays at the new d = 20 % per window; the new base is 800.
      await time.setNextBlockTimestamp(t0 + BigInt(WINDOW / 2));
      await breaker.connect(governance).setOutflowLimit(asset, 4_000, WINDOW, Action.Revert);
      expect(await breaker.outflowState(asset)).to.deep.equal([1_000n * UNIT, 855n * UNIT, 145n * UNIT]);
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

    it("stores large floors as a float rounded up: never more available than the exact floor allows", async function () {
      const { breaker, token, governance, stranger } = await loadFixture(breakerFixture);
      const asset = await token.getAddress();
      const holdings = 2n ** 111n + 12_345_678_901n; // an odd amount far above the 58-bit mantissa
      await token.mint(stranger.address, holdings);
      await breaker.connect(stranger).fund(asset, holdings);
      await breaker.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, Action.Revert);
      const exactFloor = (holdings * 18_000n + 19_999n) / 20_000n;
      const [, floor, available] = await breaker.outflowState(asset);
      expect(floor).to.equal(encodeUp(exactFloor));
      expect(floor >= exactFloor).to.equal(true);
      expect(floor - exactFloor < holdings >> 56n).to.equal(true);
      expect(available).to.equal(holdings - floor);
    });

    it("rounds a floor whose mantissa overflows up to the next power of two", async function () {
      const { breaker, token, governance, stranger } = await loadFixture(breakerFixture);
      const asset = await token.getAddress();
      const target = (1n << 59n) - 1n; // ceil(0.9 H) = 2^59 - 1: its 58-bit mantissa rounds up to 2^58, then shifts
      let holdings = (target * 10n) / 9n;
      while ((holdings * 18_000n + 19_999n) / 20_000n < target) holdings++;
      expect((holdings * 18_000n + 19_999n) / 20_000n).to.equal(target);
      await token.mint(stranger.address, holdings);
      await breaker.connect(stranger).fund(asset, holdings);
      await breaker.connect(governance).setOutflowLimit(asset, 2_000, WINDOW, Action.Revert);
      expect((await breaker.outflowState(asset))[1]).to.equal(1n << 59n);
    });
  });

  describe("setTripCooldown", function () {
    it("sets the cooldown within [MIN_TRIP_COOLDOWN, MAX_TRIP_COOLDOWN], naming the bounds", async function () {
      const { breaker, governance } = await loadFixture(breakerFixture);
      const [min, max] = [await breaker.MIN_TRIP_COOLDOWN(), await breaker.MAX_TRIP_COOLDOWN()];
      await expect(breaker.connect(governance).setTripCooldown(min - 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidTripCooldown")
        .withArgs(min - 1n, min, max);
      await expect(breaker.connect(governance).setTripCooldown(max + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidTripCooldown")
        .withArgs(max + 1n, min, max);
      await expect(breaker.connect(governance).setTripCooldown(min))
        .to.emit(breaker, "TripCooldownSet")
        .withArgs(COOLDOWN, min);
      expect(await breaker.tripCooldown()).to.equal(min);
    });
  });

  describe("an emergency exit exempted in the constructor", function () {
    it("stays open during a trip without any governance action, and still obeys the outflow limit", async function () {
      const { breaker, token, guardian, stranger, payee } = await loadFixture(limitedFixture);
      const asset = await token.getAddress();
      const exit = breaker.interface.getFunction("exit")!.selector;
      expect(await breaker.isOperationExempt(exit)).to.equal(true);
      await breaker.connect(guardian).trip(incident("exit"));
      await expect(breaker.connect(stranger).pay(asset, payee.address, 1n)).to.be.revertedWithCustomError(
        breaker,
        "CircuitBreakerOperationPaused",
      );
      const statuses = await inOneBlock([
        () => breaker.connect(stranger).exit(asset, payee.address, 100n * UNIT, { gasLimit: 200_000 }),
        () => breaker.connect(stranger).exit(asset, payee.address, 1n, { gasLimit: 200_000 }),
      ]);
      expect(statuses).to.deep.equal([1, 0]); // the burst leaves, the next wei waits for the floor to decay
      expect(await token.balanceOf(payee.address)).to.equal(100n * UNIT);
      const [, , available] = await breaker.outflowState(asset);
      await expect(breaker.connect(stranger).exit.staticCall(asset, payee.address, available + 1n))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerOutflowExceeded")
        .withArgs(asset, available + 1n, available);
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

    it("reverts, naming the account, instead of emitting when nothing would change", async function () {
      const { breaker, governance, guardian, guardian2, stranger, payee } = await loadFixture(breakerFixture);
      await expect(breaker.connect(governance).rotateGuardian(stranger.address, payee.address))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerNotGuardian")
        .withArgs(stranger.address);
      await expect(breaker.connect(governance).rotateGuardian(guardian.address, guardian2.address))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerAlreadyGuardian")
        .withArgs(guardian2.address);
      await expect(breaker.connect(governance).rotateGuardian(guardian.address, guardian.address))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerAlreadyGuardian")
        .withArgs(guardian.address);
    });

    it("rejects the zero address as the new guardian", async function () {
      const { breaker, governance, guardian } = await loadFixture(breakerFixture);
      await expect(breaker.connect(governance).rotateGuardian(guardian.address, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(breaker, "CircuitBreakerInvalidAccount")
        .withArgs(await breaker.GUARDIAN_ROLE());
    });
  });

  describe("role-admin matrix", function () {
    async function adminFixture() {
      const [governance, guardian, admin, stranger, fresh] = await ethers.getSigners();
      const breaker = (await (await ethers.getContractFactory("AdminBreakerConsumer")).deploy(
        governance.address,
        [guardian.address],
        admin.address,
      )) as AdminBreakerConsumer;
      const token = (await (await ethers.getContractFactory("MockERC20")).deploy("Token", "TKN", 18)) as MockERC20;
      await breaker.connect(guardian).trip(incident("matrix")); // so ratify and lift have a current incident
      return { breaker, token, governance, guardian, admin, stranger, fresh };
    }

    it("lets each external function be called only by the role it names; the inheritor's admin holds none of them", async function () {
      const { breaker, token, governance, guardian, admin, stranger, fresh } = await loadFixture(adminFixture);
      const [GUARDIAN, GOVERNOR, ADMIN, TREASURER] = [
        await breaker.GUARDIAN_ROLE(),
        await breaker.GOVERNOR_ROLE(),
        await breaker.DEFAULT_ADMIN_ROLE(),
        await breaker.TREASURER_ROLE(),
      ];
      const asset = await token.getAddress();
      const until = BigInt(await time.latest()) + BigInt(2 * DAY);
      type Call = { name: string; role: string; run: (b: AdminBreakerConsumer) => Promise<unknown> };
      const calls: Call[] = [
        { name: "trip", role: GUARDIAN, run: (b) => b.trip.staticCall(incident("another")) },
        { name: "ratify", role: GOVERNOR, run: (b) => b.ratify.staticCall(incident("matrix"), until) },
        { name: "lift", role: GOVERNOR, run: (b) => b.lift.staticCall(incident("matrix")) },
        { name: "setTripDuration", role: GOVERNOR, run: (b) => b.setTripDuration.staticCall(DAY) },
        { name: "setTripCooldown", role: GOVERNOR, run: (b) => b.setTripCooldown.staticCall(DAY) },
        { name: "setOperationExempt", role: GOVERNOR, run: (b) => b.setOperationExempt.staticCall("0x12345678", true) },
        { name: "setOutflowLimit", role: GOVERNOR, run: (b) => b.setOutflowLimit.staticCall(asset, 1, WINDOW, 0) },
        { name: "rotateGuardian", role: GOVERNOR, run: (b) => b.rotateGuardian.staticCall(guardian.address, fresh.address) },
        { name: "sweep", role: GOVERNOR, run: (b) => b.sweep.staticCall(asset, fresh.address, 0n, true) },
        { name: "grantRole(GUARDIAN)", role: GOVERNOR, run: (b) => b.grantRole.staticCall(GUARDIAN, fresh.address) },
        { name: "revokeRole(GUARDIAN)", role: GOVERNOR, run: (b) => b.revokeRole.staticCall(GUARDIAN, guardian.address) },
        { name: "grantRole(GOVERNOR)", role: GOVERNOR, run: (b) => b.grantRole.staticCall(GOVERNOR, fresh.address) },
        { name: "grantRole(TREASURER)", role: ADMIN, run: (b) => b.grantRole.staticCall(TREASURER, fresh.address) },
        { name: "grantRole(ADMIN)", role: ADMIN, run: (b) => b.grantRole.staticCall(ADMIN, fresh.address) },
      ];
      const actors = { guardian, governance, admin, stranger };
      const holds: Record<string, string[]> = {
        guardian: [GUARDIAN],
        governance: [GOVERNOR],
        admin: [ADMIN],
        stranger: [],
      };
      for (const call of calls) {
        for (const [label, signer] of Object.entries(actors)) {
          const allowed = holds[label]!.includes(call.role);
          const attempt = call.run(breaker.connect(signer));
          if (allowed) {
            await expect(attempt, `${label} may call ${call.name}`).not.to.be.reverted;
          } else {
            await expect(attempt, `${label} may not call ${call.name}`)
              .to.be.revertedWithCustomError(breaker, "AccessControlUnauthorizedAccount")
              .withArgs(signer.address, call.role);
          }
        }
      }
    });
  });
});
