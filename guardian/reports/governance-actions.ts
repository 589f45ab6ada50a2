import { ZeroHash } from "ethers";
import { CircuitBreaker__factory, TimelockedRecovery__factory } from "../../typechain-types";

/** One call governance can make about an incident: what it does and the exact transactions for it. */
export interface GovernanceAction {
  action: "lift" | "ratify";
  description: string;
  /** The call the timelock finally executes on the breaker. */
  call: { target: string; function: string; calldata: string };
  /** How to get it through the breaker's TimelockedRecovery; absent when no timelock is configured. */
  timelock?: {
    address: string;
    /** The timelock's minimum delay, in seconds, between scheduling and executing. */
    minDelaySeconds: number;
    salt: string;
    schedule: { target: string; function: string; calldata: string };
    execute: { target: string; function: string; calldata: string };
  };
}

export interface GovernanceInput {
  breaker: string;
  /** The breaker's current incident (the one a lift or ratification must name). */
  incidentId: string;
  /** When the trip lapses on its own, unix seconds. */
  expiresAt: number;
  timelock?: { address: string; minDelaySeconds: number };
  /** Ratification proposes this much time after the earliest execution; the contract caps it at 30 days. */
  ratifyForSeconds?: number;
}

const breakerInterface = CircuitBreaker__factory.createInterface();
const timelockInterface = TimelockedRecovery__factory.createInterface();
const MAX_RATIFIED_DURATION = 30 * 24 * 3600;

/**
 * The two governance answers to a trip: lift it (a false alarm), or ratify it (extend the pause while the
 * incident is handled). Both name the incident, so a decision scheduled for this incident can never lift
 * or extend a later one. Salts are the incident id, so scheduling twice is refused by the timelock.
 */
export function governanceActions(input: GovernanceInput, nowSeconds = Math.floor(Date.now() / 1000)): GovernanceAction[] {
  const delay = input.timelock?.minDelaySeconds ?? 0;
  const ratifyFor = Math.min(input.ratifyForSeconds ?? 7 * 24 * 3600, MAX_RATIFIED_DURATION);
  // The ratification executes no earlier than now + delay, and must then lie within 30 days of that moment.
  const ratifyUntil = nowSeconds + delay + ratifyFor;
  const salt = input.incidentId;

  const lift = {
    target: input.breaker,
    function: "lift(bytes32)",
    calldata: breakerInterface.encodeFunctionData("lift", [input.incidentId]),
  };
  const ratify = {
    target: input.breaker,
    function: "ratify(bytes32,uint64)",
    calldata: breakerInterface.encodeFunctionData("ratify", [input.incidentId, ratifyUntil]),
  };
  const viaTimelock = (call: { target: string; calldata: string }, schedule: { function: string; calldata: string }) =>
    input.timelock
      ? {
          address: input.timelock.address,
          minDelaySeconds: delay,
          salt,
          schedule: { target: input.timelock.address, ...schedule },
          execute: {
            target: input.timelock.address,
            function: "execute(address,uint256,bytes,bytes32,bytes32)",
            calldata: timelockInterface.encodeFunctionData("execute", [call.target, 0n, call.calldata, ZeroHash, salt]),
          },
        }
      : undefined;

  const tripLapses = new Date(input.expiresAt * 1000).toISOString();
  return [
    {
      action: "lift",
      description: `False alarm: end the trip of incident ${input.incidentId} now (it lapses on its own at ${tripLapses}).`,
      call: lift,
      timelock: viaTimelock(lift, {
        function: "scheduleLift(address,bytes32,bytes32)",
        calldata: timelockInterface.encodeFunctionData("scheduleLift", [input.breaker, input.incidentId, salt]),
      }),
    },
    {
      action: "ratify",
      description: `Confirmed incident: keep the breaker tripped until ${new Date(ratifyUntil * 1000).toISOString()} instead of ${tripLapses}.`,
      call: ratify,
      timelock: viaTimelock(ratify, {
        function: "scheduleRatify(address,bytes32,uint64,bytes32)",
        calldata: timelockInterface.encodeFunctionData("scheduleRatify", [input.breaker, input.incidentId, ratifyUntil, salt]),
      }),
    },
  ].map((a) => (a.timelock ? a : { action: a.action, description: a.description, call: a.call })) as GovernanceAction[];
}
