import { id as keccakText } from "ethers";
import type { InvariantHook, InvariantViolation } from "../../../../guardian/detectors/invariant";

const TRANSFER = keccakText("Transfer(address,address,uint256)");
const ZERO_TOPIC = `0x${"0".repeat(64)}`;
const LIMIT = 100n * 10n ** 18n;

/** A custom invariant as an operator would write one: no single mint above 100 tokens. */
const largeMints: InvariantHook = (ctx) => {
  const violations: InvariantViolation[] = [];
  for (const tx of ctx.transactions) {
    for (const log of tx.logs) {
      if (log.topics[0] !== TRANSFER || log.topics[1] !== ZERO_TOPIC) continue;
      const amount = BigInt(log.data);
      if (amount <= LIMIT) continue;
      violations.push({
        subject: `mint:${tx.hash}:${log.logIndex}`,
        title: `Mint of ${amount} exceeds the ${LIMIT} limit`,
        contract: log.address,
        evidence: { token: log.address, to: `0x${log.topics[2].slice(26)}`, amount: amount.toString(), limit: LIMIT.toString() },
      });
    }
  }
  return violations;
};

export default largeMints;
