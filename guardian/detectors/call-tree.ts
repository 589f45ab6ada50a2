import type { CallFrame } from "../context/types";

/** Where a frame sits in its transaction's call tree. */
export interface FrameVisit {
  frame: CallFrame;
  /**
   * The account whose storage and balance the frame runs against: `to` for calls, the caller's context
   * for DELEGATECALL and CALLCODE (a proxy's implementation runs as the proxy).
   */
  context: string;
  /** 0 for the transaction's root frame. */
  depth: number;
  /** This frame's ancestors, root first. */
  ancestors: readonly FrameVisit[];
  /** True when this frame or one of its ancestors failed: its effects were undone. */
  reverted: boolean;
}

/** The 4-byte selector of a call's input, or "0x" for plain transfers and short inputs. */
export function selectorOf(input: string): string {
  return input.length >= 10 ? input.slice(0, 10).toLowerCase() : "0x";
}

function contextOf(frame: CallFrame, parentContext: string | undefined): string {
  if ((frame.type === "DELEGATECALL" || frame.type === "CALLCODE") && parentContext !== undefined) return parentContext;
  return frame.to.toLowerCase();
}

/**
 * Every detector walks every transaction's tree, several of them more than once; the visits are worked
 * out on the first walk and kept with the tree (and collected with it).
 */
const visitsByRoot = new WeakMap<CallFrame, readonly FrameVisit[]>();

/** Every frame of a call tree, depth-first in execution order. */
export function frameVisits(root: CallFrame): readonly FrameVisit[] {
  let visits = visitsByRoot.get(root);
  if (visits) return visits;
  const out: FrameVisit[] = [];
  const step = (frame: CallFrame, ancestors: readonly FrameVisit[]): void => {
    const parent = ancestors.length > 0 ? ancestors[ancestors.length - 1] : undefined;
    const v: FrameVisit = {
      frame,
      context: contextOf(frame, parent?.context),
      depth: ancestors.length,
      ancestors,
      reverted: frame.error !== undefined || (parent?.reverted ?? false),
    };
    out.push(v);
    if (frame.calls.length === 0) return;
    const inner = [...ancestors, v];
    for (const child of frame.calls) step(child, inner);
  };
  step(root, []);
  visits = out;
  visitsByRoot.set(root, visits);
  return visits;
}

/** A frame as evidence: small, JSON-safe and enough to follow the call path by eye. */
export function describeFrame(v: FrameVisit): Record<string, unknown> {
  return {
    depth: v.depth,
    type: v.frame.type,
    from: v.frame.from.toLowerCase(),
    to: v.frame.to.toLowerCase(),
    selector: selectorOf(v.frame.input),
    value: v.frame.value.toString(),
    ...(v.frame.error !== undefined ? { error: v.frame.error } : {}),
  };
}
