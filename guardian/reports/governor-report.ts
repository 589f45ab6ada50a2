import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ZeroAddress, ZeroHash, getAddress, id as keccakUtf8, type Provider } from "ethers";
import {
  IAccessControl__factory,
  ICircuitBreaker__factory,
  IERC20Metadata__factory,
  IPausableVault__factory,
  TimelockedRecovery__factory,
} from "../../typechain-types";
import type { GovernanceConfig } from "../config/governance";
import type { IncidentRecord, IncidentStatus } from "./incident-record";
import {
  GOVERNANCE_DECISIONS,
  buildGovernancePayload,
  ratifyExpiry,
  readGovernanceState,
  type DecisionInput,
  type GovernanceDecision,
  type GovernancePayload,
  type OnChainGovernanceState,
} from "./governance-payloads";
import { chainText, formatAmount, humanSpan } from "./governor-format";
import { balanceSvg, outflowSvg, readChart, type GovernorChart } from "./governor-report-chart";
import { payloadDownloads, reportBase } from "./governor-report-files";
import { humanEvidence, humanTitle, readTokenUnits, tokensOf } from "./governor-report-units";
import { renderGovernorHtml } from "./governor-report-html";
import { renderGovernorMarkdown } from "./governor-report-markdown";

/** Where an operation stands in the timelock (TimelockController.OperationState). */
export type OperationState = "unscheduled" | "waiting" | "ready" | "done";
const OPERATION_STATES: OperationState[] = ["unscheduled", "waiting", "ready", "done"];

export interface ReportedDecision {
  decision: GovernanceDecision;
  /** What choosing it means, in one sentence. */
  meaning: string;
  available: boolean;
  /** Why it is not available, or what must be supplied to make it so. */
  reason?: string;
  payload?: GovernancePayload;
  /** The payload's timelock operation as the chain sees it now. */
  operation?: { id: string; state: OperationState; readyAt?: number };
  /** The command that writes (and, with a governance key, schedules) this decision. */
  command: string;
}

export interface AssetFunds {
  /** `native` or the token's address. */
  asset: string;
  symbol: string;
  decimals: number;
  /** The token on the explorer. */
  url?: string;
  /** Base units, decimal strings. */
  atRisk: string;
  afterTrip?: string;
  now: string;
  saved?: string;
  lost?: string;
}

export interface FundsAtRisk {
  contract: string;
  /** The block whose end state counts as "at risk": the block before the first finding's. */
  atRiskBlock: number;
  /** The block that included the trip; its end state is what the trip saved. */
  tripBlock?: number;
  headBlock: number;
  assets: AssetFunds[];
  method: string;
}

export interface GovernorReport {
  kind: "failsafe-governor-report";
  version: 1;
  generatedAt: string;
  chainId: number;
  incidentId: string;
  status: IncidentStatus;
  dryRun: boolean;
  breaker: { address: string; name?: string; url?: string };
  contract: { address: string; name?: string; url?: string };
  summary: string;
  /** The one-minute view: the few facts a governor needs before reading further, in order. */
  glance: { label: string; text: string }[];
  trip?: { txHash: string; url?: string; blockNumber: number; blockHash: string; via: "bundle" | "public"; detectToIncludeMs?: number };
  trippedBy?: { incidentId: string; guardian: string };
  lift?: { txHash: string; url?: string; blockNumber: number; liftedBy?: string; at: string };
  findings: {
    id: string;
    detectorId: string;
    severity: string;
    title: string;
    blockNumber: number;
    blockHash: string;
    txHash?: string;
    txUrl?: string;
    evidence: Record<string, unknown>;
    /** The evidence's amounts in human units ("240,000 USDC"), when its asset is known. */
    evidenceHuman?: Record<string, string>;
    retracted?: string;
  }[];
  timeline: { at?: string; step: string; blockNumber?: number; txHash?: string; txUrl?: string; detail?: string }[];
  funds: FundsAtRisk | { unavailable: string; method: string };
  /** The balance and outflow around the trip, block by block; absent when the node could not say. */
  chart?: GovernorChart;
  /** incidentContentHash: the hash the Governor proposal's description cites. */
  contentHash: string;
  switch: {
    readAtBlock: number;
    readAt: string;
    isTripped: boolean;
    currentIncidentId: string;
    isThisIncident: boolean;
    guardian: string;
    trippedAt?: string;
    expiresAt?: string;
    /** Seconds until the trip lapses (negative: lapsed that long ago), by chain time. */
    expiresInSeconds?: number;
    tripDurationSeconds: number;
  };
  timelock?: { address: string; url?: string; minDelaySeconds: number; governsBreaker: boolean };
  decisions: ReportedDecision[];
  notes: string[];
}

export interface GovernorReportDeps {
  /** A provider for the record's chain. */
  provider: Provider;
  /** The TimelockedRecovery that governs the breaker (policy.breakers[].timelock). */
  timelock?: string;
  /** The protected contract (whose holdings are at risk), when it is not the breaker itself. */
  contract?: { address: string; name?: string };
  /** Explorer base URL for the chain (alerts.explorers), e.g. https://etherscan.io. */
  explorerUrl?: string;
  governance?: Partial<Pick<GovernanceConfig, "safe" | "standbyGuardian" | "ratifyForSeconds">>;
  /** The config file, to print ready-to-run commands. */
  configFile?: string;
  /** Milliseconds; fixes the Safe batches' createdAt (tests, reproducible files). */
  createdAt?: number;
}

/** Explorer links in the Etherscan layout (/tx, /address, /block), which Blockscout and others share. */
export function explorerLinks(base: string | undefined) {
  const root = base?.replace(/\/+$/, "");
  return {
    tx: (hash: string | undefined) => (root && hash ? `${root}/tx/${hash}` : undefined),
    address: (address: string) => (root ? `${root}/address/${address}` : undefined),
  };
}

const MEANINGS: Record<GovernanceDecision, string> = {
  lift: "Reverse the trip (a false alarm): the protected operations reopen.",
  ratify: "Confirm the incident: keep the breaker tripped (or trip it again) until a later expiry while it is handled.",
  recover: "Sweep the vault's funds to its recovery address, fixed at deployment.",
  "rotate-guardian": "Replace the guardian key that tripped (lost, compromised or misbehaving) with another.",
};

/** Overrides for the decisions' parameters (from `failsafe governance propose`). */
export interface DecisionOptions {
  expiresAt?: bigint;
  token?: string;
  amount?: bigint;
  previousGuardian?: string;
  newGuardian?: string;
}

interface ChainFacts {
  state: OnChainGovernanceState;
  block: { number: number; timestamp: number };
  tripDuration: number;
  vault?: { asset: string; recovery: string; balance: bigint; symbol: string; decimals: number };
  governsBreaker: boolean;
}

async function readChainFacts(provider: Provider, breakerAddress: string, timelockAddress: string): Promise<ChainFacts> {
  const breaker = ICircuitBreaker__factory.connect(breakerAddress, provider);
  const timelock = TimelockedRecovery__factory.connect(timelockAddress, provider);
  const asVault = IPausableVault__factory.connect(breakerAddress, provider);
  // Any CircuitBreaker can be governed; only a PausableVault answers recoveryAddress() and can be recovered from.
  const recovery = await asVault.recoveryAddress().catch(() => undefined);
  const [state, block, tripDuration, governsBreaker] = await Promise.all([
    readGovernanceState(breaker, timelock, recovery ? asVault : undefined),
    provider.getBlock("latest"),
    breaker.tripDuration(),
    breaker.GOVERNOR_ROLE().then((role) => IAccessControl__factory.connect(breakerAddress, provider).hasRole(role, timelockAddress)),
  ]);
  if (!block) throw new Error("the node returned no latest block");
  let vault: ChainFacts["vault"];
  if (state.recoveryAddress && state.asset) {
    const asset = IERC20Metadata__factory.connect(state.asset, provider);
    const [balance, symbol, decimals] = await Promise.all([asset.balanceOf(breakerAddress), asset.symbol().catch(() => "units"), asset.decimals().catch(() => 18n)]);
    vault = { asset: state.asset, recovery: state.recoveryAddress, balance, symbol: chainText(symbol), decimals: Math.min(Number(decimals), 77) };
  }
  return { state, block: { number: block.number, timestamp: block.timestamp }, tripDuration: Number(tripDuration), vault, governsBreaker };
}

/**
 * Turns a decision into the payload's input from what the chain says now, or says why it cannot be taken.
 * `ratify` extends to `ratifyForSeconds` after the earliest execution; `recover` sweeps the vault's whole
 * balance of its asset; `rotate-guardian` replaces the guardian that tripped with the standby guardian.
 */
function decisionInput(
  decision: GovernanceDecision,
  record: IncidentRecord,
  facts: ChainFacts,
  options: DecisionOptions,
  governance: GovernorReportDeps["governance"],
): { input: DecisionInput } | { reason: string } {
  const { state } = facts;
  const ours = state.incidentId.toLowerCase() === incidentOnBreaker(record).toLowerCase();
  const needsOurIncident = `the breaker's current incident is ${state.incidentId}, not this one: a ${decision} naming this incident would revert`;
  switch (decision) {
    case "lift":
      if (!ours) return { reason: needsOurIncident };
      if (!state.isTripped) return { reason: "the breaker is not tripped any more (lifted or lapsed): there is nothing to lift" };
      return { input: { decision } };
    case "ratify": {
      if (!ours) return { reason: needsOurIncident };
      const expiresAt = options.expiresAt ?? ratifyExpiry(BigInt(facts.block.timestamp), state.minDelay, governance?.ratifyForSeconds);
      return { input: { decision, expiresAt } };
    }
    case "recover": {
      if (!facts.vault) return { reason: "the breaker is not a PausableVault: it has no recovery address to sweep to" };
      const token = options.token ?? facts.vault.asset;
      const amount = options.amount ?? (token.toLowerCase() === facts.vault.asset.toLowerCase() ? facts.vault.balance : undefined);
      if (amount === undefined) return { reason: `name the amount of ${token} to recover (--amount)` };
      if (amount === 0n) return { reason: `the vault holds none of ${token}: there is nothing to recover` };
      const display = token.toLowerCase() === facts.vault.asset.toLowerCase() ? { display: { symbol: facts.vault.symbol, decimals: facts.vault.decimals } } : {};
      return { input: { decision, vault: record.breaker, token, amount, recoveryAddress: facts.vault.recovery, ...display } };
    }
    case "rotate-guardian": {
      const previousGuardian = options.previousGuardian ?? (state.guardian !== ZeroAddress ? state.guardian : undefined);
      const newGuardian = options.newGuardian ?? governance?.standbyGuardian;
      if (!previousGuardian) return { reason: "the breaker was never tripped by a guardian: name the guardian to replace (--previous-guardian)" };
      if (!newGuardian) return { reason: "no replacement guardian: configure governance.standbyGuardian or pass --new-guardian" };
      if (getAddress(previousGuardian) === getAddress(newGuardian)) return { reason: `the replacement guardian ${getAddress(newGuardian)} is the guardian being replaced` };
      return { input: { decision, previousGuardian, newGuardian } };
    }
  }
}

/** JSON with object keys sorted, so the same facts always hash the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The facts of an incident that never change once the trip landed: what was seen, and the trip itself. */
export function incidentFacts(record: IncidentRecord) {
  return {
    id: record.id,
    chainId: record.chainId,
    breaker: record.breaker,
    findings: record.findings.map((f) => ({ id: f.id, detectorId: f.detectorId, severity: f.severity, title: f.title, blockNumber: f.blockNumber, blockHash: f.blockHash, txHash: f.txHash, evidence: f.evidence })),
    trip: record.trip,
  };
}

/**
 * keccak256 of the canonical JSON of `incidentFacts`: what the Governor description cites, so a voter can
 * check the report in front of them (`failsafe incident show --format json` prints `contentHash`) is the
 * one the proposal is about. Later updates (governance steps, the lift) do not change it.
 */
export function incidentContentHash(record: IncidentRecord): string {
  return keccakUtf8(canonicalJson(incidentFacts(record)));
}

/** One line for the chain: configured names, ids and numbers only; finding titles (attacker-shaped) stay off-chain. */
export function onChainSummary(record: IncidentRecord): string {
  const live = record.findings.filter((f) => !f.retracted);
  const cause = live.length === 0 ? "without a detector finding" : `after ${live.length} finding${live.length > 1 ? "s" : ""} (first: ${live[0].severity} ${live[0].detectorId} in block ${live[0].blockNumber})`;
  const trip = record.trip ? `; trip included in block ${record.trip.blockNumber}` : record.trippedBy ? `; already tripped for incident ${record.trippedBy.incidentId}` : "";
  return `Failsafe guardian trip of ${record.breakerName ? `${record.breakerName} ` : ""}${record.breaker} on chain ${record.chainId} ${cause}${trip}.`;
}

/** The incident id the breaker holds for this record: ours, or the one whose trip beat ours. */
function incidentOnBreaker(record: IncidentRecord): string {
  return record.trippedBy?.incidentId ?? record.id;
}

/** One decision's ready-made payload and its place in the timelock, built from the chain's state now. */
export async function planDecision(
  record: IncidentRecord,
  decision: GovernanceDecision,
  deps: GovernorReportDeps,
  options: DecisionOptions = {},
  facts?: ChainFacts,
): Promise<ReportedDecision> {
  const command = `failsafe governance propose ${decision} --incident ${record.id}${deps.configFile ? ` -c ${deps.configFile}` : ""}`;
  if (!deps.timelock) {
    return { decision, meaning: MEANINGS[decision], available: false, reason: "no timelock is configured for this breaker (policy.breakers[].timelock)", command };
  }
  const known = facts ?? (await readChainFacts(deps.provider, record.breaker, deps.timelock));
  const planned = decisionInput(decision, record, known, options, deps.governance);
  if ("reason" in planned) return { decision, meaning: MEANINGS[decision], available: false, reason: planned.reason, command };
  const payload = buildGovernancePayload(
    {
      chainId: record.chainId,
      breaker: record.breaker,
      timelock: deps.timelock,
      incidentId: incidentOnBreaker(record),
      delay: known.state.minDelay,
      ...(deps.governance?.safe ? { safe: deps.governance.safe } : {}),
      ...(deps.createdAt !== undefined ? { createdAt: deps.createdAt } : {}),
      contentHash: incidentContentHash(record),
      summary: onChainSummary(record),
    },
    planned.input,
  );
  const timelock = TimelockedRecovery__factory.connect(deps.timelock, deps.provider);
  const [state, readyAt] = await Promise.all([timelock.getOperationState(payload.timelock.operationId), timelock.getTimestamp(payload.timelock.operationId)]);
  const operationState = OPERATION_STATES[Number(state)];
  return {
    decision,
    meaning: MEANINGS[decision],
    available: true,
    payload,
    operation: { id: payload.timelock.operationId, state: operationState, ...(readyAt > 1n ? { readyAt: Number(readyAt) } : {}) },
    command,
  };
}

interface AssetRef {
  asset: string;
  symbol: string;
  decimals: number;
  balanceAt(block: number): Promise<bigint>;
}

async function assetsOf(provider: Provider, contract: string, vaultAsset: string | undefined): Promise<AssetRef[]> {
  const assets: AssetRef[] = [{ asset: "native", symbol: "ETH", decimals: 18, balanceAt: (blockTag) => provider.getBalance(contract, blockTag) }];
  if (vaultAsset) {
    const token = IERC20Metadata__factory.connect(vaultAsset, provider);
    const [symbol, decimals] = await Promise.all([token.symbol().catch(() => getAddress(vaultAsset)), token.decimals().catch(() => 18n)]);
    // The symbol is whatever the token contract returns: capped here, escaped by each renderer.
    assets.push({ asset: getAddress(vaultAsset), symbol: chainText(symbol), decimals: Math.min(Number(decimals), 77), balanceAt: (blockTag) => token.balanceOf(contract, { blockTag }) });
  }
  return assets;
}

export const FUNDS_METHOD =
  "At risk: what the protected contract held (ether, and a vault's underlying asset) at the end of the block before the first finding's block, " +
  "i.e. before the activity that was detected. After the trip: what it held at the end of the block that included the trip. " +
  "Saved = after the trip, capped at the amount at risk; lost = at risk minus after the trip, when positive. " +
  "Read from the node at those blocks (needs archive state for old blocks).";

async function readFunds(
  provider: Provider,
  record: IncidentRecord,
  contract: string,
  vaultAsset: string | undefined,
  head: number,
  links: ReturnType<typeof explorerLinks>,
): Promise<GovernorReport["funds"]> {
  const live = record.findings.filter((f) => !f.retracted);
  const firstFinding = live.length > 0 ? Math.min(...live.map((f) => f.blockNumber)) : undefined;
  const tripBlock = record.trip?.blockNumber;
  const detectedIn = firstFinding ?? tripBlock;
  if (detectedIn === undefined) return { unavailable: "no finding and no trip block to measure from", method: FUNDS_METHOD };
  const atRiskBlock = Math.max(0, detectedIn - 1);
  try {
    const assets = await assetsOf(provider, contract, vaultAsset);
    const rows: AssetFunds[] = [];
    for (const a of assets) {
      const [atRisk, afterTrip, now] = await Promise.all([a.balanceAt(atRiskBlock), tripBlock !== undefined ? a.balanceAt(tripBlock) : undefined, a.balanceAt(head)]);
      if (a.asset === "native" && assets.length > 1 && atRisk === 0n && now === 0n && !afterTrip) continue;
      const url = a.asset === "native" ? undefined : links.address(a.asset);
      const row: AssetFunds = { asset: a.asset, symbol: a.symbol, decimals: a.decimals, ...withUrl(url), atRisk: atRisk.toString(), now: now.toString() };
      if (afterTrip !== undefined) {
        row.afterTrip = afterTrip.toString();
        row.saved = (afterTrip < atRisk ? afterTrip : atRisk).toString();
        row.lost = (atRisk > afterTrip ? atRisk - afterTrip : 0n).toString();
      }
      rows.push(row);
    }
    return { contract, atRiskBlock, ...(tripBlock !== undefined ? { tripBlock } : {}), headBlock: head, assets: rows, method: FUNDS_METHOD };
  } catch (err) {
    return { unavailable: `the node could not report balances at block ${atRiskBlock}${tripBlock !== undefined ? ` or ${tripBlock}` : ""}: ${(err as Error).message.split("\n")[0]}`, method: FUNDS_METHOD };
  }
}

function iso(seconds: bigint | number): string {
  return new Date(Number(seconds) * 1000).toISOString();
}

/**
 * What a governor reads first: what happened, the money, the switch, the deadline and the choices. Plain
 * sentences from the report's own facts; finding titles are quoted as data and escaped by each renderer.
 */
function atAGlance(r: Omit<GovernorReport, "summary" | "glance">): GovernorReport["glance"] {
  const out: GovernorReport["glance"] = [];
  const findings = r.findings.filter((f) => !f.retracted);
  const breaker = r.breaker.name ?? r.breaker.address;
  out.push({
    label: "What happened",
    text: r.trip
      ? `The guardian tripped ${breaker} in block ${r.trip.blockNumber}${findings.length > 0 ? ` after ${findings.length} finding${findings.length > 1 ? "s" : ""}; first: ${findings[0].severity} ${findings[0].detectorId}, "${findings[0].title}"` : " without a detector finding"}.`
      : r.trippedBy
        ? `${breaker} was already tripped for another incident (${r.trippedBy.incidentId.slice(0, 10)}…) when the guardian decided to trip.`
        : `The guardian decided to trip ${breaker}; the trip is ${r.status}${r.dryRun ? " (dry run: nothing was sent)" : ""}.`,
  });
  if ("assets" in r.funds && r.funds.tripBlock !== undefined) {
    const f = r.funds;
    const list = (pick: (a: AssetFunds) => string | undefined) => f.assets.map((a) => formatAmount(pick(a) ?? "0", a.decimals, a.symbol)).join(" and ");
    out.push({ label: "Money", text: `Held before the attack: ${list((a) => a.atRisk)}. Kept behind the breaker: ${list((a) => a.saved)}. Lost before the trip: ${list((a) => a.lost)}.` });
  }
  const s = r.switch;
  out.push({
    label: "The switch",
    text: s.isTripped
      ? `Tripped${s.isThisIncident ? "" : " for another incident"} until ${s.expiresAt} (${humanSpan(s.expiresInSeconds ?? 0)}); then it reopens on its own.`
      : r.lift
        ? `Open: governance lifted the trip in block ${r.lift.blockNumber}.`
        : `Open${s.expiresAt ? `: the trip ended ${s.expiresAt}` : ""}.`,
  });
  if (s.isTripped && s.isThisIncident && r.timelock && s.expiresInSeconds !== undefined) {
    const left = s.expiresInSeconds - r.timelock.minDelaySeconds;
    out.push({
      label: "Decide by",
      text:
        left > 0
          ? `${iso(Date.parse(s.readAt) / 1000 + left)} (${humanSpan(left)}): a ratification must be scheduled by then to execute (after the ${r.timelock.minDelaySeconds} s timelock delay) before the trip lapses.`
          : `Too late for a ratification to execute before the trip lapses (the timelock needs ${r.timelock.minDelaySeconds} s, the trip has ${Math.max(0, s.expiresInSeconds)} s left).`,
    });
  }
  const open = r.decisions.filter((d) => d.available).map((d) => d.decision);
  if (open.length > 0) {
    out.push({
      label: "Choices",
      text: `${open.includes("ratify") ? "A real attack: ratify (keep it tripped), then recover or rotate the guardian if needed. " : ""}${open.includes("lift") ? "A false alarm: lift (reopen now). " : ""}Payloads for ${open.join(", ")} are below, for a Governor and a Safe.`,
    });
  }
  return out;
}

function summarize(r: Omit<GovernorReport, "summary" | "glance">): string {
  const breaker = r.breaker.name ? `${r.breaker.name} (${r.breaker.address})` : r.breaker.address;
  const findings = r.findings.filter((f) => !f.retracted);
  const cause =
    findings.length === 0
      ? "without a detector finding (a manual trip)"
      : `after ${findings.length} finding${findings.length > 1 ? "s" : ""}, first ${findings[0].severity} ${findings[0].detectorId}: "${findings[0].title}" in block ${findings[0].blockNumber}`;
  const parts: string[] = [];
  if (r.trip) {
    parts.push(
      `On chain ${r.chainId} the guardian tripped the circuit breaker ${breaker} for incident ${r.incidentId} ${cause}; the trip was included in block ${r.trip.blockNumber} via ${r.trip.via}${r.trip.detectToIncludeMs !== undefined ? `, ${r.trip.detectToIncludeMs} ms after detection` : ""}.`,
    );
  } else if (r.trippedBy) {
    parts.push(`On chain ${r.chainId} the guardian decided to trip ${breaker} ${cause}, but it had already been tripped by ${r.trippedBy.guardian} for incident ${r.trippedBy.incidentId}.`);
  } else {
    parts.push(`On chain ${r.chainId} the guardian decided to trip ${breaker} ${cause}; the trip is ${r.status}${r.dryRun ? " (dry run: nothing was sent)" : ""}.`);
  }
  if ("assets" in r.funds && r.funds.tripBlock !== undefined) {
    const f = r.funds;
    parts.push(
      `At the end of block ${f.atRiskBlock}, before ${findings.length > 0 ? "the first finding's block" : "the trip"}, it held ${f.assets.map((a) => formatAmount(a.atRisk, a.decimals, a.symbol)).join(" and ")}; once the trip landed, ${f.assets.map((a) => formatAmount(a.saved ?? "0", a.decimals, a.symbol)).join(" and ")} remained behind the breaker (lost: ${f.assets.map((a) => formatAmount(a.lost ?? "0", a.decimals, a.symbol)).join(" and ")}).`,
    );
  }
  const s = r.switch;
  if (r.lift) parts.push(`Governance lifted the trip in block ${r.lift.blockNumber}; the breaker is ${s.isTripped ? "tripped again (by another incident)" : "open"}.`);
  else if (s.isTripped && s.isThisIncident) parts.push(`The breaker is tripped until ${s.expiresAt} (${humanSpan(s.expiresInSeconds ?? 0)}) unless governance ratifies or lifts it.`);
  else if (s.isThisIncident) parts.push(`The trip lapsed at ${s.expiresAt}; the breaker is open.`);
  else if (s.isTripped) parts.push(`The breaker is now tripped for another incident (${s.currentIncidentId}).`);
  const open = r.decisions.filter((d) => d.available).map((d) => d.decision);
  if (open.length > 0 && r.timelock) {
    parts.push(`Governors can ${open.length > 1 ? `${open.slice(0, -1).join(", ")} or ${open.at(-1)}` : open[0]} through the timelock ${r.timelock.address} (delay ${r.timelock.minDelaySeconds} s); each decision below has its payload ready.`);
  }
  return parts.join(" ");
}

/**
 * The report governors read about one incident: built from the incident record plus what the chain says
 * now (the switch's state and expiry, balances at the detection and trip blocks, the timelock delay and
 * any scheduled operation), with the four decisions as ready-made payloads.
 */
export async function buildGovernorReport(record: IncidentRecord, deps: GovernorReportDeps): Promise<GovernorReport> {
  const links = explorerLinks(deps.explorerUrl);
  const provider = deps.provider;
  const breakerContract = ICircuitBreaker__factory.connect(record.breaker, provider);
  const facts = deps.timelock ? await readChainFacts(provider, record.breaker, deps.timelock) : undefined;
  const [incident, isTripped, tripDuration, head] = facts
    ? [
        { incidentId: facts.state.incidentId, guardian: facts.state.guardian, trippedAt: facts.state.trippedAt, expiresAt: facts.state.expiresAt },
        facts.state.isTripped,
        facts.tripDuration,
        facts.block,
      ]
    : await Promise.all([
        breakerContract.incident(),
        breakerContract.isTripped(),
        breakerContract.tripDuration().then(Number),
        provider.getBlock("latest").then((b) => ({ number: b!.number, timestamp: b!.timestamp })),
      ]);
  const vaultAsset = facts?.vault?.asset ?? (await IPausableVault__factory.connect(record.breaker, provider).asset().catch(() => undefined));
  const contractAddress = (deps.contract?.address ?? record.breaker).toLowerCase();

  const tokenUnits = await readTokenUnits(provider, tokensOf(record.findings));
  const decisions: ReportedDecision[] = [];
  for (const d of GOVERNANCE_DECISIONS) decisions.push(await planDecision(record, d, deps, {}, facts));

  const notes = [...record.notes];
  if (facts && !facts.governsBreaker) notes.push(`The timelock ${deps.timelock} does not hold GOVERNOR_ROLE on the breaker: its payloads would revert when executed.`);
  const thisIncident = incident.incidentId.toLowerCase() === incidentOnBreaker(record).toLowerCase();
  const expiresInSeconds = Number(incident.expiresAt) - head.timestamp;

  const timeline: GovernorReport["timeline"] = [
    ...record.findings.map((f) => ({
      step: `finding: ${f.severity} ${f.detectorId}${f.retracted ? " (retracted by a reorg)" : ""}`,
      blockNumber: f.blockNumber,
      ...(f.txHash ? { txHash: f.txHash, txUrl: links.tx(f.txHash) } : {}),
      detail: humanTitle(f.title, tokenUnits),
    })),
    ...record.timeline.map((e) => ({
      at: e.at,
      step: e.step,
      ...(e.blockNumber !== undefined ? { blockNumber: e.blockNumber } : {}),
      ...(e.txHash ? { txHash: e.txHash, txUrl: links.tx(e.txHash) } : {}),
      ...(e.detail ? { detail: `+${e.ms} ms: ${e.detail}` } : { detail: `+${e.ms} ms` }),
    })),
    // Governance steps come from the CLI and the guardian's view of the chain: ordered by when each was recorded.
    ...[...(record.governanceLog ?? []).map((e) => ({
      at: e.at,
      step: `${e.decision} ${e.step}`,
      blockNumber: e.blockNumber,
      txHash: e.txHash,
      txUrl: links.tx(e.txHash),
      detail: `operation ${e.operationId}${e.readyAt !== undefined ? `, ready at ${iso(e.readyAt)}` : ""}`,
    })),
    ...(record.lift
      ? [{ at: record.lift.at, step: "lifted", blockNumber: record.lift.blockNumber, txHash: record.lift.txHash, txUrl: links.tx(record.lift.txHash), detail: "incident closed" }]
      : [])].sort((a, b) => a.blockNumber - b.blockNumber || a.at.localeCompare(b.at)),
  ].map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as GovernorReport["timeline"][number]);

  const funds = await readFunds(provider, record, contractAddress, vaultAsset, head.number, links);
  const chart = await chartOf(provider, record, contractAddress, funds, head.number);
  const body: Omit<GovernorReport, "summary" | "glance"> = {
    kind: "failsafe-governor-report",
    version: 1,
    generatedAt: new Date().toISOString(),
    chainId: record.chainId,
    incidentId: record.id,
    status: record.status,
    dryRun: record.dryRun,
    breaker: { address: record.breaker, ...(record.breakerName ? { name: record.breakerName } : {}), ...withUrl(links.address(record.breaker)) },
    contract: { address: contractAddress, ...(deps.contract?.name ? { name: deps.contract.name } : record.breakerName && contractAddress === record.breaker ? { name: record.breakerName } : {}), ...withUrl(links.address(contractAddress)) },
    ...(record.trip ? { trip: { ...record.trip, ...withUrl(links.tx(record.trip.txHash)), ...(record.detectToIncludeMs !== undefined ? { detectToIncludeMs: record.detectToIncludeMs } : {}) } } : {}),
    ...(record.trippedBy ? { trippedBy: record.trippedBy } : {}),
    ...(record.lift ? { lift: { ...record.lift, ...withUrl(links.tx(record.lift.txHash)) } } : {}),
    findings: record.findings.map((f) => {
      const human = humanEvidence(f.evidence, tokenUnits);
      return {
        id: f.id,
        detectorId: f.detectorId,
        severity: f.severity,
        // The detector's own words, with its base-unit amounts of known tokens in human units.
        title: humanTitle(f.title, tokenUnits),
        blockNumber: f.blockNumber,
        blockHash: f.blockHash,
        ...(f.txHash ? { txHash: f.txHash, ...(links.tx(f.txHash) ? { txUrl: links.tx(f.txHash) } : {}) } : {}),
        evidence: f.evidence,
        ...(Object.keys(human).length > 0 ? { evidenceHuman: human } : {}),
        ...(f.retracted ? { retracted: `${f.retracted.reorgDepth}-block reorg back to block ${f.retracted.commonAncestor}, at ${f.retracted.at}` } : {}),
      };
    }),
    timeline,
    funds,
    ...(chart ? { chart } : {}),
    contentHash: incidentContentHash(record),
    switch: {
      readAtBlock: head.number,
      readAt: iso(head.timestamp),
      isTripped,
      currentIncidentId: incident.incidentId,
      isThisIncident: thisIncident,
      guardian: incident.guardian,
      ...(incident.incidentId !== ZeroHash ? { trippedAt: iso(incident.trippedAt), expiresAt: iso(incident.expiresAt), expiresInSeconds } : {}),
      tripDurationSeconds: Number(tripDuration),
    },
    ...(facts && deps.timelock
      ? { timelock: { address: getAddress(deps.timelock), ...withUrl(links.address(deps.timelock)), minDelaySeconds: Number(facts.state.minDelay), governsBreaker: facts.governsBreaker } }
      : {}),
    decisions,
    notes,
  };
  return { ...body, summary: summarize(body), glance: atAGlance(body) };
}

/** The chart of the asset that matters most: the vault's underlying, else ether. Never fails the report. */
async function chartOf(provider: Provider, record: IncidentRecord, contract: string, funds: GovernorReport["funds"], head: number): Promise<GovernorChart | undefined> {
  if (!("assets" in funds) || funds.assets.length === 0) return undefined;
  const asset = funds.assets.find((a) => a.asset !== "native") ?? funds.assets[0];
  const live = record.findings.filter((f) => !f.retracted);
  try {
    return await readChart(provider, {
      contract,
      breaker: record.breaker,
      asset: asset.asset,
      symbol: asset.symbol,
      decimals: asset.decimals,
      ...(live.length > 0 ? { firstFindingBlock: Math.min(...live.map((f) => f.blockNumber)) } : {}),
      ...(record.trip ? { tripBlock: record.trip.blockNumber } : {}),
      head,
    });
  } catch {
    // The chart is a view of the same balances the funds table reads; without it the report still stands.
    return undefined;
  }
}

function withUrl(url: string | undefined): { url?: string } {
  return url ? { url } : {};
}

/** The report's files: `governor-<id>.md`, `.json` and `.html`, written atomically into `dir`. */
export interface GovernorReportFiles {
  markdown: string;
  json: string;
  html: string;
}

export function writeGovernorReportFiles(report: GovernorReport, dir: string): GovernorReportFiles {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, reportBase(report));
  const files = { markdown: `${base}.md`, json: `${base}.json`, html: `${base}.html` };
  // The Markdown links to these by relative name; the HTML carries the same files inline as downloads.
  for (const d of report.decisions) {
    if (d.payload) for (const f of payloadDownloads(report, d.payload)) writeAtomically(path.join(dir, f.name), `${JSON.stringify(f.content, null, 2)}\n`);
  }
  if (report.chart && report.chart.points.length > 1) {
    writeAtomically(`${base}.balance.svg`, `${balanceSvg(report.chart)}\n`);
    writeAtomically(`${base}.outflow.svg`, `${outflowSvg(report.chart)}\n`);
  }
  writeAtomically(files.markdown, renderGovernorMarkdown(report));
  writeAtomically(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeAtomically(files.html, renderGovernorHtml(report));
  return files;
}

/** Builds the governor report of an incident and writes it beside the incident's own files (or into `dir`). */
export async function writeGovernorReport(
  record: IncidentRecord,
  deps: GovernorReportDeps & { dir?: string },
): Promise<{ report: GovernorReport; files: GovernorReportFiles }> {
  const report = await buildGovernorReport(record, deps);
  return { report, files: writeGovernorReportFiles(report, deps.dir ?? path.dirname(record.files.markdown)) };
}

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}
