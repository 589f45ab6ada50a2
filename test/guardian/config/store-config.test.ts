import { expect } from "chai";
import { ConfigError, parseConfig } from "../../../guardian/config/load-config";

const CHAINS = "chains:\n  - id: 1\n    rpc: [http://127.0.0.1:8545]\n";

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, "test.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe("store config: sqlite (default) or postgres", () => {
  it("keeps today's forms: no store, and store.path, are the SQLite store", () => {
    expect(parseConfig(CHAINS, "t.yaml").config.store).to.deep.equal({ backend: "sqlite", path: ".failsafe/guardian.sqlite" });
    expect(parseConfig(`${CHAINS}store:\n  path: /var/lib/g.sqlite\n`, "t.yaml").config.store).to.deep.equal({ backend: "sqlite", path: "/var/lib/g.sqlite" });
    expect(parseConfig(`${CHAINS}store:\n  sqlite: { path: g.sqlite }\n`, "t.yaml").config.store).to.deep.equal({ backend: "sqlite", path: "g.sqlite" });
  });

  it("reads the PostgreSQL URL from the environment, and keeps a local path for the ledger's index", () => {
    process.env.FAILSAFE_TEST_STORE_URL = "postgres://guardian:s3cret@db.internal:5432/failsafe";
    try {
      const { store } = parseConfig(`${CHAINS}store:\n  postgres: { url: { env: FAILSAFE_TEST_STORE_URL } }\n`, "t.yaml").config;
      expect(store).to.deep.equal({ backend: "postgres", path: ".failsafe/guardian.sqlite", postgres: { url: "postgres://guardian:s3cret@db.internal:5432/failsafe", poolSize: 4, leaseMs: 12_000, deliveryClaimMs: 60_000 } });
      process.env.FAILSAFE_TEST_STORE_URL = "http://not-postgres";
      expect(issuesOf(`${CHAINS}store:\n  postgres: { url: { env: FAILSAFE_TEST_STORE_URL } }\n`)).to.deep.equal(["store.postgres.url: environment variable FAILSAFE_TEST_STORE_URL: expected a postgres:// URL"]);
    } finally {
      delete process.env.FAILSAFE_TEST_STORE_URL;
    }
  });

  it("refuses a literal URL with a password, with the { env: NAME } hint and without echoing it", () => {
    const issues = issuesOf(`${CHAINS}store:\n  postgres: { url: "postgres://guardian:s3cret@db:5432/failsafe" }\n`);
    expect(issues).to.deep.equal(["store.postgres.url: this URL holds a password: secrets must come from the environment: write { env: VARIABLE_NAME }"]);
    expect(issues.join()).to.not.include("s3cret");
    // Without a password (peer or certificate auth, PGPASSFILE) a literal URL is fine.
    expect(parseConfig(`${CHAINS}store:\n  postgres: { url: "postgres://guardian@db:5432/failsafe" }\n`, "t.yaml").config.store.backend).to.equal("postgres");
  });

  it("refuses mixing the forms and unknown keys", () => {
    expect(issuesOf(`${CHAINS}store:\n  sqlite: { path: a.sqlite }\n  postgres: { url: "postgres://db/x" }\n`)).to.not.deep.equal([]);
    expect(issuesOf(`${CHAINS}store:\n  pathh: a.sqlite\n`)).to.not.deep.equal([]);
  });
});
