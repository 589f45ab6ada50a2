import { Command } from "commander";
import { formatUnits } from "ethers";
import { CircuitBreaker__factory, IERC20Metadata__factory } from "../../typechain-types";
import { connectRpc, DEFAULT_RPC_URL } from "./connect-rpc";
import { formatDuration, formatTime } from "./format-time";
import { OperatorError } from "./OperatorError";
import { readBreakerStatus, type BreakerStatus } from "./read-breaker-status";
import { requireContract } from "./require-contract";
import { runOperatorScript } from "./run-operator-script";

const program = new Command("status")
  .description("Show a Failsafe breaker's state: tripped?, expiry, incident, outflow limits, guardians, governance.")
  .requiredOption("--breaker <address>", "the breaker (vault) to inspect")
  .option("--from-block <number>", "first block to scan for role and limit events (the deployment block)", "0")
  .option("--json", "print one JSON object instead of the table")
  .option("--rpc <url>", "JSON-RPC URL (default: $FAILSAFE_RPC_URL or http://127.0.0.1:8545)");

async function main(): Promise<void> {
  const opts = program.parse().opts<{ breaker: string; fromBlock: string; json?: boolean; rpc?: string }>();
  if (!/^\d+$/.test(opts.fromBlock)) throw new OperatorError(`--from-block must be a block number, got ${opts.fromBlock}`);
  const provider = await connectRpc(opts.rpc ?? process.env.FAILSAFE_RPC_URL ?? DEFAULT_RPC_URL);
  const address = await requireContract(provider, "--breaker", opts.breaker);
  const isBreaker = await CircuitBreaker__factory.connect(address, provider).GUARDIAN_ROLE().then(
    () => true,
    () => false,
  );
  if (!isBreaker) throw new OperatorError(`--breaker ${address} is not a Failsafe circuit breaker (it has no GUARDIAN_ROLE())`);
  const status = await readBreakerStatus(provider, address, Number(opts.fromBlock));

  if (opts.json) {
    console.log(JSON.stringify(status, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)));
    return;
  }
  const decimals = new Map<string, number>();
  for (const { asset } of status.limits) {
    decimals.set(asset, Number(await IERC20Metadata__factory.connect(asset, provider).decimals().catch(() => 0n)));
  }
  print(status, decimals);
}

function print(status: BreakerStatus, decimals: Map<string, number>): void {
  const rows: [string, string][] = [
    ["breaker", `${status.breaker} (chain ${status.chainId}, block ${status.blockNumber})`],
    ["state", status.tripped ? "TRIPPED" : "open"],
  ];
  if (status.incident) {
    const { id, guardian, trippedAt, expiresAt } = status.incident;
    rows.push(["incident", id]);
    rows.push(["  tripped", `${formatTime(trippedAt, status.now)} by ${guardian}`]);
    rows.push([status.tripped ? "  expires" : "  ended", formatTime(expiresAt, status.now)]);
  } else {
    rows.push(["incident", "none (never tripped)"]);
  }
  rows.push(["trip duration", `${status.tripDurationSeconds} s (${formatDuration(status.tripDurationSeconds)})`]);
  rows.push(["guardians", status.guardians.join(", ") || "none"]);
  rows.push(["governance", status.governors.join(", ") || "none"]);
  for (const limit of status.limits) {
    const unit = (amount: bigint) => formatUnits(amount, decimals.get(limit.asset) ?? 0);
    const rule = limit.bps === 0
      ? "no limit"
      : `${limit.bps / 100}% of holdings per ${formatDuration(limit.windowSeconds)}, over it: ${limit.action}`;
    rows.push(["outflow limit", `${limit.asset}: ${rule}`]);
    rows.push(["  holdings", unit(limit.holdings)]);
    rows.push(["  floor / available", `${unit(limit.floor)} / ${unit(limit.available)}`]);
  }
  if (status.vault) {
    rows.push(["vault asset", status.vault.asset]);
    rows.push(["recovery", status.vault.recovery]);
    rows.push(["claim delay", `${status.vault.claimDelaySeconds} s (${formatDuration(status.vault.claimDelaySeconds)})`]);
    rows.push(["redeem requests made", String(status.vault.nextClaimId - 1n)]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
}

runOperatorScript(main, [CircuitBreaker__factory.createInterface()]);
