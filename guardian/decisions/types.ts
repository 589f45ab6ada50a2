import type { BlockContext } from "../context/types";
import type { ReorgEvent } from "../chain/types";
import type { Finding } from "../detectors/types";

/**
 * Everything downstream of the detectors (decision policy -> responders, notifiers, reports) subscribes
 * to the pipeline through this one interface. The pipeline calls sinks in order and awaits each, so a
 * sink that does slow I/O (alerts) must hand it off instead of holding the pipeline, and the trip path
 * is always registered first.
 */
export interface FindingSink {
  readonly name: string;
  /** New findings of a processed block, already deduplicated by id. */
  onFindings(findings: Finding[], block: BlockContext): Promise<void>;
  /** Findings whose blocks were orphaned by a reorg; called before the new branch is evaluated. */
  onRetractions?(retracted: Finding[], reorg: ReorgEvent): Promise<void>;
  /**
   * Every reorg the pipeline processed, after `onRetractions` and before the new branch's findings, whether
   * or not it retracted any finding: a trip included in an orphaned block leaves no finding behind to retract.
   */
  onReorg?(reorg: ReorgEvent): Promise<void>;
  /** Flush and release resources on shutdown. */
  close?(): Promise<void>;
}
