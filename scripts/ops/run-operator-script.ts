import { isError, type Interface } from "ethers";
import { OperatorError } from "./OperatorError";

/**
 * Runs an operator one-shot: a failure prints one `error: ...` line on stderr and exits 1, never a
 * stack trace (FAILSAFE_DEBUG=1 adds it back for bug reports). Reverts are decoded with the given
 * contract interfaces, so the custom error and its values are shown by name.
 */
export function runOperatorScript(main: () => Promise<void>, interfaces: Interface[] = []): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`error: ${describeError(err, interfaces)}\n`);
      if (process.env.FAILSAFE_DEBUG === "1" && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    },
  );
}

export function describeError(err: unknown, interfaces: Interface[]): string {
  if (err instanceof OperatorError) return err.message;
  if (isError(err, "CALL_EXCEPTION")) {
    const decoded = err.data ? decodeRevert(err.data, interfaces) : undefined;
    if (decoded) return `the call reverted with ${decoded}`;
    if (err.revert) return `the call reverted with ${err.revert.signature}(${err.revert.args.join(", ")})`;
    return `the call reverted${err.reason ? `: ${err.reason}` : " without a reason"}`;
  }
  if (isError(err, "INSUFFICIENT_FUNDS")) return "the sender cannot pay for gas (insufficient funds)";
  if (err instanceof Error) return err.message.split("\n")[0]!;
  return String(err);
}

function decodeRevert(data: string, interfaces: Interface[]): string | undefined {
  for (const iface of interfaces) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
    } catch {
      // Not this interface's error; try the next.
    }
  }
  return undefined;
}
