/**
 * A failure the operator can act on (bad argument, missing key, wrong role, reverted call). Operator
 * scripts print its message alone and exit non-zero; anything else is a bug and keeps its stack.
 */
export class OperatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OperatorError";
  }
}
