import { expect } from "chai";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLogger, stageLogger } from "../../../guardian/ops/logger";

describe("createLogger", () => {
  it("writes JSON lines with the stage and blanks out keys, passwords and auth headers", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "failsafe-log-")), "guardian.log");
    const { logger, flush } = createLogger({ level: "info", destination: file });
    const log = stageLogger(logger, "responders", { chain_id: 1 });
    log.info(
      {
        privateKey: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcaff46b6f7e5e0f00",
        signer: { privateKey: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", address: "0xf39f" },
        request: { headers: { authorization: "Bearer s3cret", "x-flashbots-signature": "0xabc:0xdef" } },
        smtp: { password: "hunter2" },
        tx_hash: "0x1234",
      },
      "bundle sent",
    );
    flush();
    const line = JSON.parse(readFileSync(file, "utf8").trim()) as Record<string, any>;
    expect(line.msg).to.equal("bundle sent");
    expect(line.stage).to.equal("responders");
    expect(line.chain_id).to.equal(1);
    expect(line.privateKey).to.equal("[redacted]");
    expect(line.signer).to.deep.equal({ privateKey: "[redacted]", address: "0xf39f" });
    expect(line.request.headers).to.deep.equal({ authorization: "[redacted]", "x-flashbots-signature": "[redacted]" });
    expect(line.smtp.password).to.equal("[redacted]");
    expect(line.tx_hash).to.equal("0x1234");
    expect(readFileSync(file, "utf8")).to.not.match(/s3cret|hunter2|0xac0974|0x59c699|0xabc:0xdef/);
  });
});

describe("prettyStream (failsafe guard on a terminal)", () => {
  it("prints one readable line per event, keeps secrets redacted, and lets no escape sequence through", async () => {
    const { default: pino } = await import("pino");
    const { prettyStream, REDACT_PATHS } = await import("../../../guardian/ops/logger");
    const written: string[] = [];
    const logger = pino({ level: "info", redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, prettyStream({ write: (t: string) => written.push(t) }));
    // A token symbol an attacker chose: an ANSI sequence that would clear the operator's screen, and a bidi override.
    logger.warn({ stage: "findings", privateKey: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcaff46b6f7e5e0f00", symbol: "EVIL\u001b[2J\u202e" }, "Outflow spike from vault: 9,000 EVIL\u001b[2J");
    const text = written.join("");
    expect(text).to.match(/WARN.*Outflow spike from vault: 9,000 EVIL\[2J/);
    expect(text).to.contain("[redacted]");
    expect(text).to.not.contain("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcaff46b6f7e5e0f00");
    expect(text).to.not.match(/[\u001b\u202e]/);
    expect(() => JSON.parse(text)).to.throw();
  });
});
