import { getAddress, isAddress, type Provider } from "ethers";
import { OperatorError } from "./OperatorError";

/**
 * Validates an address argument and checks that a contract lives there, so a typo or a wrong
 * network fails with the argument's name instead of as a confusing empty call result.
 */
export async function requireContract(provider: Provider, argument: string, value: string | undefined): Promise<string> {
  const address = requireAddress(argument, value);
  const code = await provider.getCode(address);
  if (code === "0x") {
    const { chainId } = await provider.getNetwork();
    throw new OperatorError(`${argument} ${address} has no contract code on chain ${chainId}`);
  }
  return address;
}

/** Parses an address argument; a mixed-case address must carry a valid EIP-55 checksum. */
export function requireAddress(argument: string, value: string | undefined): string {
  if (value === undefined || value === "") throw new OperatorError(`${argument} is required`);
  if (!isAddress(value)) throw new OperatorError(`${argument} is not an address (or its checksum is wrong): ${value}`);
  return getAddress(value);
}
