import { Command } from "commander";
import { CircuitBreaker__factory } from "../../typechain-types";
import { connectRpc, DEFAULT_RPC_URL } from "./connect-rpc";
import { formatTime } from "./format-time";
import { loadSigner } from "./load-signer";
import { OperatorError } from "./OperatorError";
import { parseIncident } from "./parse-incident";
import { requireContract } from "./require-contract";
import { runOperatorScript } from "./run-operator-script";

/**
 * Trips a circuit breaker with the guardian key. A breaker that is already tripped is left alone
 * (tripping is idempotent on chain too); the script then says which incident holds it and exits 0,
 * because the operator's goal, a paused contract, is met.
 */
const program = new Command("trip")
  .description("Trip a Failsafe circuit breaker (a PausableVault or any CircuitBreaker) with the guardian key.")
  .requiredOption("--breaker <address>", "the breaker (vault) to trip")
  .requiredOption("--incident <id>", "incident id: 0x + 64 hex digits, or a label that is hashed with keccak256")
  .option("--rpc <url>", "JSON-RPC URL (default: $FAILSAFE_RPC_URL or http://127.0.0.1:8545)")
  .addHelpText(
    "after",
    "\nKey: FAILSAFE_GUARDIAN_KEY, or FAILSAFE_GUARDIAN_KEYSTORE (encrypted JSON) and FAILSAFE_GUARDIAN_KEYSTORE_PASSWORD.",
  );

async function main(): Promise<void> {
  const opts = program.parse().opts<{ breaker: string; incident: string; rpc?: string }>();
  const incidentId = parseIncident("--incident", opts.incident);
  const provider = await connectRpc(opts.rpc ?? process.env.FAILSAFE_RPC_URL ?? DEFAULT_RPC_URL);
  const address = await requireContract(provider, "--breaker", opts.breaker);
  const signer = await loadSigner("guardian", provider);
  const guardian = await signer.getAddress();
  const breaker = CircuitBreaker__factory.connect(address, signer);

  if (!(await breaker.hasRole(await breaker.GUARDIAN_ROLE(), guardian))) {
    throw new OperatorError(`${guardian} (the guardian key) does not hold GUARDIAN_ROLE on ${address}`);
  }
  if (!(await breaker.trip.staticCall(incidentId))) {
    const [current, by, , expiresAt] = await breaker.incident();
    const now = (await provider.getBlock("latest"))!.timestamp;
    console.log(`already tripped: incident ${current} (by ${by}) holds ${address} until ${formatTime(expiresAt, now)}; nothing sent`);
    return;
  }

  const tx = await breaker.trip(incidentId);
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new OperatorError(`the trip transaction ${tx.hash} failed`);
  const tripped = receipt.logs
    .map((log) => breaker.interface.parseLog(log))
    .find((parsed) => parsed?.name === "Tripped");
  if (!tripped) {
    // Another guardian's trip landed first in the same block: ours became a no-op.
    const [current, by, , expiresAt] = await breaker.incident();
    const minedAt = (await provider.getBlock(receipt.blockNumber))!.timestamp;
    console.log(`already tripped by ${by} (incident ${current}) before this transaction landed; it holds until ${formatTime(expiresAt, minedAt)}`);
    return;
  }
  const block = await provider.getBlock(receipt.blockNumber);
  console.log(`tripped ${address}`);
  console.log(`  incident   ${incidentId}${opts.incident.startsWith("0x") ? "" : ` (keccak256 of "${opts.incident.trim()}")`}`);
  console.log(`  guardian   ${guardian}`);
  console.log(`  expires    ${formatTime(tripped.args.expiresAt, block!.timestamp)}`);
  console.log(`  tx         ${tx.hash} (block ${receipt.blockNumber})`);
}

runOperatorScript(main, [CircuitBreaker__factory.createInterface()]);
