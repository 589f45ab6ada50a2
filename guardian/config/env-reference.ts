import { z } from "zod";

/**
 * `{ env: NAME }` in the YAML config, resolved when the config is loaded. `accept` turns the variable's
 * value into what the config holds, or names what is wrong with it. A missing, empty or rejected variable
 * fails validation at that path, naming the variable and never its value.
 */
export function envReference<T>(accept: (value: string, env: string) => { value: T } | { problem: string }) {
  return z
    .object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name") })
    .strict()
    .transform((ref, ctx): T => {
      const value = process.env[ref.env];
      if (value === undefined || value === "") {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `environment variable ${ref.env} is not set` });
        return z.NEVER;
      }
      const accepted = accept(value, ref.env);
      if ("problem" in accepted) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `environment variable ${ref.env}: ${accepted.problem}` });
        return z.NEVER;
      }
      return accepted.value;
    });
}
