import { inspect } from "node:util";
import { envReference } from "../config/env-reference";

/**
 * A credential resolved from the environment. It prints, logs and serialises as `[redacted]`, so a
 * config object or an error can be logged whole without leaking it; only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;
  /** The environment variable it came from: safe to show in errors. */
  readonly env: string;

  constructor(value: string, env: string) {
    this.#value = value;
    this.env = env;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return "[redacted]";
  }

  toJSON(): string {
    return "[redacted]";
  }

  [inspect.custom](): string {
    return `Secret(${this.env})`;
  }
}

/**
 * A secret in the YAML config: `{ env: NAME }`, resolved when the config is loaded, so a missing, empty or
 * malformed variable fails validation at that path instead of failing the first alert.
 */
export function envSecretMatching(check?: { test(value: string): boolean; message: string }) {
  return envReference<Secret>((value, env) => (check && !check.test(value) ? { problem: check.message } : { value: new Secret(value, env) }));
}

export const envSecret = envSecretMatching();
