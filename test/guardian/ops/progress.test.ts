import { expect } from "chai";
import { PassThrough } from "node:stream";
import { startProgress } from "../../../guardian/ops/progress";

/** A stream that says it is a terminal, recording what a terminal would receive. */
function terminal(isTTY: boolean): NodeJS.WriteStream & { text(): string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  Object.assign(stream, { isTTY, columns: 100, rows: 20, text: () => text });
  return stream;
}

describe("startProgress", () => {
  it("draws a bar with the count on a terminal, and clears it when done", async () => {
    const tty = terminal(true);
    const progress = startProgress("replaying blocks 0..9", 10, tty);
    for (let i = 0; i < 10; i++) progress.tick();
    progress.stop();
    await new Promise((r) => setImmediate(r));
    expect(tty.text()).to.match(/replaying blocks 0\.\.9 \[.*\] \d+% \| \d+\/10/);
  });

  it("work done in chunks (ledger index, audit re-tracing) sets the count it has reached", async () => {
    const tty = terminal(true);
    const progress = startProgress("indexing blocks", 1000, tty);
    progress.update(500);
    // The bar redraws at most ten times a second.
    await new Promise((r) => setTimeout(r, 250));
    progress.update(1000);
    progress.stop();
    await new Promise((r) => setImmediate(r));
    expect(tty.text()).to.match(/indexing blocks \[.*\] 50% \| 500\/1000/);
    expect(tty.text()).to.match(/100% \| 1000\/1000/);
  });

  it("writes nothing when the stream is not a terminal (pipes, files, CI logs stay clean)", async () => {
    const pipe = terminal(false);
    const progress = startProgress("replaying blocks 0..9", 10, pipe);
    for (let i = 0; i < 10; i++) progress.tick();
    progress.stop();
    await new Promise((r) => setImmediate(r));
    expect(pipe.text()).to.equal("");
  });
});
