import { readFileSync } from "node:fs";
import { Wallet, type Provider, type Signer } from "ethers";
import { OperatorError } from "./OperatorError";

/** Which key an operator script needs; each reads its own environment variables. */
export type OperatorRole = "guardian" | "governor";

/**
 * Loads the key for `role` from the environment, never from a file in the repo or an argument:
 * `FAILSAFE_<ROLE>_KEY` (a hex private key), or `FAILSAFE_<ROLE>_KEYSTORE` (a path to an encrypted
 * JSON keystore) with `FAILSAFE_<ROLE>_KEYSTORE_PASSWORD`.
 */
export async function loadSigner(role: OperatorRole, provider: Provider, env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  const prefix = `FAILSAFE_${role.toUpperCase()}`;
  const key = env[`${prefix}_KEY`];
  const keystorePath = env[`${prefix}_KEYSTORE`];
  if (key && keystorePath) {
    throw new OperatorError(`set only one of ${prefix}_KEY and ${prefix}_KEYSTORE, not both`);
  }
  if (key) {
    try {
      return new Wallet(key.trim(), provider);
    } catch {
      // The key itself must never reach the output, so the ethers error (which quotes it) is dropped.
      throw new OperatorError(`${prefix}_KEY is not a valid private key (expected 32 bytes of hex)`);
    }
  }
  if (keystorePath) {
    const password = env[`${prefix}_KEYSTORE_PASSWORD`];
    if (password === undefined) throw new OperatorError(`${prefix}_KEYSTORE is set but ${prefix}_KEYSTORE_PASSWORD is not`);
    let json: string;
    try {
      json = readFileSync(keystorePath, "utf8");
    } catch (err) {
      throw new OperatorError(`cannot read the keystore ${keystorePath} (${prefix}_KEYSTORE): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      return (await Wallet.fromEncryptedJson(json, password)).connect(provider);
    } catch (err) {
      throw new OperatorError(`cannot decrypt the keystore ${keystorePath} (${prefix}_KEYSTORE): ${(err as Error).message}`);
    }
  }
  throw new OperatorError(`no ${role} key: set ${prefix}_KEY, or ${prefix}_KEYSTORE and ${prefix}_KEYSTORE_PASSWORD`);
}
