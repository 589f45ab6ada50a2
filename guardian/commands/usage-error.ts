/** A problem with the command line the user can fix: printed as one clear message, never with a stack trace. */
export class UsageError extends Error {
  override name = "UsageError";
}
