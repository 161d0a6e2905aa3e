import pg from "pg";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

/** What a PostgreSQL restart (or an administrator's pg_terminate_backend) does to our connections. */
async function terminateOurConnections() {
  const admin = new pg.Client({ connectionString: t.url });
  await admin.connect();
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
  await admin.end();
  // Let the terminated sockets report their end.
  await new Promise((resolve) => setTimeout(resolve, 200));
}

describe.skipIf(process.env.TEST_DATABASE_URL === undefined)("the per-message pool when PostgreSQL drops its connections", () => {
  it("an idle connection killed by the server does not crash the process; the next query gets a new one", async () => {
    await sql`SELECT 1`.execute(t.hot.db);
    await terminateOurConnections();
    const { rows } = await sql<{ n: number }>`SELECT 2 AS n`.execute(t.hot.db);
    expect(rows).toEqual([{ n: 2 }]);
  });

  it("a connection killed in the middle of a transaction fails that transaction only", async () => {
    const transaction = t.hot.db.transaction().execute(async (tx) => {
      await sql`SELECT 1`.execute(tx);
      await terminateOurConnections();
      await sql`SELECT 2`.execute(tx);
    });
    await expect(transaction).rejects.toThrow();
    const { rows } = await sql<{ n: number }>`SELECT 3 AS n`.execute(t.hot.db);
    expect(rows).toEqual([{ n: 3 }]);
  });
});
