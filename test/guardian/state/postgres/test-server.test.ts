import { expect } from "chai";
import { Client } from "pg";
import { createTestDatabase } from "../../../support/postgres";

describe("test PostgreSQL (embedded, started by the suite)", function () {
  this.timeout(120_000);

  it("serves a fresh database per call on 127.0.0.1, and the databases are separate", async () => {
    const a = await createTestDatabase("server_a");
    const b = await createTestDatabase("server_b");
    expect(new URL(a).hostname).to.equal("127.0.0.1");
    expect(a).to.not.equal(b);
    const client = new Client({ connectionString: a });
    await client.connect();
    try {
      const { rows } = await client.query<{ v: string; addr: string | null }>("SELECT current_setting('server_version') AS v, host(inet_server_addr()) AS addr");
      expect(rows[0].v).to.match(/^18\./);
      expect(rows[0].addr).to.equal("127.0.0.1");
      await client.query("CREATE TABLE only_here (x int)");
    } finally {
      await client.end();
    }
    const other = new Client({ connectionString: b });
    await other.connect();
    try {
      const { rows } = await other.query("SELECT to_regclass('only_here') AS t");
      expect(rows[0].t).to.equal(null);
    } finally {
      await other.end();
    }
  });
});
