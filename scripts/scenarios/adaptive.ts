import { FlashbotsBundleProvider } from "@flashbots/ethers-provider-bundle";
import { Wallet, parseEther, type ContractTransactionResponse } from "ethers";
import { anvilKey } from "../../guardian/ops/anvil";
import {
  AaveStylePool__factory,
  MockERC20__factory,
  OneShotPriceAttacker__factory,
  OneShotReadOnlyAttacker__factory,
  SharePool__factory,
  ShareCreditLender__factory,
  SpotPriceLender__factory,
  SpamTarget__factory,
  UniswapV2StylePair__factory,
} from "../../typechain-types";
import { CHAIN_ID, guardianConfig, waitUntil, type GuardianUnderTest, type Lab } from "./lab";
import { attack, bankContract, bankSetup, guardianKey, landed, result, settle, withLab, type Scenario, type ScenarioOptions, type ScenarioResult } from "./scenarios";

/**
 * The adaptive attacker's scenarios (issue 12): attacks built to beat the guardian's machinery rather than its
 * detectors. Each runs on anvil + the local relay with the real guardian, like scripts/scenarios/scenarios.ts.
 */

const TRIP_DURATION = 3600;
const ATTACKER = 9;
/** The attacker pays 30 gwei to be first, as in the pending-attack scenario. */
const ATTACKER_TIP = parseEther("0.00000003");

/** In guardian pacing, the slot ends once the trip for the pending attack waits at the relay. */
async function awaitPendingTrip(lab: Lab, guardian: GuardianUnderTest, options: ScenarioOptions): Promise<void> {
  if (options.pacing.mode !== "guardian") return;
  const next = (await lab.head()) + 1;
  await waitUntil("the guardian to send a trip for the pending attack", () => guardian.incidents().some((r) => r.status === "tripping") && lab.relay!.pool.pendingFor(next).length > 0, options.pacing.maxSlotMs).catch(() => undefined);
}

/** Mines the block the pending attack lands in and reports the outcome: funds are the lender's ether. */
async function finishPending(lab: Lab, guardian: GuardianUnderTest, options: ScenarioOptions, sent: ContractTransactionResponse, lender: string, fundsAtRisk: bigint, id: string, title: string): Promise<ScenarioResult> {
  await awaitPendingTrip(lab, guardian, options);
  await lab.mine();
  const attempt = await landed(lab, sent);
  const incidents = await settle(guardian);
  const trip = incidents.find((r) => r.status === "tripped");
  const block = await lab.provider.getBlock(attempt.block);
  const order = block ? block.transactions.map((h) => h.toLowerCase()) : [];
  const tripTx = trip?.trip?.txHash.toLowerCase();
  return result({
    id,
    title,
    asset: "ETH",
    fundsAtRisk,
    fundsSaved: await lab.provider.getBalance(lender),
    firstMaliciousBlock: attempt.block,
    trip,
    incidents,
    facts: {
      attempt,
      tripAheadOfAttack: tripTx !== undefined && order.includes(tripTx) && order.indexOf(tripTx) < order.indexOf(attempt.hash),
      pendingFindings: guardian.findings.filter((f) => f.txHash?.toLowerCase() === attempt.hash).map((f) => `${f.detectorId}:${f.severity}`),
      // The contract each pending finding is filed against: the lender, whose ether is at risk, for both attacks.
      pendingFindingContracts: guardian.findings.filter((f) => f.txHash?.toLowerCase() === attempt.hash).map((f) => f.contract?.toLowerCase()),
      lender,
      simulationBasis: guardian.mempool?.lastBasis,
    },
  });
}

/**
 * A one-shot read-only reentrancy sent to the public mempool: the attack contract runs once only, so simulated
 * on a state that already holds its own effects it reverts at its first line and shows nothing.
 */
export const oneShotReadOnlyReentrancy: Scenario = (options) => {
  const key = guardianKey(0);
  return withLab(options, [key.address], undefined, async (lab) => {
    const deployer = lab.account(0);
    const pool = await new SharePool__factory(deployer).deploy();
    await pool.waitForDeployment();
    const lender = await new ShareCreditLender__factory(deployer).deploy(await pool.getAddress(), lab.deployment.timelock, [key.address], TRIP_DURATION);
    await lender.waitForDeployment();
    for (const [i, eth] of [[5, "40"], [6, "30"], [7, "30"]] as const) await (await pool.connect(lab.account(i)).deposit({ value: parseEther(eth) })).wait();
    await (await deployer.sendTransaction({ to: await lender.getAddress(), value: parseEther("100") })).wait();
    const attacker = await new OneShotReadOnlyAttacker__factory(lab.account(ATTACKER)).deploy(await pool.getAddress(), await lender.getAddress());
    await attacker.waitForDeployment();
    const [poolAddress, lenderAddress] = [(await pool.getAddress()).toLowerCase(), (await lender.getAddress()).toLowerCase()];

    await lab.startRelay();
    const config = guardianConfig(lab, {
      name: "guardian",
      keyEnv: key.env,
      contracts: [
        // Re-entry through a view is what this pool's bug allows: treat it as critical here.
        { name: "pool", address: poolAddress, abi: "SharePool", detectors: { reentrancy: { readOnlySeverity: "critical" } } },
        { name: "lender", address: lenderAddress, abi: "ShareCreditLender" },
      ],
      policy: { breakers: [{ contract: "pool", breaker: lenderAddress, timelock: lab.deployment.timelock }] },
      startBlock: await lab.head(),
      mempool: true,
    });
    const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
    await lab.mine();

    const fundsAtRisk = await lab.provider.getBalance(lenderAddress);
    const sent = await attacker.attack({ value: parseEther("1000"), gasLimit: 1_000_000n, maxPriorityFeePerGas: ATTACKER_TIP, maxFeePerGas: ATTACKER_TIP * 4n });
    return finishPending(lab, guardian, options, sent, lenderAddress, fundsAtRisk, "one-shot-read-only", "One-shot read-only reentrancy in the mempool");
  });
};

/**
 * A one-shot flash-loan price manipulation sent to the public mempool: flash-borrow, pump the pair's spot price,
 * borrow the lender's ether against it, unwind, repay; the contract refuses to run twice.
 */
export const oneShotFlashLoan: Scenario = (options) => {
  const key = guardianKey(0);
  return withLab(options, [key.address], undefined, async (lab) => {
    const deployer = lab.account(0);
    const collateral = await new MockERC20__factory(deployer).deploy("Collateral", "COL", 18);
    const quote = await new MockERC20__factory(deployer).deploy("Quote", "QUO", 18);
    await Promise.all([collateral.waitForDeployment(), quote.waitForDeployment()]);
    const pair = await new UniswapV2StylePair__factory(deployer).deploy(await collateral.getAddress(), await quote.getAddress());
    const flash = await new AaveStylePool__factory(deployer).deploy();
    await Promise.all([pair.waitForDeployment(), flash.waitForDeployment()]);
    const lender = await new SpotPriceLender__factory(deployer).deploy(await collateral.getAddress(), await quote.getAddress(), await pair.getAddress(), lab.deployment.timelock, [key.address], TRIP_DURATION);
    await lender.waitForDeployment();
    // The pair at 1 quote per collateral, 1,000 of each; the flash lender holds 100,000 quote; the lender 100 ETH.
    await (await collateral.mint(await pair.getAddress(), parseEther("1000"))).wait();
    await (await quote.mint(await pair.getAddress(), parseEther("1000"))).wait();
    await (await pair.sync()).wait();
    await (await quote.mint(await flash.getAddress(), parseEther("100000"))).wait();
    await (await deployer.sendTransaction({ to: await lender.getAddress(), value: parseEther("100") })).wait();
    const attacker = await new OneShotPriceAttacker__factory(lab.account(ATTACKER)).deploy(await flash.getAddress(), await pair.getAddress(), await lender.getAddress(), await collateral.getAddress(), await quote.getAddress());
    await attacker.waitForDeployment();
    // The attacker's own money: 10 collateral to pledge and quote for the premium and swap fees.
    await (await collateral.mint(await attacker.getAddress(), parseEther("10"))).wait();
    await (await quote.mint(await attacker.getAddress(), parseEther("1000"))).wait();
    const lenderAddress = (await lender.getAddress()).toLowerCase();

    await lab.startRelay();
    const config = guardianConfig(lab, {
      name: "guardian",
      keyEnv: key.env,
      contracts: [{ name: "lender", address: lenderAddress, abi: "SpotPriceLender", detectors: { "flash-loan": { severity: "critical" } } }],
      policy: { breakers: [{ contract: "lender", timelock: lab.deployment.timelock }] },
      startBlock: await lab.head(),
      mempool: true,
    });
    const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
    await lab.mine();

    const fundsAtRisk = await lab.provider.getBalance(lenderAddress);
    const sent = await attacker.attack(parseEther("10000"), parseEther("10"), { gasLimit: 1_000_000n, maxPriorityFeePerGas: ATTACKER_TIP, maxFeePerGas: ATTACKER_TIP * 4n });
    return finishPending(lab, guardian, options, sent, lenderAddress, fundsAtRisk, "one-shot-flash-loan", "One-shot flash-loan price manipulation in the mempool");
  });
};

/** The attacker's follow-up bundles tip 600 gwei: 300x the trip's configured opening 2 gwei, as observed in issue 12. */
export const ATTACKER_BUNDLE_TIP = 600n * 10n ** 9n;

/**
 * A bidding attacker: the first reentrancy lands in a public block, then the attacker sends each following attack as
 * a private bundle to the relay, two attacks per block, tipping `ATTACKER_BUNDLE_TIP`. The relay orders bundles by
 * effective bid per gas, so the trip lands first in the block after detection only if its first bid beats that.
 * `bid: false` runs the guardian with the fixed starting fee and per-block bumps alone (the old behaviour).
 */
export function biddingAttacker(bid = true): Scenario {
  return (options) => {
    const key = guardianKey(0);
    return withLab(options, [key.address], undefined, async (lab) => {
      const { bank, attacker, address } = await bankSetup(lab, [key.address]);
      await lab.startRelay();
      const config = guardianConfig(lab, { name: "guardian", keyEnv: key.env, contracts: [bankContract("bank", address)], policy: { breakers: [{ contract: "bank", timelock: lab.deployment.timelock }] }, startBlock: await lab.head() }) as { responders: { trip: Record<string, unknown> } };
      if (bid) config.responders.trip.bid = {};
      const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
      await lab.mine();

      const fundsAtRisk = await lab.provider.getBalance(address);
      const gwei = 10n ** 9n;
      const first = await landed(lab, await attack(attacker, { maxPriorityFeePerGas: 2n * gwei, maxFeePerGas: 100n * gwei }).then(async (sent) => (await lab.mine(), sent)));
      const searcher = await FlashbotsBundleProvider.create(lab.provider, Wallet.createRandom(), lab.relay!.url, CHAIN_ID);
      const thief = new Wallet(anvilKey(ATTACKER), lab.provider);
      const data = attacker.interface.encodeFunctionData("attack", [5, 0]);
      const followUps: { block: number; landed: boolean }[] = [];
      for (let round = 0; round < 3; round++) {
        const target = (await lab.head()) + 1;
        const nonce = await lab.provider.getTransactionCount(thief.address, "latest");
        const txs = await Promise.all([0, 1].map((i) => thief.signTransaction({ type: 2, chainId: CHAIN_ID, to: attacker.target as string, data, value: parseEther("1"), nonce: nonce + i, gasLimit: 1_000_000n, maxPriorityFeePerGas: ATTACKER_BUNDLE_TIP, maxFeePerGas: ATTACKER_BUNDLE_TIP + 100n * gwei })));
        await searcher.sendRawBundle(txs, target);
        if (options.pacing.mode === "guardian" && round === 0) {
          // The pacing's readiness check counts bundles for the next block; the attacker's is one, the trip's the other.
          await waitUntil("the trip's bundle next to the attacker's", () => lab.relay!.pool.pendingFor(target).length >= 2, options.pacing.maxSlotMs).catch(() => undefined);
        }
        await lab.mine();
        followUps.push({ block: target, landed: (await lab.provider.getTransactionCount(thief.address, "latest")) > nonce });
      }
      lab.account(ATTACKER).reset();
      const incidents = await settle(guardian);
      const trip = incidents.find((r) => r.status === "tripped");
      const tripBlock = trip?.trip?.blockNumber !== undefined ? await lab.provider.getBlock(trip.trip.blockNumber) : null;
      return result({
        id: bid ? "bidding-attacker" : "bidding-attacker-fixed-fee",
        title: "Follow-up attacks as bundles tipping 600 gwei",
        asset: "ETH",
        fundsAtRisk,
        fundsSaved: await lab.provider.getBalance(address),
        firstMaliciousBlock: first.block,
        trip,
        incidents,
        facts: {
          first,
          followUps,
          tripped: await bank.isTripped(),
          tripFirstInBlock: tripBlock?.transactions[0]?.toLowerCase() === trip?.trip?.txHash.toLowerCase(),
          tripPriorityFeePerGas: trip?.timeline.find((e) => e.step === "sent")?.priorityFeePerGas,
          attackerPriorityFeePerGas: ATTACKER_BUNDLE_TIP.toString(),
        },
      });
    });
  };
}

/**
 * A block of spam before the attack: `count` calls that revert (`kind: "reverted"`) or cheap calls that succeed
 * (`"cheap"`), none touching a protected contract, then an empty block, then the reentrancy. The spam block costs
 * the guardian a trace per transaction; the attack must still be tripped within one block of its own.
 * `chainConfig` adjusts the guardian's chain config (a block deadline, another RPC URL).
 */
export function spamBlock(kind: "reverted" | "cheap", count: number, chainConfig: Record<string, unknown> | ((lab: Lab) => Promise<Record<string, unknown>>) = {}): Scenario {
  return (options) => {
    const key = guardianKey(0);
    return withLab(options, [key.address], undefined, async (lab) => {
      const { bank, attacker, address } = await bankSetup(lab, [key.address]);
      const target = await new SpamTarget__factory(lab.account(0)).deploy();
      await target.waitForDeployment();
      await lab.startRelay();
      const config = guardianConfig(lab, { name: "guardian", keyEnv: key.env, contracts: [bankContract("bank", address)], policy: { breakers: [{ contract: "bank", timelock: lab.deployment.timelock }] }, startBlock: await lab.head() }) as { chains: Record<string, unknown>[]; responders: { trip: Record<string, unknown> } };
      Object.assign(config.chains[0], typeof chainConfig === "function" ? await chainConfig(lab) : chainConfig);
      config.responders.trip.bid = {};
      const guardian = await lab.startGuardian("guardian", lab.writeConfig("guardian", config));
      await lab.mine();

      // Lag sampler: how far the guardian's commits trail the node's head, and which blocks were committed later
      // than the deadline after they appeared at the head.
      // The guardian's own default: half the block time, within [500, 6000] ms (2 s before any block time is seen).
      const derived = options.pacing.mode === "interval" ? Math.min(6_000, Math.max(500, options.pacing.blockTimeMs / 2)) : 2_000;
      const deadlineMs = Number((config.chains[0] as { blockDeadlineMs?: number }).blockDeadlineMs ?? derived);
      const seenAt = new Map<number, number>();
      let maxLagBlocks = 0;
      const missed = new Set<number>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const head = await lab.head().catch(() => undefined);
          const now = Date.now();
          if (head !== undefined) {
            if (!seenAt.has(head)) seenAt.set(head, now);
            const cursor = Math.max(0, ...guardian.committed.keys());
            maxLagBlocks = Math.max(maxLagBlocks, head - cursor);
            for (const [n, at] of seenAt) if (!guardian.committed.has(n) && now - at > deadlineMs + 250) missed.add(n);
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      })();

      const spammer = new Wallet(anvilKey(8), lab.provider);
      const gwei = 10n ** 9n;
      let nonce = await lab.provider.getTransactionCount(spammer.address, "latest");
      const data = kind === "reverted" ? target.interface.encodeFunctionData("fail", [7]) : target.interface.encodeFunctionData("ping");
      const raws: string[] = [];
      for (let i = 0; i < count; i++) {
        raws.push(await spammer.signTransaction({ type: 2, chainId: CHAIN_ID, to: target.target as string, data, nonce: nonce++, gasLimit: 25_000n, maxPriorityFeePerGas: gwei, maxFeePerGas: 200n * gwei }));
      }
      for (let i = 0; i < raws.length; i += 100) await Promise.all(raws.slice(i, i + 100).map((raw) => lab.provider.send("eth_sendRawTransaction", [raw])));
      const spam = await lab.mine();
      const spamTxs = (await lab.provider.getBlock(spam))?.transactions.length ?? 0;
      await lab.mine();

      const fundsAtRisk = await lab.provider.getBalance(address);
      const sent = await attack(attacker);
      await lab.mine();
      const first = await landed(lab, sent);
      const later: { block: number; ok: boolean }[] = [];
      for (let i = 0; i < 3; i++) {
        const again = await attack(attacker);
        await lab.mine();
        later.push(await landed(lab, again));
      }
      const incidents = await settle(guardian);
      sampling = false;
      await sampler;
      const degraded = guardian.findings.filter((f) => f.detectorId === "degraded-block");
      return result({
        id: `spam-${kind}`,
        title: `${count} ${kind === "reverted" ? "reverted" : "cheap successful"} calls in the block before the attack`,
        asset: "ETH",
        fundsAtRisk,
        fundsSaved: await lab.provider.getBalance(address),
        firstMaliciousBlock: first.block,
        trip: incidents.find((r) => r.status === "tripped"),
        incidents,
        facts: {
          spamBlock: spam,
          spamTxs,
          spamCommitted: guardian.committed.has(spam),
          maxLagBlocks,
          deadlineMs,
          deadlineMissedBlocks: [...missed].sort((a, b) => a - b),
          degradedFindings: degraded.map((f) => ({ block: f.blockNumber, evidence: f.evidence })),
          first,
          later,
          tripped: await bank.isTripped(),
        },
      });
    });
  };
}
