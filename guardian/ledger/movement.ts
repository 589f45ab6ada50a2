import type { TokenStandard } from "./config";

/** The token key used for native ether in the store, beside token addresses. */
export const ETHER = "ether";
export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/**
 * Ether movements carry their sub-type: a transaction's own value (top-level), a value call inside it
 * (internal), value sent to a new contract (create), a selfdestruct's balance (selfdestruct), the fee
 * split into the burnt base fee, the priority fee (tip) and a blob fee, a fee recipient's tips
 * (coinbase), and beacon-chain withdrawals.
 */
export type EtherKind =
  | "ether:top-level"
  | "ether:internal"
  | "ether:create"
  | "ether:selfdestruct"
  | "fee:base"
  | "fee:tip"
  | "fee:blob"
  | "coinbase"
  | "withdrawal";
export type MovementKind = TokenStandard | EtherKind;

export const isFee = (kind: MovementKind) => kind.startsWith("fee:");

/**
 * One value movement, the unit every report and the audit export are built from. `ord` orders
 * movements inside a transaction: fee first, then call frames in trace order, then logs by index.
 */
export interface Movement {
  blockNumber: number;
  blockHash: string;
  txIndex: number;
  txHash: string;
  ord: number;
  kind: MovementKind;
  /** Token address (lowercase) or ETHER. */
  token: string;
  /** Decimal token id for ERC-721 and ERC-1155, "" otherwise. */
  tokenId: string;
  from: string;
  to: string;
  amount: bigint;
}

const ORD_STRIDE = 1_000_000;
export const ORD_FEE = 0;
export const ordOfFrame = (frameIndex: number) => 1 * ORD_STRIDE * ORD_STRIDE + frameIndex;
export const ordOfLog = (logIndex: number, batchPosition = 0) => 2 * ORD_STRIDE * ORD_STRIDE + logIndex * ORD_STRIDE + batchPosition;

/**
 * Which balance a movement changes: ERC-721 balances count tokens per holder (id folded away),
 * ERC-1155 balances are per id.
 */
export function balanceTokenId(kind: MovementKind, tokenId: string): string {
  return kind === "erc1155" ? tokenId : "";
}

/** Stable total order of movements, used by the store, the export and the verifier alike. */
export function compareMovements(a: Movement, b: Movement): number {
  return a.blockNumber - b.blockNumber || a.txIndex - b.txIndex || a.ord - b.ord;
}
