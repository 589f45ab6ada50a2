import { SingleBar } from "cli-progress";

export interface Progress {
  tick(): void;
  /** Sets the count done so far (work that advances in chunks). */
  update(done: number): void;
  stop(): void;
}

/**
 * A progress bar for long work a person waits on (replaying a range, syncing the ledger, re-tracing an audit), drawn
 * on stderr and only when stderr is a terminal: piped or redirected output stays exactly what it was, and stdout
 * (findings, reports) is never touched.
 */
export function startProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total < 2) return { tick() {}, update() {}, stop() {} };
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  bar.start(total, 0);
  return {
    tick: () => bar.increment(),
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  };
}
