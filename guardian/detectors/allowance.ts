import { Interface, id as keccakText } from "ethers";
import { z } from "zod";
import type { BlockContext, TxContext } from "../context/types";
import { TRANSFER_TOPIC, addressFromTopic, topicOf } from "./account-flows";
import { frameVisits, selectorOf } from "./call-tree";
import { makeFinding } from "./finding";
import { addressSchema, contractsParam, selectContracts, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding } from "./types";

const ID = "allowance";
const APPROVAL_TOPIC = keccakText("Approval(address,address,uint256)").toLowerCase();
const TRANSFER_FROM = keccakText("transferFrom(address,address,uint256)").slice(0, 10);
const erc20 = new Interface(["function approve(address spender, uint256 amount)"]);

const params = z
  .object({
    /** The protected addresses whose allowances are watched (treasuries, vaults); all when omitted. */
    contracts: contractsParam,
    /** Spenders the owners are expected to approve (their router, their vault); anything else is unknown. */
    knownSpenders: z.array(addressSchema).default([]),
    /**
     * Accounts that act for the owners (their operators' keys, their Safe's signers): a known spender
     * pulling tokens in a transaction none of them (nor the owner) sent is a drain through that spender
     * (an approved router with an arbitrary-call bug), and is treated as an unknown spender.
     */
    operators: z.array(addressSchema).default([]),
    /** Tokens pulled out of a protected address by a spender it did not list. */
    unknownSpenderDrainSeverity: severitySchema.default("critical"),
    /** Tokens pulled out by a listed spender: normal use, usually; `null` silent. */
    knownSpenderDrainSeverity: severitySchema.nullable().default(null),
    /** A new non-zero approval by a protected address to a spender it did not list. */
    unknownApprovalSeverity: severitySchema.nullable().default("high"),
    /** A new approval to a listed spender, or a revocation (amount 0). */
    knownApprovalSeverity: severitySchema.nullable().default("info"),
  })
  .strict();

export type AllowanceParams = z.infer<typeof params>;

/** The accounts that called transferFrom on `token` with `from` = owner, in successful frames. */
function spendersOf(tx: TxContext, token: string, owner: string): string[] {
  if (!tx.trace) return [];
  const ownerWord = owner.slice(2).padStart(64, "0");
  const out = new Set<string>();
  for (const v of frameVisits(tx.trace)) {
    if (v.reverted || v.context !== token || selectorOf(v.frame.input) !== TRANSFER_FROM) continue;
    if (v.frame.input.slice(10, 74).toLowerCase() !== ownerWord) continue;
    out.add(v.frame.from.toLowerCase());
  }
  return [...out];
}

export const allowanceDetector: DetectorDefinition<AllowanceParams> = {
  id: ID,
  description:
    "Tokens pulled out of a protected address by a spender through transferFrom, new approvals by protected addresses, approvals to unknown spenders. A trip cannot revoke an allowance: findings carry the revoke calldata.",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const byTopic = new Map(contracts.map((c) => [topicOf(c.address), c]));
    const known = new Set(p.knownSpenders);
    const operators = new Set(p.operators);

    const revoke = (token: string, spender: string) => ({
      to: token,
      data: erc20.encodeFunctionData("approve", [spender, 0n]),
      note: "send from the owner: approve(spender, 0) on the token. Tripping a breaker cannot revoke an allowance; the spender can keep pulling until this is sent.",
    });

    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        const findings: Finding[] = [];
        for (const tx of ctx.transactions) {
          if (tx.status === 0) continue;
          for (const log of tx.logs) {
            const t = log.topics;
            if (t.length !== 3 || log.data.length !== 66) continue;
            const owner = byTopic.get(t[1]);
            if (!owner) continue;
            const token = log.address;
            const amount = BigInt(log.data);
            if (t[0] === APPROVAL_TOPIC) {
              const spender = addressFromTopic(t[2]);
              const isKnown = known.has(spender) || amount === 0n;
              const severity = isKnown ? p.knownApprovalSeverity : p.unknownApprovalSeverity;
              if (severity === null) continue;
              findings.push(
                makeFinding({
                  detectorId: ID,
                  severity,
                  title: `${owner.name} ${amount === 0n ? "revoked" : "approved"} ${isKnown ? "" : "unknown spender "}${spender} on token ${token}`,
                  block: ctx,
                  txHash: tx.hash,
                  contract: owner.address,
                  subject: `approval:${log.logIndex}`,
                  evidence: { kind: "approval", owner: owner.address, ownerName: owner.name, token, spender, amount, knownSpender: known.has(spender), tripCanHelp: false, ...(amount > 0n ? { revoke: revoke(token, spender) } : {}) },
                }),
              );
            } else if (t[0] === TRANSFER_TOPIC && amount > 0n) {
              // Moved by someone else's transferFrom: the owner's own transfers run in its own frame.
              const spenders = spendersOf(tx, token, owner.address).filter((s) => s !== owner.address);
              if (spenders.length === 0) continue;
              const ownSide = tx.from === owner.address || operators.has(tx.from);
              const unknown = spenders.filter((s) => !known.has(s) || !ownSide);
              const severity = unknown.length > 0 ? p.unknownSpenderDrainSeverity : p.knownSpenderDrainSeverity;
              if (severity === null) continue;
              const spender = unknown[0] ?? spenders[0];
              findings.push(
                makeFinding({
                  detectorId: ID,
                  severity,
                  title: `${amount} of token ${token} pulled out of ${owner.name} by ${unknown.length > 0 ? "unknown " : ""}spender ${spender} (transferFrom)`,
                  block: ctx,
                  txHash: tx.hash,
                  contract: owner.address,
                  subject: `transfer-from:${log.logIndex}`,
                  evidence: {
                    kind: "transferFrom",
                    owner: owner.address,
                    ownerName: owner.name,
                    token,
                    spender,
                    recipient: addressFromTopic(t[2]),
                    amount,
                    knownSpender: known.has(spender),
                    sentByOwnerSide: ownSide,
                    tripCanHelp: false,
                    revoke: revoke(token, spender),
                  },
                }),
              );
            }
          }
        }
        return findings;
      },
    };
  },
};
