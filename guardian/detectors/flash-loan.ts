import { Interface, id as keccakText, type EventFragment, type FunctionFragment, type LogDescription, type Result } from "ethers";
import { z } from "zod";
import type { BlockContext, LogEntry, TxContext } from "../context/types";
import { selectorOf, frameVisits, type FrameVisit } from "./call-tree";
import { makeFinding } from "./finding";
import { contractsParam, selectContracts, severitySchema } from "./params";
import type { Detector, DetectorDefinition, Finding } from "./types";

const ID = "flash-loan";

export const FLASH_LOAN_PROTOCOLS = ["aave", "balancer", "uniswap-v2", "uniswap-v3", "erc3156"] as const;
export type FlashLoanProtocol = (typeof FLASH_LOAN_PROTOCOLS)[number];

/**
 * A lender entry point and the callback it makes into the borrower. Seeing both, with the callback coming
 * from the lender, is what separates a flash loan from a mere selector collision.
 */
interface LoanEntry {
  protocol: FlashLoanProtocol;
  fn: string;
  callback: string;
  /** The loaned tokens and amounts from the decoded call, where the call names them. */
  assets(args: Result): { token?: string; amount: bigint }[];
}

const ENTRIES: LoanEntry[] = [
  {
    protocol: "aave",
    fn: "flashLoan(address receiverAddress, address[] assets, uint256[] amounts, uint256[] interestRateModes, address onBehalfOf, bytes params, uint16 referralCode)",
    callback: "executeOperation(address[],uint256[],uint256[],address,bytes)",
    assets: (a) => (a.assets as string[]).map((token, i) => ({ token, amount: (a.amounts as bigint[])[i] })),
  },
  {
    protocol: "aave",
    fn: "flashLoanSimple(address receiverAddress, address asset, uint256 amount, bytes params, uint16 referralCode)",
    callback: "executeOperation(address,uint256,uint256,address,bytes)",
    assets: (a) => [{ token: a.asset as string, amount: a.amount as bigint }],
  },
  {
    protocol: "balancer",
    fn: "flashLoan(address recipient, address[] tokens, uint256[] amounts, bytes userData)",
    callback: "receiveFlashLoan(address[],uint256[],uint256[],bytes)",
    assets: (a) => (a.tokens as string[]).map((token, i) => ({ token, amount: (a.amounts as bigint[])[i] })),
  },
  {
    protocol: "uniswap-v2",
    fn: "swap(uint256 amount0Out, uint256 amount1Out, address to, bytes data)",
    callback: "uniswapV2Call(address,uint256,uint256,bytes)",
    assets: (a) => [{ amount: a.amount0Out as bigint }, { amount: a.amount1Out as bigint }].filter((x) => x.amount > 0n),
  },
  {
    protocol: "uniswap-v3",
    fn: "flash(address recipient, uint256 amount0, uint256 amount1, bytes data)",
    callback: "uniswapV3FlashCallback(uint256,uint256,bytes)",
    assets: (a) => [{ amount: a.amount0 as bigint }, { amount: a.amount1 as bigint }].filter((x) => x.amount > 0n),
  },
  {
    protocol: "erc3156",
    fn: "flashLoan(address receiver, address token, uint256 amount, bytes data)",
    callback: "onFlashLoan(address,address,uint256,uint256,bytes)",
    assets: (a) => [{ token: a.token as string, amount: a.amount as bigint }],
  },
];

/** Lender events, for loans seen in logs (and to confirm those seen in traces). */
const EVENTS: { protocol: FlashLoanProtocol; event: string; assets(args: Result): { token?: string; amount: bigint }[] }[] = [
  {
    protocol: "aave",
    event: "event FlashLoan(address indexed target, address initiator, address indexed asset, uint256 amount, uint8 interestRateMode, uint256 premium, uint16 indexed referralCode)",
    assets: (a) => [{ token: a.asset as string, amount: a.amount as bigint }],
  },
  {
    protocol: "aave",
    event: "event FlashLoan(address indexed target, address indexed initiator, address indexed asset, uint256 amount, uint256 premium, uint16 referralCode)",
    assets: (a) => [{ token: a.asset as string, amount: a.amount as bigint }],
  },
  {
    protocol: "balancer",
    event: "event FlashLoan(address indexed recipient, address indexed token, uint256 amount, uint256 feeAmount)",
    assets: (a) => [{ token: a.token as string, amount: a.amount as bigint }],
  },
  {
    protocol: "uniswap-v3",
    event: "event Flash(address indexed sender, address indexed recipient, uint256 amount0, uint256 amount1, uint256 paid0, uint256 paid1)",
    assets: (a) => [{ amount: a.amount0 as bigint }, { amount: a.amount1 as bigint }].filter((x) => x.amount > 0n),
  },
];

const entries = ENTRIES.map((e) => {
  const iface = new Interface([`function ${e.fn}`]);
  const fragment = iface.fragments[0] as FunctionFragment;
  return {
    ...e,
    iface,
    fragment,
    signature: fragment.format("sighash"),
    selector: fragment.selector.toLowerCase(),
    callbackSelector: keccakText(e.callback).slice(0, 10),
  };
});
const entrySelectors = new Set(entries.map((e) => e.selector));
const events = EVENTS.map((e) => {
  const iface = new Interface([e.event]);
  return { ...e, iface, topic: (iface.fragments[0] as EventFragment).topicHash.toLowerCase() };
});

/** Most logs are no lender's event: one lookup by topic (LogEntry topics are lowercase) rules them out. */
const eventsByTopic = new Map<string, (typeof events)[number][]>();
for (const e of events) eventsByTopic.set(e.topic, [...(eventsByTopic.get(e.topic) ?? []), e]);

export interface FlashLoan {
  protocol: FlashLoanProtocol;
  lender: string;
  borrower?: string;
  source: "trace" | "log" | "trace+log";
  entrypoint?: string;
  callback?: string;
  depth?: number;
  assets: { token?: string; amount: bigint }[];
  /** The loan's frame failed (so nothing was borrowed for good). */
  reverted: boolean;
  /** A protected contract was called from inside the borrower's callback, i.e. while the loan was out. */
  protectedInsideCallback: string[];
  logIndex?: number;
}

function decodeAssets(fn: (typeof entries)[number], input: string): { token?: string; amount: bigint }[] {
  try {
    const args = fn.iface.decodeFunctionData(fn.fragment, input);
    return fn.assets(args).map((x) => ({ ...(x.token ? { token: x.token.toLowerCase() } : {}), amount: x.amount }));
  } catch {
    return [];
  }
}

function loansFromTrace(tx: TxContext, enabled: ReadonlySet<FlashLoanProtocol>, watched: ReadonlySet<string>): FlashLoan[] {
  if (!tx.trace) return [];
  // Most transactions borrow nothing: look for a lender entry point before keeping the whole tree.
  const visits = frameVisits(tx.trace);
  if (!visits.some((v) => entrySelectors.has(selectorOf(v.frame.input)))) return [];
  const within = (v: FrameVisit, outer: FrameVisit): boolean => v.ancestors.some((a) => a.frame === outer.frame);
  const loans: FlashLoan[] = [];
  for (const lend of visits) {
    const sel = selectorOf(lend.frame.input);
    for (const entry of entries) {
      if (entry.selector !== sel || !enabled.has(entry.protocol)) continue;
      const callback = visits.find(
        (v) => within(v, lend) && selectorOf(v.frame.input) === entry.callbackSelector && v.frame.from.toLowerCase() === lend.context,
      );
      if (!callback) continue;
      const inside = visits.filter((v) => (v === callback || within(v, callback)) && watched.has(v.context)).map((v) => v.context);
      loans.push({
        protocol: entry.protocol,
        lender: lend.context,
        borrower: callback.context,
        source: "trace",
        entrypoint: entry.signature,
        callback: entry.callback,
        depth: lend.depth,
        assets: decodeAssets(entry, lend.frame.input),
        reverted: lend.reverted,
        protectedInsideCallback: [...new Set(inside)],
      });
    }
  }
  return loans;
}

function loansFromLogs(logs: readonly LogEntry[], enabled: ReadonlySet<FlashLoanProtocol>): FlashLoan[] {
  const loans: FlashLoan[] = [];
  for (const log of logs) {
    const candidates = log.topics.length > 0 ? eventsByTopic.get(log.topics[0]) : undefined;
    if (!candidates) continue;
    for (const e of candidates) {
      if (!enabled.has(e.protocol)) continue;
      let parsed: LogDescription | null;
      try {
        parsed = e.iface.parseLog({ topics: log.topics, data: log.data });
      } catch {
        parsed = null; // same signature, different indexed fields: someone else's event
      }
      if (!parsed) continue;
      loans.push({
        protocol: e.protocol,
        lender: log.address.toLowerCase(),
        source: "log",
        assets: e.assets(parsed.args).map((x) => ({ ...(x.token ? { token: x.token.toLowerCase() } : {}), amount: x.amount })),
        reverted: false,
        protectedInsideCallback: [],
        logIndex: log.logIndex,
      });
      break;
    }
  }
  return loans;
}

const params = z
  .object({
    /** Names or addresses of the protected contracts to watch; all of them when omitted. */
    contracts: contractsParam,
    protocols: z.array(z.enum(FLASH_LOAN_PROTOCOLS)).min(1).default([...FLASH_LOAN_PROTOCOLS]),
    /** A protected contract was called while the loan was out. */
    severity: severitySchema.default("high"),
    /** The transaction took a flash loan and touched a protected contract, but not from inside the loan. */
    outsideSeverity: severitySchema.nullable().default("medium"),
  })
  .strict();

export type FlashLoanParams = z.infer<typeof params>;

export const flashLoanDetector: DetectorDefinition<FlashLoanParams> = {
  id: ID,
  description: "Transactions that borrow and repay a flash loan (Aave, Balancer, Uniswap V2/V3, ERC-3156) and touch a protected contract.",
  params,
  create(p, deps): Detector {
    const contracts = selectContracts(deps.contracts, p.contracts, ID);
    const watched = new Set(contracts.map((c) => c.address));
    const enabled = new Set(p.protocols);
    return {
      id: ID,
      async onBlock(ctx: BlockContext): Promise<Finding[]> {
        const findings: Finding[] = [];
        for (const tx of ctx.transactions) {
          const touched = tx.touched.filter((a) => watched.has(a));
          if (touched.length === 0) continue;
          const loans = loansFromTrace(tx, enabled, watched);
          for (const logged of loansFromLogs(tx.logs, enabled)) {
            const seen = loans.find((l) => l.lender === logged.lender && l.protocol === logged.protocol && l.source === "trace");
            if (seen) {
              seen.source = "trace+log";
              seen.logIndex = logged.logIndex;
            } else {
              loans.push(logged);
            }
          }
          if (loans.length === 0) continue;
          const inside = [...new Set(loans.flatMap((l) => l.protectedInsideCallback))];
          const severity = inside.length > 0 ? p.severity : p.outsideSeverity;
          if (severity === null) continue;
          const protocols = [...new Set(loans.map((l) => l.protocol))];
          findings.push(
            makeFinding({
              detectorId: ID,
              severity,
              title: `Flash loan (${protocols.join(", ")}) ${inside.length > 0 ? "used against" : "in a transaction touching"} ${touched.join(", ")}${tx.status === 0 ? " (reverted)" : ""}`,
              block: ctx,
              txHash: tx.hash,
              contract: inside[0] ?? touched[0],
              subject: "flash-loan",
              evidence: {
                txStatus: tx.status === 1 ? "success" : "reverted",
                from: tx.from,
                repaid: tx.status === 1 && loans.every((l) => !l.reverted),
                protocols,
                touched,
                protectedInsideCallback: inside,
                loans,
              },
            }),
          );
        }
        return findings;
      },
    };
  },
};
