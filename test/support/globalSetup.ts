import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { isPostgresUrl } from "../../src/db/createDb.js";
import { migrate } from "../../src/db/migrate.js";

export type TestDbPlan =
  | { dialect: "sqlite"; template: string; dir: string }
  | { dialect: "postgres"; adminUrl: string; template: string };

declare module "vitest" {
  export interface ProvidedContext {
    testDb: TestDbPlan;
  }
}

/** Replaces the database name in a PostgreSQL URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Runs the real migrations once into a template database (SQLite file or PostgreSQL database);
 * each test file then gets a fresh copy of it. TEST_DATABASE_URL=postgresql://... selects PostgreSQL.
 */
export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL;
  if (url && isPostgresUrl(url)) {
    const template = `baladiya_template_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${template}"`);
    await migrate(withDatabase(url, template));
    project.provide("testDb", { dialect: "postgres", adminUrl: url, template });
    return async () => {
      const leftovers = await admin.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE $1",
        [`baladiya_test_${process.pid}_%`],
      );
      for (const { datname } of leftovers.rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
      await admin.end();
    };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "baladiya-test-"));
  const template = path.join(dir, "template.db");
  await migrate(`file:${template}`);
  project.provide("testDb", { dialect: "sqlite", template, dir });
  return () => rmSync(dir, { recursive: true, force: true });
}
