import { inspect } from "node:util";
import { z } from "zod";

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
 * A secret in the YAML config: `{ env: NAME }`, resolved when the config is loaded. A missing, empty or
 * malformed variable fails validation at that path (naming the variable, never its value) instead of
 * failing the first alert.
 */
export function envSecretMatching(check?: { test(value: string): boolean; message: string }) {
  return z
    .object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name") })
    .strict()
    .transform((ref, ctx) => {
      const value = process.env[ref.env];
      if (value === undefined || value === "") {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `environment variable ${ref.env} is not set` });
        return z.NEVER;
      }
      if (check && !check.test(value)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `environment variable ${ref.env}: ${check.message}` });
        return z.NEVER;
      }
      return new Secret(value, ref.env);
    });
}

export const envSecret = envSecretMatching();
