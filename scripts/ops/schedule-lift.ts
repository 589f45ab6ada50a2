import { Command } from "commander";
import { isHexString, ZeroAddress, ZeroHash } from "ethers";
import { CircuitBreaker__factory, TimelockedRecovery__factory } from "../../typechain-types";
import { connectRpc, DEFAULT_RPC_URL } from "./connect-rpc";
import { formatTime } from "./format-time";
import { loadSigner } from "./load-signer";
import { OperatorError } from "./OperatorError";
import { parseIncident } from "./parse-incident";
import { requireContract } from "./require-contract";
import { runOperatorScript } from "./run-operator-script";

/**
 * Schedules `breaker.lift(incident)` through the TimelockedRecovery with the governance key, or, with
 * --execute, executes that scheduled lift once its delay has passed. Everything the timelock would
 * only reject at execution time (wrong incident, no governor role, trip already over) is checked first.
 */
const program = new Command("schedule-lift")
  .description("Schedule (or, with --execute, execute) the lift of a tripped breaker through its timelock.")
  .requiredOption("--timelock <address>", "the TimelockedRecovery that governs the breaker")
  .requiredOption("--breaker <address>", "the tripped breaker (vault)")
  .option("--incident <id>", "the incident to lift (default: the breaker's current incident)")
  .option("--salt <bytes32>", "timelock operation salt, to schedule the same lift again", ZeroHash)
  .option("--execute", "execute the scheduled lift instead of scheduling it")
  .option("--rpc <url>", "JSON-RPC URL (default: $FAILSAFE_RPC_URL or http://127.0.0.1:8545)")
  .addHelpText(
    "after",
    "\nKey: FAILSAFE_GOVERNOR_KEY, or FAILSAFE_GOVERNOR_KEYSTORE (encrypted JSON) and FAILSAFE_GOVERNOR_KEYSTORE_PASSWORD." +
      "\nThe key must hold PROPOSER_ROLE on the timelock to schedule, EXECUTOR_ROLE to execute.",
  );

interface Options {
  timelock: string;
  breaker: string;
  incident?: string;
  salt: string;
  execute?: boolean;
  rpc?: string;
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  if (!isHexString(opts.salt, 32)) throw new OperatorError(`--salt must be 32 bytes of hex (0x + 64 digits), got ${opts.salt}`);
  const requestedIncident = opts.incident === undefined ? undefined : parseIncident("--incident", opts.incident);
  const provider = await connectRpc(opts.rpc ?? process.env.FAILSAFE_RPC_URL ?? DEFAULT_RPC_URL);
  const timelockAddress = await requireContract(provider, "--timelock", opts.timelock);
  const breakerAddress = await requireContract(provider, "--breaker", opts.breaker);
  const signer = await loadSigner("governor", provider);
  const governor = await signer.getAddress();
  const timelock = TimelockedRecovery__factory.connect(timelockAddress, signer);
  const breaker = CircuitBreaker__factory.connect(breakerAddress, provider);

  if (!(await breaker.hasRole(await breaker.GOVERNOR_ROLE(), timelockAddress).catch(() => false))) {
    throw new OperatorError(`--timelock ${timelockAddress} does not govern --breaker ${breakerAddress} (it lacks GOVERNOR_ROLE there)`);
  }
  const [currentIncident, , , expiresAt] = await breaker.incident();
  if (currentIncident === ZeroHash) throw new OperatorError(`--breaker ${breakerAddress} has never tripped: there is nothing to lift`);
  const incidentId = requestedIncident ?? currentIncident;
  if (incidentId !== currentIncident) {
    throw new OperatorError(`--incident ${incidentId} is not the breaker's current incident ${currentIncident}; a lift of it would revert`);
  }
  const data = breaker.interface.encodeFunctionData("lift", [incidentId]);
  const operationId = await timelock.hashOperation(breakerAddress, 0, data, ZeroHash, opts.salt);
  const now = (await provider.getBlock("latest"))!.timestamp;

  if (opts.execute) {
    const executorRole = await timelock.EXECUTOR_ROLE();
    const mayExecute = (await timelock.hasRole(executorRole, governor)) || (await timelock.hasRole(executorRole, ZeroAddress));
    if (!mayExecute) throw new OperatorError(`${governor} (the governor key) does not hold EXECUTOR_ROLE on ${timelockAddress}`);
    if (!(await timelock.isOperation(operationId))) {
      throw new OperatorError(`no lift of incident ${incidentId} is scheduled on ${timelockAddress} with salt ${opts.salt}`);
    }
    if (await timelock.isOperationDone(operationId)) throw new OperatorError(`operation ${operationId} was already executed`);
    if (!(await timelock.isOperationReady(operationId))) {
      const readyAt = await timelock.getTimestamp(operationId);
      throw new OperatorError(`operation ${operationId} is not ready: it can execute from ${formatTime(readyAt, now)}`);
    }
    const tx = await timelock.execute(breakerAddress, 0, data, ZeroHash, opts.salt);
    const receipt = await tx.wait();
    if (!receipt || receipt.status !== 1) throw new OperatorError(`the execute transaction ${tx.hash} failed`);
    const lifted = receipt.logs.some((log) => log.address === breakerAddress && breaker.interface.parseLog(log)?.name === "Lifted");
    console.log(lifted ? `lifted ${breakerAddress}` : `executed, but the trip had already ended: ${breakerAddress} was not tripped any more`);
    console.log(`  incident   ${incidentId}`);
    console.log(`  operation  ${operationId}`);
    console.log(`  tx         ${tx.hash} (block ${receipt.blockNumber})`);
    return;
  }

  if (!(await timelock.hasRole(await timelock.PROPOSER_ROLE(), governor))) {
    throw new OperatorError(`${governor} (the governor key) does not hold PROPOSER_ROLE on ${timelockAddress}`);
  }
  if (!(await breaker.isTripped())) {
    throw new OperatorError(`incident ${incidentId} is not active: its trip ended ${formatTime(expiresAt, now)}; there is nothing to lift`);
  }
  if (await timelock.isOperation(operationId)) {
    const readyAt = await timelock.getTimestamp(operationId);
    throw new OperatorError(
      `this lift is already scheduled as operation ${operationId} (ready ${formatTime(readyAt, now)}); ` +
        "run with --execute once it is ready, or pass another --salt",
    );
  }
  const tx = await timelock.scheduleLift(breakerAddress, incidentId, opts.salt);
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new OperatorError(`the schedule transaction ${tx.hash} failed`);
  const readyAt = await timelock.getTimestamp(operationId);
  const minedAt = (await provider.getBlock(receipt.blockNumber))!.timestamp;
  console.log(`scheduled the lift of ${breakerAddress}`);
  console.log(`  incident   ${incidentId}`);
  console.log(`  operation  ${operationId}`);
  console.log(`  ready      ${formatTime(readyAt, minedAt)}`);
  console.log(`  trip ends  ${formatTime(expiresAt, minedAt)}`);
  console.log(`  tx         ${tx.hash} (block ${receipt.blockNumber})`);
  if (readyAt >= expiresAt) console.log("note: the trip lapses on its own before this lift can execute");
  const salt = opts.salt === ZeroHash ? "" : ` --salt ${opts.salt}`;
  console.log(`execute it when ready: npx tsx scripts/ops/schedule-lift.ts --execute --timelock ${timelockAddress} --breaker ${breakerAddress}${salt}`);
}

runOperatorScript(main, [TimelockedRecovery__factory.createInterface(), CircuitBreaker__factory.createInterface()]);
