import { randomUUID } from "node:crypto";
import { copyFileSync, rmSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { createDb, type Db } from "../../src/db/createDb.js";
import { openHot, type Hot } from "../../src/db/hot/connect.js";
import { withDatabase } from "./globalSetup.js";

export interface TestDatabase {
  db: Db;
  /** The per-message query layer on the same database (src/db/hot). */
  hot: Hot;
  url: string;
  dialect: "sqlite" | "postgres";
  drop(): Promise<void>;
}

/** A fresh, migrated, empty database for one test file (SQLite by default, PostgreSQL with TEST_DATABASE_URL). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const plan = inject("testDb");
  if (plan.dialect === "sqlite") {
    const file = path.join(plan.dir, `${randomUUID()}.db`);
    copyFileSync(plan.template, file);
    const url = `file:${file}`;
    const db = await createDb(url);
    const hot = openHot(db, url);
    return {
      db,
      hot,
      url,
      dialect: "sqlite",
      async drop() {
        await hot.close();
        await db.$disconnect();
        for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
      },
    };
  }
  // The template's pid prefix lets global teardown find databases a crashed file left behind.
  const name = `baladiya_test_${plan.template.split("_")[2]}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: plan.adminUrl });
  await admin.connect();
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${plan.template}"`);
      break;
    } catch (error) {
      // Two files copying the template at the same instant: PostgreSQL asks one to wait.
      if (attempt >= 20 || !String(error).includes("being accessed by other users")) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  await admin.end();
  const url = withDatabase(plan.adminUrl, name);
  const db = await createDb(url);
  const hot = openHot(db, url);
  return {
    db,
    hot,
    url,
    dialect: "postgres",
    async drop() {
      await hot.close();
      await db.$disconnect();
      const cleanup = new pg.Client({ connectionString: plan.adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
