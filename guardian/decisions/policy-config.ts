import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { SEVERITIES, type Severity } from "../detectors/types";

const severity = z.enum(SEVERITIES as [Severity, ...Severity[]]);
const address = z
  .string()
  .refine((s) => isAddress(s), "expected a 0x-prefixed 20-byte hex address")
  .transform((s) => getAddress(s).toLowerCase());

/** A breaker the guardian may trip, tied to the protected contract whose findings trip it. */
export const policyBreakerSchema = z
  .object({
    /**
     * A `contracts[].name`: findings about this contract trip the breaker, and so do read-only reentrancy findings
     * naming it as the contract read (filed against their victim, the contract that acted on the read).
     */
    contract: z.string().min(1),
    /** The CircuitBreaker to trip; defaults to the contract itself (it inherits CircuitBreaker). */
    breaker: address.optional(),
    /** A `responders.<name>` that trips breakers; defaults to the only one configured. */
    responder: z.string().min(1).optional(),
    /** The TimelockedRecovery governing the breaker, for the incident report's lift/ratify actions. */
    timelock: address.optional(),
  })
  .strict();

/** A policy rule: every field given must match; the first matching rule decides. */
export const policyRuleSchema = z
  .object({
    detectors: z.array(z.string().min(1)).min(1).optional(),
    severities: z.array(severity).min(1).optional(),
    minSeverity: severity.optional(),
    /** Contract names (or addresses) the finding is about. */
    contracts: z.array(z.string().min(1)).min(1).optional(),
    action: z.enum(["trip", "alert"]),
  })
  .strict();

/**
 * The `policy` section: which findings trip which breakers. By default only critical findings trip;
 * everything else only alerts (the alert path is a separate sink and never waits on this one).
 */
export const policyConfigSchema = z
  .object({
    /** Log the bundles that would be sent and send nothing. */
    dryRun: z.boolean().default(false),
    /** With no matching rule, findings at or above this severity trip. */
    tripSeverity: severity.default("critical"),
    rules: z.array(policyRuleSchema).default([]),
    breakers: z.array(policyBreakerSchema).default([]),
    /** Folder for incident-<id>.json and .md, relative to the working directory. */
    incidentReports: z.string().min(1).default("reports/incidents"),
    /**
     * On SIGTERM, how long in-flight trips may still land before the process exits. Bundles are never cancelled
     * by a shutdown: a trip still waiting after this is left at the relays and resumed on the next start.
     */
    shutdownGraceMs: z.number().int().min(0).max(600_000).default(15_000),
  })
  .strict();

export type PolicyConfig = z.infer<typeof policyConfigSchema>;
export type PolicyRule = z.infer<typeof policyRuleSchema>;
export type PolicyBreaker = z.infer<typeof policyBreakerSchema>;
