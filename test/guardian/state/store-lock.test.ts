import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { acquireStoreLock, StoreLockedError } from "../../../guardian/state/store-lock";

describe("acquireStoreLock", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "failsafe-store-lock-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("takes the lock on a first start whose store folder does not exist yet (the default .failsafe/)", () => {
    const store = path.join(dir, "fresh", ".failsafe", "guardian.sqlite");
    const lock = acquireStoreLock(store);
    expect(readFileSync(`${store}.lock`, "utf8").trim()).to.equal(String(process.pid));
    lock.release();
    expect(existsSync(`${store}.lock`)).to.equal(false);
  });

  it("refuses a second live owner, naming its pid and the lock file", () => {
    const store = path.join(dir, "guardian.sqlite");
    const first = acquireStoreLock(store);
    // process.ppid is a live process other than this one: a second guardian holding the store.
    first.release();
    const held = acquireStoreLock(store, process.ppid);
    try {
      expect(() => acquireStoreLock(store)).to.throw(StoreLockedError, new RegExp(`pid ${process.ppid}`));
    } finally {
      held.release();
    }
  });
});
