import { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import { Wallet, type JsonRpcProvider } from "ethers";
import { BreakerConsumer__factory, type BreakerConsumer } from "../../../typechain-types";
import { anvilKey } from "../../../guardian/ops/anvil";

/** A pino logger whose JSON lines are kept in memory, so tests can assert what was (not) logged. */
export function capturingLogger(level: pino.Level = "debug"): { logger: Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level }, stream), lines, text: () => lines.join("") };
}

/**
 * Deploys one BreakerConsumer per name with anvil account 0 as governance and the given guardians. Runs
 * while anvil still automines (before the relay takes over block production).
 */
export async function deployBreakers(provider: JsonRpcProvider, count: number, guardians: string[]): Promise<BreakerConsumer[]> {
  const deployer = new Wallet(anvilKey(0), provider);
  const factory = new BreakerConsumer__factory(deployer);
  let nonce = await provider.getTransactionCount(deployer.address);
  const deployed: BreakerConsumer[] = [];
  for (let i = 0; i < count; i++) {
    const c = await factory.deploy(deployer.address, guardians, { nonce: nonce++ });
    await c.waitForDeployment();
    deployed.push(c);
  }
  return deployed;
}
