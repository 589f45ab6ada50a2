import { expect } from "chai";
import { parseConfig } from "../../../guardian/config/load-config";

const base = (metrics: string) => `chains:
  - id: 31337
    rpc: [http://127.0.0.1:8545]
metrics:
${metrics}
`;

/** /metrics and /healthz tell an outsider the guardian's lag, errors and incidents: loopback unless said otherwise. */
describe("config: metrics beyond loopback need exposePublicly", () => {
  it("refuses a non-loopback host without exposePublicly, naming the setting", () => {
    expect(() => parseConfig(base("  host: 0.0.0.0"), "failsafe.yaml")).to.throw(/metrics\.host.*"0\.0\.0\.0" is not a loopback address; set metrics\.exposePublicly: true/);
  });

  it("accepts loopback hosts, and a public host with exposePublicly: true", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) expect(parseConfig(base(`  host: "${host}"`), "failsafe.yaml").config.metrics.host).to.equal(host);
    const open = parseConfig(base("  host: 0.0.0.0\n  exposePublicly: true"), "failsafe.yaml").config.metrics;
    expect(open).to.include({ host: "0.0.0.0", exposePublicly: true });
  });
});
