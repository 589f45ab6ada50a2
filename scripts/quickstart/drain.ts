import { Command } from "commander";
import { NonceManager, Wallet, formatUnits, getAddress, parseUnits } from "ethers";
import { anvilKey } from "../../guardian/ops/anvil";
import { MockERC20__factory, PausableVault__factory } from "../../typechain-types";
import { DEFAULT_RPC_URL, connectRpc } from "../ops/connect-rpc";
import { runOperatorScript } from "../ops/run-operator-script";
import { OperatorError } from "../ops/OperatorError";

/**
 * The security-team quickstart's "attack" on the local deployment (anvil only: it signs with anvil's public dev
 * keys). The treasury (the account the deploy minted the asset to, dev account 4) deposits into the vault and, as a
 * compromised front end would, leaves a share allowance to an attacker (dev account 9), who then withdraws a share
 * of the vault's holdings in one transaction: within the vault's own instant limit, so it is paid, and far above
 * what the example config's outflow detector tolerates, so the guardian reports it.
 *
 *   npx tsx scripts/quickstart/drain.ts --vault <address> [--deposit 100000] [--withdraw 9000] [--rpc URL]
 */
runOperatorScript(async () => {
  const argv = process.argv;
  const opts = new Command()
    .requiredOption("--vault <address>", "the PausableVault deployed by deploy/modules/FailsafeLocal.ts")
    .option("--deposit <amount>", "what the treasury deposits, in whole tokens", "100000")
    .option("--withdraw <amount>", "what the attacker withdraws with the stolen allowance, in whole tokens", "9000")
    .option("--rpc <url>", "the node", process.env.FAILSAFE_RPC_URL ?? DEFAULT_RPC_URL)
    .parse(argv)
    .opts<{ vault: string; deposit: string; withdraw: string; rpc: string }>();
  const provider = await connectRpc(opts.rpc);
  const { chainId } = await provider.getNetwork();
  if (chainId !== 31337n) throw new OperatorError(`this script signs with anvil's public dev keys; chain ${chainId} is not a local anvil`);
  // NonceManager: back-to-back transactions would otherwise read the same cached nonce.
  const treasury = new NonceManager(new Wallet(anvilKey(4), provider));
  const attacker = new NonceManager(new Wallet(anvilKey(9), provider));
  const [treasuryAddress, attackerAddress] = await Promise.all([treasury.getAddress(), attacker.getAddress()]);
  const vault = PausableVault__factory.connect(getAddress(opts.vault), treasury);
  const asset = MockERC20__factory.connect(await vault.asset(), treasury);
  const [decimals, symbol] = await Promise.all([asset.decimals(), asset.symbol()]);
  const deposit = parseUnits(opts.deposit, decimals);
  const withdraw = parseUnits(opts.withdraw, decimals);

  await (await asset.approve(vault, deposit)).wait();
  await (await vault.deposit(deposit, treasuryAddress)).wait();
  await (await vault.approve(attackerAddress, await vault.previewWithdraw(withdraw))).wait();
  const receipt = await (await vault.connect(attacker).withdraw(withdraw, attackerAddress, treasuryAddress)).wait();
  const held = await vault.totalAssets();
  console.log(`treasury deposited ${formatUnits(deposit, decimals)} ${symbol}`);
  console.log(`attacker withdrew ${formatUnits(withdraw, decimals)} ${symbol} in block ${receipt!.blockNumber} with the treasury's allowance`);
  console.log(`vault now holds ${formatUnits(held, decimals)} ${symbol}`);
}, [PausableVault__factory.createInterface()]);
