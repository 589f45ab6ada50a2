import { getAddress, type Provider } from "ethers";
import { CircuitBreaker__factory, IPausableVault__factory } from "../../typechain-types";

const OUTFLOW_ACTIONS = ["revert", "delay"] as const;

export interface AssetLimitStatus {
  asset: string;
  bps: number;
  windowSeconds: number;
  action: (typeof OUTFLOW_ACTIONS)[number];
  holdings: bigint;
  /** The floor instant outflows may not take the holdings below (0 without a limit). */
  floor: bigint;
  available: bigint;
}

export interface BreakerStatus {
  breaker: string;
  chainId: bigint;
  blockNumber: number;
  now: number;
  tripped: boolean;
  incident: { id: string; guardian: string; trippedAt: number; expiresAt: number } | null;
  tripDurationSeconds: number;
  guardians: string[];
  governors: string[];
  limits: AssetLimitStatus[];
  vault: { asset: string; totalAssets: bigint; recovery: string; claimDelaySeconds: number; nextClaimId: bigint } | null;
}

/**
 * Everything an operator asks during an incident, read at one block. Role holders are rebuilt from
 * RoleGranted/RoleRevoked events because the breaker's AccessControl is not enumerable (it saves gas
 * on every grant); `fromBlock` should be the deployment block on chains with a long history.
 */
export async function readBreakerStatus(provider: Provider, address: string, fromBlock = 0): Promise<BreakerStatus> {
  const block = (await provider.getBlock("latest"))!;
  const blockTag = block.number;
  const breaker = CircuitBreaker__factory.connect(address, provider);
  const [tripped, [incidentId, guardian, trippedAt, expiresAt], tripDuration, guardianRole, governorRole, { chainId }] =
    await Promise.all([
      breaker.isTripped({ blockTag }),
      breaker.incident({ blockTag }),
      breaker.tripDuration({ blockTag }),
      breaker.GUARDIAN_ROLE(),
      breaker.GOVERNOR_ROLE(),
      provider.getNetwork(),
    ]);

  const roleHolders = async (role: string): Promise<string[]> => {
    const [granted, revoked] = await Promise.all([
      breaker.queryFilter(breaker.filters.RoleGranted(role), fromBlock, blockTag),
      breaker.queryFilter(breaker.filters.RoleRevoked(role), fromBlock, blockTag),
    ]);
    const candidates = new Set([...granted, ...revoked].map((e) => getAddress(e.args.account)));
    const holders: string[] = [];
    for (const account of candidates) if (await breaker.hasRole(role, account, { blockTag })) holders.push(account);
    return holders.sort();
  };

  let vault: BreakerStatus["vault"] = null;
  const asVault = IPausableVault__factory.connect(address, provider);
  // Any CircuitBreaker consumer can be inspected; only a PausableVault answers recoveryAddress().
  const recovery = await asVault.recoveryAddress({ blockTag }).catch(() => null);
  const limitedAssets = new Set(
    (await breaker.queryFilter(breaker.filters.OutflowLimitSet(), fromBlock, blockTag)).map((e) => getAddress(e.args.asset)),
  );
  if (recovery !== null) {
    const [asset, totalAssets, claimDelay, nextClaimId] = await Promise.all([
      asVault.asset({ blockTag }),
      asVault.totalAssets({ blockTag }),
      asVault.claimDelay({ blockTag }),
      asVault.nextRequestId({ blockTag }),
    ]);
    vault = { asset, totalAssets, recovery, claimDelaySeconds: Number(claimDelay), nextClaimId };
    limitedAssets.add(getAddress(asset));
  }

  const limits: AssetLimitStatus[] = [];
  for (const asset of limitedAssets) {
    const [[bps, window, action], [holdings, floor, available]] = await Promise.all([
      breaker.outflowLimit(asset, { blockTag }),
      breaker.outflowState(asset, { blockTag }),
    ]);
    limits.push({
      asset,
      bps: Number(bps),
      windowSeconds: Number(window),
      action: OUTFLOW_ACTIONS[Number(action)]!,
      holdings,
      floor,
      available,
    });
  }

  return {
    breaker: getAddress(address),
    chainId,
    blockNumber: block.number,
    now: block.timestamp,
    tripped,
    incident:
      BigInt(incidentId) === 0n
        ? null
        : { id: incidentId, guardian, trippedAt: Number(trippedAt), expiresAt: Number(expiresAt) },
    tripDurationSeconds: Number(tripDuration),
    guardians: await roleHolders(guardianRole),
    governors: await roleHolders(governorRole),
    limits,
    vault,
  };
}
