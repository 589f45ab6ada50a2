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
  /** This frame's ancestors, root first; shared with the walk, so copy it to keep it. */
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

/** Visits every frame depth-first, in execution order. */
export function walkFrames(root: CallFrame, visit: (v: FrameVisit) => void): void {
  const ancestors: FrameVisit[] = [];
  const step = (frame: CallFrame): void => {
    const parent = ancestors[ancestors.length - 1];
    const v: FrameVisit = {
      frame,
      context: contextOf(frame, parent?.context),
      depth: ancestors.length,
      ancestors,
      reverted: frame.error !== undefined || (parent?.reverted ?? false),
    };
    visit(v);
    ancestors.push(v);
    for (const child of frame.calls) step(child);
    ancestors.pop();
  };
  step(root);
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
