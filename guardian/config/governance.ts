import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { keySourceSchema } from "../responders/guardian-key";
import { MAX_RATIFIED_SECONDS, DEFAULT_RATIFY_SECONDS } from "../reports/governance-payloads";

const address = z
  .string()
  .refine((s) => isAddress(s), "expected a 0x-prefixed 20-byte hex address")
  .transform((s) => getAddress(s).toLowerCase());

/**
 * The `governance` section: what `failsafe incident show` and `failsafe governance` need beyond the
 * breakers' timelocks (`policy.breakers[].timelock`). Without a signer, `propose` only writes the payload
 * files for a Governor or a Safe; with one, it also schedules them through the timelock and `execute` runs
 * them. The signer is loaded like the guardian key: an environment variable or an encrypted keystore.
 */
export const governanceConfigSchema = z
  .object({
    /** A key holding PROPOSER_ROLE (to schedule) and EXECUTOR_ROLE (to execute) on the timelocks. */
    signer: keySourceSchema.optional(),
    /** The Safe that imports the Transaction Builder batches (their meta.createdFromSafeAddress). */
    safe: address.optional(),
    /** A provisioned standby guardian, so the report can offer a ready-made guardian rotation to it. */
    standbyGuardian: address.optional(),
    /** How long a ratification keeps the breaker tripped after it can execute, in seconds (at most 30 days). */
    ratifyForSeconds: z.number().int().positive().max(MAX_RATIFIED_SECONDS).default(DEFAULT_RATIFY_SECONDS),
    /** Where `failsafe governance propose` writes payload files; default `<policy.incidentReports>/governance`. */
    payloads: z.string().min(1).optional(),
  })
  .strict();

export type GovernanceConfig = z.infer<typeof governanceConfigSchema>;
