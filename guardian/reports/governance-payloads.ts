import { AbiCoder, Interface, ZeroHash, getAddress, id as keccakUtf8, isAddress, isHexString, keccak256, toUtf8Bytes } from "ethers";
import type { FunctionFragment } from "ethers";
import { formatAmount } from "./governor-format";
import {
  ICircuitBreaker__factory,
  IPausableVault__factory,
  ITimelockedRecovery__factory,
  TimelockedRecovery__factory,
} from "../../typechain-types";
import type { ICircuitBreaker, IPausableVault, TimelockedRecovery } from "../../typechain-types";

/** The four decisions governors take on a trip. */
export type GovernanceDecision = "lift" | "ratify" | "recover" | "rotate-guardian";
export const GOVERNANCE_DECISIONS: readonly GovernanceDecision[] = ["lift", "ratify", "recover", "rotate-guardian"];

export type DecisionInput =
  | { decision: "lift" }
  /** New expiry (unix seconds), at most 30 days after execution. */
  | { decision: "ratify"; expiresAt: bigint }
  /** Sweeps `amount` of `token` from the vault; the vault can only pay its registered recovery address. */
  | { decision: "recover"; vault: string; token: string; amount: bigint; recoveryAddress: string; display?: { symbol: string; decimals: number } }
  | { decision: "rotate-guardian"; previousGuardian: string; newGuardian: string };

/** Where and how the decision is scheduled. Everything here is public on-chain data. */
export interface GovernanceContext {
  chainId: number;
  /** The CircuitBreaker (often the vault itself). */
  breaker: string;
  /** The TimelockedRecovery that holds GOVERNOR_ROLE on the breaker. */
  timelock: string;
  /** The incident id the breaker was tripped with (bytes32). */
  incidentId: string;
  /** The schedule delay in seconds; at least the timelock's getMinDelay(). */
  delay: bigint;
  /** An operation that must be executed first; zero for none. */
  predecessor?: string;
  /**
   * Defaults to the incident id, so the incident record, the governor report and `failsafe governance`
   * all name the same timelock operation, and scheduling the same decision twice is refused by the timelock.
   */
  salt?: string;
  /** The Safe that will import the batch (its meta.createdFromSafeAddress). */
  safe?: string;
  /** Milliseconds; fixed in tests so the batch checksum is reproducible. */
  createdAt?: number;
  /**
   * The incident report's content hash (incidentContentHash), written into the Governor description so
   * voters can check the report they read is the one the proposal is about.
   */
  contentHash?: string;
  /**
   * One line for the on-chain description. Public and permanent: built from ids, numbers and configured
   * names only, never from local file paths or attacker-controlled text (see onChainText).
   */
  summary?: string;
}

export interface Call {
  to: string;
  value: string;
  data: string;
}

/** A Safe Transaction Builder batch file, as the Transaction Builder app exports and imports it. */
export interface SafeBatchFile {
  version: "1.0";
  chainId: string;
  createdAt: number;
  meta: {
    name: string;
    description: string;
    txBuilderVersion: string;
    createdFromSafeAddress: string;
    createdFromOwnerAddress: string;
    checksum: string;
  };
  transactions: {
    to: string;
    value: string;
    data: string;
    contractMethod: { inputs: { internalType: string; name: string; type: string }[]; name: string; payable: boolean };
    contractInputsValues: Record<string, string>;
  }[];
}

export interface GovernancePayload {
  decision: GovernanceDecision;
  title: string;
  chainId: number;
  /** What finally runs on the breaker or vault, from the timelock. */
  action: Call & { signature: string; args: Record<string, string> };
  timelock: {
    address: string;
    predecessor: string;
    salt: string;
    delay: string;
    /** TimelockController.hashOperation(target, value, data, predecessor, salt). */
    operationId: string;
    /** `schedule(target, value, data, predecessor, salt, delay)` on the timelock: for any proposer. */
    schedule: Call;
    /** `execute(target, value, data, predecessor, salt)` on the timelock, once the delay has passed. */
    execute: Call;
    /**
     * The same operation through TimelockedRecovery's helper (e.g. `scheduleLift`), which always uses the
     * timelock's minimum delay and no predecessor; present only when the predecessor is zero. Its
     * operation id equals `operationId`.
     */
    helper?: Call & { signature: string };
  };
  /**
   * An OpenZeppelin Governor proposal whose one action is the timelock's `schedule` call. Assumes the
   * Governor holds PROPOSER_ROLE on the TimelockedRecovery (a plain Governor, or one whose own
   * executor is not this timelock); `execute` is then a separate call by an executor once the delay
   * has passed. For a Governor with GovernorTimelockControl over this very timelock, propose
   * `timelockControlled` instead: the Governor queues the action into the timelock itself.
   */
  governor: GovernorProposal & {
    proposalId: string;
    descriptionHash: string;
    /** `propose(targets, values, calldatas, description)` calldata for the Governor. */
    proposeCalldata: string;
    timelockControlled: GovernorProposal & { proposalId: string };
  };
  /** Safe Transaction Builder files: import `schedule` now, `execute` after the delay. */
  safe: { schedule: SafeBatchFile; execute: SafeBatchFile };
}

export interface GovernorProposal {
  targets: string[];
  values: string[];
  calldatas: string[];
  description: string;
}

const breakerInterface = ICircuitBreaker__factory.createInterface();
const vaultInterface = IPausableVault__factory.createInterface();
const timelockInterface = TimelockedRecovery__factory.createInterface();
const helperInterface = ITimelockedRecovery__factory.createInterface();
/** OpenZeppelin Governor's (external protocol) entry point; it is not one of our contracts. */
const governorInterface = new Interface(["function propose(address[] targets, uint256[] values, bytes[] calldatas, string description) returns (uint256)"]);
const coder = AbiCoder.defaultAbiCoder();

/** The Transaction Builder version whose file format this writes. */
const TX_BUILDER_VERSION = "1.18.0";

/** A bad input named by what it is, for the CLI to print without a stack trace. */
export class GovernancePayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GovernancePayloadError";
  }
}

function address(value: string, what: string): string {
  if (!isAddress(value)) throw new GovernancePayloadError(`${what}: expected a 0x-prefixed 20-byte address, got "${value}"`);
  return getAddress(value);
}

function bytes32(value: string, what: string): string {
  if (!isHexString(value, 32)) throw new GovernancePayloadError(`${what}: expected 32 bytes of hex, got "${value}"`);
  return value.toLowerCase();
}

interface ActionSpec {
  target: string;
  data: string;
  fragment: FunctionFragment;
  args: Record<string, string>;
  title: string;
  /** One paragraph for governors: what executing it does. */
  why: string;
  helper(salt: string): string;
  helperFragment: FunctionFragment;
}

function describeAction(decision: DecisionInput, breaker: string, incidentId: string): ActionSpec {
  switch (decision.decision) {
    case "lift":
      return {
        target: breaker,
        data: breakerInterface.encodeFunctionData("lift", [incidentId]),
        fragment: breakerInterface.getFunction("lift"),
        args: { incidentId },
        title: `Lift the trip of incident ${incidentId} on ${breaker}`,
        why: "Reverses the guardian's trip: the protected operations reopen at once. Scheduled for this incident only, it reverts if the breaker has since been tripped for another incident.",
        helper: (salt: string) => helperInterface.encodeFunctionData("scheduleLift", [breaker, incidentId, salt]),
        helperFragment: helperInterface.getFunction("scheduleLift"),
      };
    case "ratify": {
      const expiresAt = decision.expiresAt;
      if (expiresAt <= 0n || expiresAt >= 2n ** 64n) throw new GovernancePayloadError(`expiresAt: expected unix seconds that fit uint64, got ${expiresAt}`);
      return {
        target: breaker,
        data: breakerInterface.encodeFunctionData("ratify", [incidentId, expiresAt]),
        fragment: breakerInterface.getFunction("ratify"),
        args: { incidentId, expiresAt: expiresAt.toString() },
        title: `Ratify the trip of incident ${incidentId} on ${breaker} until ${new Date(Number(expiresAt) * 1000).toISOString()}`,
        why: "Confirms the guardian's trip and extends it (or re-imposes it if it lapsed) to the given expiry, at most 30 days after execution.",
        helper: (salt: string) => helperInterface.encodeFunctionData("scheduleRatify", [breaker, incidentId, expiresAt, salt]),
        helperFragment: helperInterface.getFunction("scheduleRatify"),
      };
    }
    case "recover": {
      const vault = address(decision.vault, "vault");
      const token = address(decision.token, "token");
      const recovery = address(decision.recoveryAddress, "recoveryAddress");
      if (decision.amount <= 0n) throw new GovernancePayloadError(`amount: expected a positive amount, got ${decision.amount}`);
      return {
        target: vault,
        data: vaultInterface.encodeFunctionData("recover", [token, decision.amount]),
        fragment: vaultInterface.getFunction("recover"),
        args: { token, amount: decision.amount.toString() },
        title: `Recover ${decision.display ? `${formatAmount(decision.amount.toString(), decision.display.decimals, onChainText(decision.display.symbol))} (${token})` : `${decision.amount} base units of ${token}`} from ${vault} to the registered recovery address ${recovery}`,
        why: `Sweeps the vault's own funds to its recovery address ${recovery}, fixed at deployment: the call cannot pay anyone else.`,
        helper: (salt: string) => helperInterface.encodeFunctionData("scheduleRecovery", [vault, token, decision.amount, salt]),
        helperFragment: helperInterface.getFunction("scheduleRecovery"),
      };
    }
    case "rotate-guardian": {
      const previous = address(decision.previousGuardian, "previousGuardian");
      const next = address(decision.newGuardian, "newGuardian");
      if (previous === next) throw new GovernancePayloadError(`newGuardian: must differ from previousGuardian (${previous})`);
      return {
        target: breaker,
        data: breakerInterface.encodeFunctionData("rotateGuardian", [previous, next]),
        fragment: breakerInterface.getFunction("rotateGuardian"),
        args: { previousGuardian: previous, newGuardian: next },
        title: `Rotate guardian ${previous} to ${next} on ${breaker}`,
        why: "Revokes the guardian role from the old key (lost, compromised or wrong) and grants it to the new one in one action.",
        helper: (salt: string) => helperInterface.encodeFunctionData("scheduleGuardianRotation", [breaker, previous, next, salt]),
        helperFragment: helperInterface.getFunction("scheduleGuardianRotation"),
      };
    }
  }
}

/** OZ Governor's proposal id: keccak256(abi.encode(targets, values, calldatas, keccak256(description))). */
function proposalId(p: GovernorProposal): { id: string; descriptionHash: string } {
  const descriptionHash = keccakUtf8(p.description);
  const encoded = coder.encode(["address[]", "uint256[]", "bytes[]", "bytes32"], [p.targets, p.values, p.calldatas, descriptionHash]);
  return { id: BigInt(keccak256(encoded)).toString(), descriptionHash };
}

/** The Transaction Builder's form of a call: the method's inputs and each argument as a string. */
function safeTransaction(call: Call, fragment: FunctionFragment, args: readonly unknown[]): SafeBatchFile["transactions"][number] {
  const inputs = fragment.inputs.map((p) => ({ internalType: p.type, name: p.name, type: p.type }));
  const contractInputsValues = Object.fromEntries(fragment.inputs.map((p, i) => [p.name, String(args[i])]));
  return { to: call.to, value: call.value, data: call.data, contractMethod: { inputs, name: fragment.name, payable: fragment.payable }, contractInputsValues };
}

/**
 * The Transaction Builder's checksum: keccak256 of its canonical serialisation of the file (object keys
 * sorted, each object written as the JSON array of its keys followed by its values, meta.name nulled
 * and meta.checksum absent). The app flags an imported file whose checksum does not match.
 */
export function safeBatchChecksum(file: Omit<SafeBatchFile, "meta"> & { meta: Omit<SafeBatchFile["meta"], "checksum"> }): string {
  const serialize = (value: unknown): string => {
    if (Array.isArray(value)) return `[${value.map(serialize).join(",")}]`;
    if (typeof value === "object" && value !== null) {
      const keys = Object.keys(value).sort();
      return `{${JSON.stringify(keys)}${keys.map((k) => `${serialize((value as Record<string, unknown>)[k])},`).join("")}}`;
    }
    return JSON.stringify(value === undefined ? null : value);
  };
  const { checksum: _ignored, ...meta } = file.meta as SafeBatchFile["meta"];
  return keccak256(toUtf8Bytes(serialize({ ...file, meta: { ...meta, name: null } })));
}

function safeBatch(ctx: GovernanceContext, name: string, description: string, tx: SafeBatchFile["transactions"][number]): SafeBatchFile {
  const unsigned = {
    version: "1.0" as const,
    chainId: String(ctx.chainId),
    createdAt: ctx.createdAt ?? Date.now(),
    meta: {
      name,
      description,
      txBuilderVersion: TX_BUILDER_VERSION,
      createdFromSafeAddress: ctx.safe ? address(ctx.safe, "safe") : "",
      createdFromOwnerAddress: "",
    },
    transactions: [tx],
  };
  return { ...unsigned, meta: { ...unsigned.meta, checksum: safeBatchChecksum(unsigned) } };
}

/** The most characters of summary a Governor description carries. */
export const MAX_SUMMARY_CHARS = 280;

/**
 * Text made fit for a permanent, public proposal description: one line, printable characters only, no
 * Markdown links or HTML (Tally and the Safe app render descriptions as Markdown), no absolute or home-relative
 * file paths (a path names the operator's machine and user), capped at MAX_SUMMARY_CHARS.
 */
export function onChainText(value: string): string {
  const oneLine = value
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, " ")
    .replace(/[<>\[\]`*_|\\]/g, "")
    .replace(/(^|[\s(:=])(~|\.{1,2})?\/[^\s,;)]*/g, "$1[path removed]")
    .replace(/\b[A-Za-z]:\\[^\s,;)]*/g, "[path removed]")
    .replace(/\s+/g, " ")
    .trim();
  return oneLine.length > MAX_SUMMARY_CHARS ? `${oneLine.slice(0, MAX_SUMMARY_CHARS - 1)}…` : oneLine;
}

/** The longest a ratification may extend a trip, counted from its execution (CircuitBreaker.MAX_RATIFIED_DURATION). */
export const MAX_RATIFIED_SECONDS = 30 * 24 * 3600;
/** How long a ratification keeps the breaker tripped unless told otherwise. */
export const DEFAULT_RATIFY_SECONDS = 7 * 24 * 3600;

/**
 * The expiry a ratification proposes: `forSeconds` after the earliest moment it can execute (now plus the
 * timelock delay), capped at the contract's 30 days so it cannot revert for being too far out.
 */
export function ratifyExpiry(nowSeconds: bigint, delaySeconds: bigint, forSeconds: number = DEFAULT_RATIFY_SECONDS): bigint {
  if (!Number.isInteger(forSeconds) || forSeconds <= 0) throw new GovernancePayloadError(`ratify duration: expected whole seconds > 0, got ${forSeconds}`);
  return nowSeconds + delaySeconds + BigInt(Math.min(forSeconds, MAX_RATIFIED_SECONDS));
}

/** Every format governors use for one decision on one incident. Pure: nothing is sent. */
export function buildGovernancePayload(ctx: GovernanceContext, decision: DecisionInput): GovernancePayload {
  const breaker = address(ctx.breaker, "breaker");
  const timelock = address(ctx.timelock, "timelock");
  const incidentId = bytes32(ctx.incidentId, "incidentId");
  const predecessor = bytes32(ctx.predecessor ?? ZeroHash, "predecessor");
  const salt = bytes32(ctx.salt ?? incidentId, "salt");
  if (ctx.delay < 0n) throw new GovernancePayloadError(`delay: expected seconds >= 0, got ${ctx.delay}`);

  const action = describeAction(decision, breaker, incidentId);
  const value = 0n;
  const executeArgs: [string, bigint, string, string, string] = [action.target, value, action.data, predecessor, salt];
  const scheduleArgs: [string, bigint, string, string, string, bigint] = [...executeArgs, ctx.delay];
  const schedule: Call = { to: timelock, value: "0", data: timelockInterface.encodeFunctionData("schedule", scheduleArgs) };
  const execute: Call = { to: timelock, value: "0", data: timelockInterface.encodeFunctionData("execute", executeArgs) };
  const operationId = keccak256(coder.encode(["address", "uint256", "bytes", "bytes32", "bytes32"], executeArgs));

  const contentHash = ctx.contentHash === undefined ? undefined : bytes32(ctx.contentHash, "contentHash");
  const description = [
    `# ${action.title}`,
    "",
    action.why,
    "",
    `- Incident: ${incidentId}`,
    ...(contentHash ? [`- Incident report content hash (keccak256): ${contentHash}`] : []),
    ...(ctx.summary ? [`- Summary: ${onChainText(ctx.summary)}`] : []),
    "",
    `Chain ${ctx.chainId}. The action \`${action.fragment.format("sighash")}\` on ${action.target} is scheduled through the TimelockedRecovery ${timelock} with a delay of ${ctx.delay} s (operation ${operationId}); anyone holding the canceller role can cancel it during the delay.`,
  ].join("\n");
  const proposal: GovernorProposal = { targets: [timelock], values: ["0"], calldatas: [schedule.data], description };
  const { id, descriptionHash } = proposalId(proposal);
  const direct: GovernorProposal = { targets: [action.target], values: ["0"], calldatas: [action.data], description };

  const scheduleFragment = timelockInterface.getFunction("schedule");
  const executeFragment = timelockInterface.getFunction("execute");
  return {
    decision: decision.decision,
    title: action.title,
    chainId: ctx.chainId,
    action: { to: action.target, value: "0", data: action.data, signature: action.fragment.format("sighash"), args: action.args },
    timelock: {
      address: timelock,
      predecessor,
      salt,
      delay: ctx.delay.toString(),
      operationId,
      schedule,
      execute,
      ...(predecessor === ZeroHash
        ? { helper: { to: timelock, value: "0", data: action.helper(salt), signature: action.helperFragment.format("sighash") } }
        : {}),
    },
    governor: {
      ...proposal,
      proposalId: id,
      descriptionHash,
      proposeCalldata: governorInterface.encodeFunctionData("propose", [proposal.targets, proposal.values, proposal.calldatas, description]),
      timelockControlled: { ...direct, proposalId: proposalId(direct).id },
    },
    safe: {
      schedule: safeBatch(ctx, `Failsafe: schedule ${decision.decision}`, action.title, safeTransaction(schedule, scheduleFragment, scheduleArgs)),
      execute: safeBatch(ctx, `Failsafe: execute ${decision.decision}`, action.title, safeTransaction(execute, executeFragment, executeArgs)),
    },
  };
}

/** What the chain says about a breaker, its timelock and (for recovery) its vault. */
export interface OnChainGovernanceState {
  chainId: number;
  incidentId: string;
  /** The guardian that tripped the current incident (the default account a rotation replaces). */
  guardian: string;
  trippedAt: bigint;
  expiresAt: bigint;
  isTripped: boolean;
  minDelay: bigint;
  recoveryAddress?: string;
  asset?: string;
}

/**
 * Reads the current incident, the timelock's minimum delay and (given a vault) its recovery address,
 * through the typed contracts, so proposals are built from on-chain facts rather than remembered ones.
 */
export async function readGovernanceState(
  breaker: ICircuitBreaker,
  timelock: TimelockedRecovery,
  vault?: IPausableVault,
): Promise<OnChainGovernanceState> {
  const provider = breaker.runner?.provider;
  if (!provider) throw new GovernancePayloadError("breaker: the contract has no provider to read from");
  const [network, incident, isTripped, minDelay, recoveryAddress, asset] = await Promise.all([
    provider.getNetwork(),
    breaker.incident(),
    breaker.isTripped(),
    timelock.getMinDelay(),
    vault?.recoveryAddress(),
    vault?.asset(),
  ]);
  return {
    chainId: Number(network.chainId),
    incidentId: incident.incidentId,
    guardian: incident.guardian,
    trippedAt: incident.trippedAt,
    expiresAt: incident.expiresAt,
    isTripped,
    minDelay,
    ...(recoveryAddress ? { recoveryAddress } : {}),
    ...(asset ? { asset } : {}),
  };
}
