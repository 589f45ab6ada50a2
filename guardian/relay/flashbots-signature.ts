import { getAddress, id, isAddress, verifyMessage } from "ethers";

/** Why a request's `X-Flashbots-Signature` was refused; the relay answers HTTP 403 with this message. */
export class FlashbotsSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlashbotsSignatureError";
  }
}

/**
 * Checks an `X-Flashbots-Signature: <address>:<signature>` header against the raw request body and
 * returns the checksummed signer. The signature is EIP-191 `personal_sign` over the *text* of
 * `keccak256(body)` as a 0x-prefixed hex string, which is what @flashbots/ethers-provider-bundle sends
 * (`authSigner.signMessage(id(body))`) and what the Flashbots relay verifies. Any other body byte, address
 * or signature is refused, so a replayed header cannot authorise a different request.
 */
export function verifyFlashbotsSignature(header: string | undefined, rawBody: string): string {
  if (!header) throw new FlashbotsSignatureError("missing X-Flashbots-Signature header");
  const separator = header.indexOf(":");
  if (separator < 0) throw new FlashbotsSignatureError("X-Flashbots-Signature must be <address>:<signature>");
  const claimed = header.slice(0, separator).trim();
  const signature = header.slice(separator + 1).trim();
  if (!isAddress(claimed)) throw new FlashbotsSignatureError(`X-Flashbots-Signature address ${JSON.stringify(claimed)} is not an address`);
  let recovered: string;
  try {
    recovered = verifyMessage(id(rawBody), signature);
  } catch {
    throw new FlashbotsSignatureError("X-Flashbots-Signature signature is not a valid ECDSA signature");
  }
  if (recovered.toLowerCase() !== claimed.toLowerCase()) {
    throw new FlashbotsSignatureError(`X-Flashbots-Signature was not signed by ${getAddress(claimed)} over this body`);
  }
  return getAddress(claimed);
}
