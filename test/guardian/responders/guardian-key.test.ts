import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, encryptKeystoreJsonSync } from "ethers";
import { GuardianKeyError, loadGuardianKey } from "../../../guardian/responders/guardian-key";
import { anvilKey } from "../../../guardian/ops/anvil";

const KEY = anvilKey(3);
const PASSWORD = "correct horse battery staple";

describe("loadGuardianKey", function () {
  let dir: string;

  before(function () {
    dir = mkdtempSync(path.join(tmpdir(), "failsafe-key-"));
    const wallet = new Wallet(KEY);
    // A light scrypt cost keeps the test fast; real keystores use the default (2^17).
    writeFileSync(path.join(dir, "guardian.json"), encryptKeystoreJsonSync({ address: wallet.address, privateKey: KEY }, PASSWORD, { scrypt: { N: 1 << 10 } }));
    writeFileSync(path.join(dir, "garbage.json"), "{ not a keystore");
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  async function failure(promise: Promise<unknown>): Promise<GuardianKeyError> {
    try {
      await promise;
    } catch (err) {
      expect(err).to.be.instanceOf(GuardianKeyError);
      return err as GuardianKeyError;
    }
    return expect.fail("expected a GuardianKeyError");
  }

  it("reads a hex key from the named environment variable, with or without 0x", async function () {
    expect((await loadGuardianKey({ keyEnv: "K" }, { env: { K: KEY } })).address).to.equal(new Wallet(KEY).address);
    expect((await loadGuardianKey({ keyEnv: "K" }, { env: { K: KEY.slice(2) } })).address).to.equal(new Wallet(KEY).address);
  });

  it("names the variable, never the value, when the key is missing or malformed", async function () {
    expect((await failure(loadGuardianKey({ keyEnv: "GUARDIAN_KEY" }, { env: {} }))).message).to.equal(
      "environment variable GUARDIAN_KEY (guardian key) is not set",
    );
    const bad = KEY.slice(0, 40);
    const err = await failure(loadGuardianKey({ keyEnv: "GUARDIAN_KEY" }, { env: { GUARDIAN_KEY: bad } }));
    expect(err.message).to.match(/GUARDIAN_KEY does not hold a 32-byte hex private key/);
    expect(err.message).to.not.include(bad.slice(2));
  });

  it("decrypts an encrypted JSON keystore with the password from the environment", async function () {
    const wallet = await loadGuardianKey({ keystore: "guardian.json", passwordEnv: "PW" }, { env: { PW: PASSWORD }, baseDir: dir });
    expect(wallet.address).to.equal(new Wallet(KEY).address);
  });

  it("says which keystore failed and why, without the password", async function () {
    const wrong = await failure(loadGuardianKey({ keystore: "guardian.json", passwordEnv: "PW" }, { env: { PW: "hunter2" }, baseDir: dir }));
    expect(wrong.message).to.equal(`cannot decrypt keystore ${path.join(dir, "guardian.json")}: wrong password in PW`);
    expect((await failure(loadGuardianKey({ keystore: "missing.json", passwordEnv: "PW" }, { env: { PW: PASSWORD }, baseDir: dir }))).message).to.equal(
      `cannot read keystore ${path.join(dir, "missing.json")}: ENOENT`,
    );
    expect((await failure(loadGuardianKey({ keystore: "garbage.json", passwordEnv: "PW" }, { env: { PW: PASSWORD }, baseDir: dir }))).message).to.match(
      /not a valid encrypted JSON keystore/,
    );
    expect((await failure(loadGuardianKey({ keystore: "guardian.json", passwordEnv: "PW" }, { env: {}, baseDir: dir }))).message).to.match(
      /environment variable PW \(password of keystore .*guardian.json\) is not set/,
    );
  });
});
