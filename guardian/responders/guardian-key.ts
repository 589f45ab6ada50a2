import { readFile } from "node:fs/promises";
import path from "node:path";
import { Wallet } from "ethers";
import { z } from "zod";

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name");

/**
 * Where the guardian's signing key comes from: an environment variable holding the hex key, or an
 * encrypted JSON keystore (Web3 Secret Storage) whose password is in an environment variable. The
 * config only ever names the variable, never the secret.
 */
export const keySourceSchema = z.union([
  z.object({ keyEnv: envName }).strict(),
  z.object({ keystore: z.string().min(1), passwordEnv: envName }).strict(),
]);

export type KeySource = z.infer<typeof keySourceSchema>;

/** A key that could not be loaded. The message names the variable or file, never the secret. */
export class GuardianKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GuardianKeyError";
  }
}

export async function loadGuardianKey(
  source: KeySource,
  options: { env?: NodeJS.ProcessEnv; baseDir?: string } = {},
): Promise<Wallet> {
  const env = options.env ?? process.env;
  if ("keyEnv" in source) {
    const value = env[source.keyEnv];
    if (value === undefined || value === "") throw new GuardianKeyError(`environment variable ${source.keyEnv} (guardian key) is not set`);
    const hex = value.trim().startsWith("0x") ? value.trim() : `0x${value.trim()}`;
    if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new GuardianKeyError(`environment variable ${source.keyEnv} does not hold a 32-byte hex private key`);
    try {
      return new Wallet(hex);
    } catch {
      throw new GuardianKeyError(`environment variable ${source.keyEnv} does not hold a valid secp256k1 private key`);
    }
  }
  const file = path.resolve(options.baseDir ?? process.cwd(), source.keystore);
  const password = env[source.passwordEnv];
  if (password === undefined) throw new GuardianKeyError(`environment variable ${source.passwordEnv} (password of keystore ${file}) is not set`);
  let json: string;
  try {
    json = await readFile(file, "utf8");
  } catch (err) {
    throw new GuardianKeyError(`cannot read keystore ${file}: ${(err as NodeJS.ErrnoException).code ?? "read error"}`);
  }
  try {
    const wallet = await Wallet.fromEncryptedJson(json, password);
    return new Wallet(wallet.privateKey);
  } catch (err) {
    const reason = /password/i.test((err as Error).message) ? `wrong password in ${source.passwordEnv}` : "not a valid encrypted JSON keystore";
    throw new GuardianKeyError(`cannot decrypt keystore ${file}: ${reason}`);
  }
}
