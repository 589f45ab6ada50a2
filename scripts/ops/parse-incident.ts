import { id, isHexString, ZeroHash } from "ethers";
import { OperatorError } from "./OperatorError";

/**
 * An incident id from the command line: a 0x-prefixed 32-byte hex id as the guardian reports it, or a
 * human label (e.g. "INC-2026-11-21-oracle") that is hashed with keccak256 so the same label always
 * names the same incident.
 */
export function parseIncident(argument: string, value: string | undefined): string {
  if (value === undefined || value.trim() === "") throw new OperatorError(`${argument} is required`);
  const trimmed = value.trim();
  if (trimmed.startsWith("0x")) {
    if (!isHexString(trimmed, 32)) throw new OperatorError(`${argument} must be 32 bytes of hex (0x + 64 digits) or a label, got ${trimmed}`);
    if (trimmed === ZeroHash) throw new OperatorError(`${argument} cannot be zero: the breaker reserves it for "no incident"`);
    return trimmed.toLowerCase();
  }
  return id(trimmed);
}
