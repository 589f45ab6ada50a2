import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { EXIT, usageErrorsExit2 } from "./exit-codes";
import { AbiCoder, ZeroAddress, isAddress, isHexString, keccak256, type TransactionReceipt, type Wallet } from "ethers";
import { ICircuitBreaker__factory, TimelockedRecovery__factory } from "../../typechain-types";
import { AlertDispatcher } from "../notifiers/dispatcher";
import { createAlertSinks } from "../notifiers/create-alert-sinks";
import { GuardianMetrics } from "../ops/metrics";
import { humanSpan } from "../reports/governor-format";
import { planDecision, type DecisionOptions } from "../reports/governor-report";
import { GOVERNANCE_DECISIONS, GovernancePayloadError, type GovernanceDecision, type GovernancePayload } from "../reports/governance-payloads";
import type { GovernanceLogEntry, IncidentRecord } from "../reports/incident-record";
import { GuardianKeyError, loadGuardianKey } from "../responders/guardian-key";
import { openIncidents, type IncidentContext } from "./incident-context";
import { UsageError } from "./usage-error";
import { configOption } from "./config-option";

/** A governance step that cannot be taken now; printed as one line, exit code 1. */
export class GovernanceCommandError extends Error {
  override name = "GovernanceCommandError";
}

const timelockInterface = TimelockedRecovery__factory.createInterface();
const breakerInterface = ICircuitBreaker__factory.createInterface();
const coder = AbiCoder.defaultAbiCoder();

function decisionArg(value: string, option: string): GovernanceDecision {
  if (!(GOVERNANCE_DECISIONS as readonly string[]).includes(value)) throw new UsageError(`${option}: "${value}" is not one of ${GOVERNANCE_DECISIONS.join(", ")}`);
  return value as GovernanceDecision;
}

function addressArg(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isAddress(value)) throw new UsageError(`${option}: expected a 0x-prefixed 20-byte address, got "${value}"`);
  return value;
}

/** `--until`: an ISO-8601 time or unix seconds. */
function timeArg(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return BigInt(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new UsageError(`--until: expected an ISO-8601 time (2026-12-01T00:00:00Z) or unix seconds, got "${value}"`);
  return BigInt(Math.floor(ms / 1000));
}

function amountArg(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || BigInt(value) === 0n) throw new UsageError(`--amount: expected a positive whole number of base units, got "${value}"`);
  return BigInt(value);
}

interface DecisionFlags {
  until?: string;
  token?: string;
  amount?: string;
  previousGuardian?: string;
  newGuardian?: string;
}

function decisionOptions(o: DecisionFlags): DecisionOptions {
  const options: DecisionOptions = {};
  const expiresAt = timeArg(o.until);
  const token = addressArg(o.token, "--token");
  const amount = amountArg(o.amount);
  const previousGuardian = addressArg(o.previousGuardian, "--previous-guardian");
  const newGuardian = addressArg(o.newGuardian, "--new-guardian");
  if (expiresAt !== undefined) options.expiresAt = expiresAt;
  if (token) options.token = token;
  if (amount !== undefined) options.amount = amount;
  if (previousGuardian) options.previousGuardian = previousGuardian;
  if (newGuardian) options.newGuardian = newGuardian;
  return options;
}

async function governanceSigner(ctx: IncidentContext, chainId: number, why: string): Promise<Wallet | undefined> {
  const source = ctx.loaded.config.governance.signer;
  if (!source) return undefined;
  try {
    const wallet = await loadGuardianKey(source, { baseDir: path.dirname(path.resolve(ctx.loaded.file)) });
    return wallet.connect(await ctx.provider(chainId));
  } catch (err) {
    if (err instanceof GuardianKeyError) throw new UsageError(`governance.signer (${why}): ${err.message.replace("(guardian key)", "(governance key)")}`);
    throw err;
  }
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The payload in every format, one file each, named so a governor knows which to hand to which tool. */
function writePayloadFiles(dir: string, payload: GovernancePayload): string[] {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, payload.decision);
  const files: [string, unknown][] = [
    [`${base}.payload.json`, payload],
    [`${base}.timelock.json`, { chainId: payload.chainId, title: payload.title, action: payload.action, ...payload.timelock }],
    [`${base}.governor.json`, { chainId: payload.chainId, ...payload.governor }],
    [`${base}.safe-schedule.json`, payload.safe.schedule],
    [`${base}.safe-execute.json`, payload.safe.execute],
  ];
  for (const [file, value] of files) writeJson(file, value);
  return files.map(([file]) => file);
}

function chainTime(receiptBlock: { timestamp: number } | null): number {
  return receiptBlock?.timestamp ?? Math.floor(Date.now() / 1000);
}

async function mined(tx: { hash: string; wait(): Promise<TransactionReceipt | null> }, what: string): Promise<TransactionReceipt> {
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new GovernanceCommandError(`the ${what} transaction ${tx.hash} failed`);
  return receipt;
}

async function propose(decision: GovernanceDecision, o: DecisionFlags & { config: string; incident: string; out?: string; schedule: boolean }): Promise<void> {
  const options = decisionOptions(o);
  const ctx = await openIncidents(o.config);
  try {
    const record = await ctx.resolve(o.incident, "--incident");
    const deps = await ctx.reportDeps(record);
    const planned = await planDecision(record, decision, deps, options).catch((err: unknown) => {
      if (err instanceof GovernancePayloadError) throw new UsageError(err.message);
      throw err;
    });
    if (!planned.available || !planned.payload || !planned.operation) {
      throw new GovernanceCommandError(`cannot propose ${decision} for incident ${record.id}: ${planned.reason}`);
    }
    const payload = planned.payload;
    const config = ctx.loaded.config;
    const dir = path.join(o.out ?? config.governance.payloads ?? path.join(config.policy.incidentReports, "governance"), `incident-${record.id.slice(2, 14)}`);
    const out = process.stdout;
    out.write(`${payload.title}\n`);
    out.write(`  operation  ${payload.timelock.operationId} on timelock ${payload.timelock.address}, delay ${payload.timelock.delay} s\n`);
    for (const file of writePayloadFiles(dir, payload)) out.write(`  wrote      ${file}\n`);

    const signer = o.schedule ? await governanceSigner(ctx, record.chainId, "to schedule") : undefined;
    if (!signer) {
      out.write(
        o.schedule
          ? "not scheduled: no governance.signer is configured; submit the Governor proposal or the Safe batch, or schedule with the timelock calldata\n"
          : "not scheduled (--no-schedule)\n",
      );
      return;
    }
    const timelock = TimelockedRecovery__factory.connect(payload.timelock.address, signer);
    if (planned.operation.state !== "unscheduled") {
      const readyAt = planned.operation.readyAt;
      out.write(`already scheduled: operation is ${planned.operation.state}${readyAt ? `, ready at ${new Date(readyAt * 1000).toISOString()}` : ""}\n`);
      return;
    }
    // A ratification's expiry (and a recovery's amount) follow the chain, so proposing again builds a new
    // operation: refuse to queue a second one while the first is still pending.
    for (const e of record.governanceLog ?? []) {
      if (e.decision !== decision || e.step !== "scheduled" || e.operationId === payload.timelock.operationId) continue;
      const state = Number(await timelock.getOperationState(e.operationId));
      if (state === 1 || state === 2) {
        throw new GovernanceCommandError(
          `a ${decision} of incident ${record.id} is already scheduled as operation ${e.operationId} (${state === 2 ? "ready" : `ready at ${new Date((e.readyAt ?? 0) * 1000).toISOString()}`}); execute it, or have a canceller cancel it, before proposing another`,
        );
      }
    }
    if (!(await timelock.hasRole(await timelock.PROPOSER_ROLE(), signer.address))) {
      throw new GovernanceCommandError(`the governance key ${signer.address} does not hold PROPOSER_ROLE on the timelock ${payload.timelock.address}; use the Governor proposal or the Safe batch instead`);
    }
    const tx = await signer.sendTransaction({ to: payload.timelock.schedule.to, data: payload.timelock.schedule.data });
    const receipt = await mined(tx, "schedule");
    const readyAt = Number(await timelock.getTimestamp(payload.timelock.operationId));
    const minedAt = chainTime(await receipt.getBlock());
    await logStep(ctx, record, callOf(payload), "scheduled", receipt, readyAt);
    out.write(`scheduled  tx ${receipt.hash} in block ${receipt.blockNumber}\n`);
    out.write(`ready at   ${new Date(readyAt * 1000).toISOString()} (${humanSpan(readyAt - minedAt)}, chain time)\n`);
    out.write(`then run   failsafe governance execute --incident ${record.id} --action ${decision} -c ${o.config}\n`);
  } finally {
    await ctx.close();
  }
}

/** One timelock operation, wherever it came from: a payload, or what the incident record logged. */
interface TimelockCall {
  decision: GovernanceDecision;
  timelock: string;
  to: string;
  data: string;
  predecessor: string;
  salt: string;
  operationId: string;
}

function callOf(p: GovernancePayload): TimelockCall {
  return { decision: p.decision, timelock: p.timelock.address, to: p.action.to, data: p.action.data, predecessor: p.timelock.predecessor, salt: p.timelock.salt, operationId: p.timelock.operationId };
}

async function logStep(ctx: IncidentContext, record: IncidentRecord, call: TimelockCall, step: GovernanceLogEntry["step"], receipt: TransactionReceipt, readyAt?: number): Promise<void> {
  await ctx.recorder.recordGovernance(record.id, {
    decision: call.decision,
    step,
    at: new Date().toISOString(),
    operationId: call.operationId,
    timelock: call.timelock,
    call: { to: call.to, data: call.data, predecessor: call.predecessor, salt: call.salt },
    txHash: receipt.hash,
    blockNumber: receipt.blockNumber,
    ...(readyAt !== undefined ? { readyAt } : {}),
  });
}

/** What `execute` runs: a payload file, else the operation `propose` scheduled, else (lift only) the deterministic lift. */
async function callToExecute(ctx: IncidentContext, record: IncidentRecord, decision: GovernanceDecision, payloadFile: string | undefined): Promise<TimelockCall> {
  if (payloadFile) {
    let parsed: GovernancePayload;
    try {
      parsed = JSON.parse(readFileSync(payloadFile, "utf8")) as GovernancePayload;
    } catch (err) {
      throw new UsageError(`--payload: cannot read ${payloadFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (parsed.decision !== decision || !parsed.timelock?.operationId || !parsed.action?.data) {
      throw new UsageError(`--payload: ${payloadFile} is not a ${decision} payload written by failsafe governance propose (a <decision>.payload.json)`);
    }
    const call = callOf(parsed);
    if (!isAddress(call.timelock) || !isAddress(call.to) || !isHexString(call.salt, 32) || !isHexString(call.predecessor, 32) || !isHexString(call.data)) {
      throw new UsageError(`--payload: ${payloadFile} has a malformed timelock call`);
    }
    return call;
  }
  const scheduled = [...(record.governanceLog ?? [])].reverse().find((e) => e.decision === decision && e.step === "scheduled");
  if (scheduled) return { decision, timelock: scheduled.timelock, ...scheduled.call, operationId: scheduled.operationId };
  if (decision !== "lift") {
    throw new UsageError(`--action ${decision}: no scheduled ${decision} is recorded for incident ${record.id}; pass --payload <the ${decision}.payload.json that was scheduled>`);
  }
  const planned = await planDecision(record, decision, await ctx.reportDeps(record));
  if (!planned.payload) throw new GovernanceCommandError(`cannot execute lift for incident ${record.id}: ${planned.reason}`);
  return callOf(planned.payload);
}

async function execute(o: { config: string; incident: string; action: string; payload?: string }): Promise<void> {
  const decision = decisionArg(o.action, "--action");
  const ctx = await openIncidents(o.config);
  let alerts: AlertDispatcher | undefined;
  try {
    const record = await ctx.resolve(o.incident, "--incident");
    const signer = await governanceSigner(ctx, record.chainId, "to execute");
    if (!signer) throw new UsageError(`${ctx.loaded.file}: governance.signer: execute sends a transaction; configure a governance key ({ keyEnv: NAME } or { keystore: FILE, passwordEnv: NAME })`);
    const call = await callToExecute(ctx, record, decision, o.payload);
    const { to, data, predecessor, salt } = call;
    const address = call.timelock;
    const operationId = keccak256(coder.encode(["address", "uint256", "bytes", "bytes32", "bytes32"], [to, 0n, data, predecessor, salt]));
    if (operationId !== call.operationId) {
      // A payload that fails its own check (edited, or not what was reviewed) is a verification failure: exit 3.
      process.stderr.write(`error: --payload: the operation id ${call.operationId} does not match its call (which hashes to ${operationId}); nothing was sent\n`);
      process.exitCode = EXIT.verification;
      return;
    }

    const timelock = TimelockedRecovery__factory.connect(address, signer);
    const [state, readyAt, head] = await Promise.all([timelock.getOperationState(operationId), timelock.getTimestamp(operationId), signer.provider!.getBlock("latest")]);
    const now = head?.timestamp ?? Math.floor(Date.now() / 1000);
    switch (Number(state)) {
      case 0:
        throw new GovernanceCommandError(`no ${decision} of incident ${record.id} is scheduled on the timelock ${address} (operation ${operationId}); run failsafe governance propose ${decision} --incident ${record.id} first`);
      case 1:
        throw new GovernanceCommandError(
          `the ${decision} of incident ${record.id} is not ready: operation ${operationId} can execute from ${new Date(Number(readyAt) * 1000).toISOString()}, ${Number(readyAt) - now} s from now (chain time)`,
        );
      case 3:
        throw new GovernanceCommandError(`the ${decision} of incident ${record.id} was already executed (operation ${operationId})`);
    }
    const executor = await timelock.EXECUTOR_ROLE();
    if (!(await timelock.hasRole(executor, signer.address)) && !(await timelock.hasRole(executor, ZeroAddress))) {
      throw new GovernanceCommandError(`the governance key ${signer.address} does not hold EXECUTOR_ROLE on the timelock ${address}`);
    }
    const tx = await signer.sendTransaction({ to: address, data: timelockInterface.encodeFunctionData("execute", [to, 0n, data, predecessor, salt]) });
    const receipt = await mined(tx, "execute");
    await logStep(ctx, record, call, "executed", receipt);
    const out = process.stdout;
    out.write(`executed   ${decision} of incident ${record.id}\n  operation  ${operationId}\n  tx         ${receipt.hash} (block ${receipt.blockNumber})\n`);

    if (decision !== "lift") return;
    const lifted = receipt.logs
      .filter((l) => l.address.toLowerCase() === record.breaker)
      .map((l) => breakerInterface.parseLog(l))
      .find((e) => e?.name === "Lifted");
    if (!lifted) {
      out.write(`the trip had already ended: ${record.breaker} was not tripped any more, so nothing was lifted\n`);
      return;
    }
    await ctx.recorder.recordLift(record.id, { txHash: receipt.hash, blockNumber: receipt.blockNumber, liftedBy: String(lifted.args.liftedBy) });
    out.write(`lifted     ${record.breakerName ? `${record.breakerName} ` : ""}${record.breaker}: the breaker is open; incident closed\n`);
    // The guardian alerts on the Lifted event too; the alert log sends one lift alert per incident id.
    alerts = createAlertSinks({ loaded: ctx.loaded, db: ctx.db, ...(ctx.stores ? { stores: ctx.stores } : {}), logger: ctx.logger, metrics: new GuardianMetrics({ defaultMetrics: false }) }, { resumePending: false }).find(
      (s): s is AlertDispatcher => s instanceof AlertDispatcher,
    );
    alerts?.alertLift({
      incidentId: String(lifted.args.incidentId),
      chainId: record.chainId,
      breaker: record.breaker,
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
      note: `Lifted by governance through the timelock ${address} (operation ${operationId}).`,
    });
  } finally {
    await alerts?.close();
    await ctx.close();
  }
}

export function register(program: Command): void {
  const governance = program.command("governance").description("the governors' decisions on an incident: write their payloads, schedule them through the timelock, execute them");

  governance
    .command("propose")
    .description("write the payloads of a decision (timelock calldata, Governor proposal, Safe batches); with governance.signer, also schedule it")
    .argument("<decision>", GOVERNANCE_DECISIONS.join(" | "))
    .requiredOption("--incident <id>", "incident id, or a unique prefix of it")
    .addOption(configOption("guardian YAML config"))
    .option("--out <dir>", "folder for the payload files (default: governance.payloads, or <policy.incidentReports>/governance)")
    .option("--no-schedule", "only write the files, even with a governance key configured")
    .option("--until <time>", "ratify: the new expiry (ISO-8601 or unix seconds; default governance.ratifyForSeconds after it can execute)")
    .option("--token <address>", "recover: the token to sweep (default: the vault's asset)")
    .option("--amount <units>", "recover: base units to sweep (default: the vault's whole balance of the asset)")
    .option("--previous-guardian <address>", "rotate-guardian: the guardian to replace (default: the one that tripped)")
    .option("--new-guardian <address>", "rotate-guardian: the replacement (default: governance.standbyGuardian)")
    .action((decision: string, o: DecisionFlags & { config: string; incident: string; out?: string; schedule: boolean }) => propose(decisionArg(decision, "<decision>"), o));

  governance
    .command("execute")
    .description("execute a scheduled decision through the timelock once its delay has passed (needs governance.signer)")
    .requiredOption("--incident <id>", "incident id, or a unique prefix of it")
    .requiredOption("--action <decision>", GOVERNANCE_DECISIONS.join(" | "))
    .addOption(configOption("guardian YAML config"))
    .option("--payload <file>", "the <decision>.payload.json to execute (default: what propose scheduled)")
    .action((o: { config: string; incident: string; action: string; payload?: string }) => execute(o));
  for (const sub of governance.commands) usageErrorsExit2(sub);
}
