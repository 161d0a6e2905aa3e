import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { REPO_ROOT as ROOT } from "../lib/paths.js";
import { isPostgresUrl } from "./createDb.js";

/** The file a `file:` SQLite URL points at, resolved like Prisma does (relative to the working directory). */
export function sqliteFilePath(url: string): string {
  return path.resolve(url.replace(/^file:/, "").replace(/\?.*$/, ""));
}

/** The migration folders of a database kind, in order. */
export function migrationNames(url: string): string[] {
  const dir = path.join(ROOT, "prisma", isPostgresUrl(url) ? "postgres" : "sqlite", "migrations");
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Migrations Prisma has recorded as finished in this database (empty for a new database). */
async function appliedMigrations(url: string): Promise<Set<string>> {
  const query = `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
  try {
    if (isPostgresUrl(url)) {
      // Loaded only for PostgreSQL: the pg module costs ~14 MiB that a SQLite server never needs.
      const { default: pg } = await import("pg");
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return new Set((await client.query<{ migration_name: string }>(query)).rows.map((r) => r.migration_name));
      } finally {
        await client.end();
      }
    }
    const file = sqliteFilePath(url);
    if (!existsSync(file)) return new Set();
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return new Set((db.prepare(query).all() as Array<{ migration_name: string }>).map((r) => r.migration_name));
    } finally {
      db.close();
    }
  } catch {
    // No _prisma_migrations table yet (or the database does not exist): let the CLI do its work.
    return new Set();
  }
}

/**
 * Applies pending migrations with `prisma migrate deploy` (the offline WASM engine configured in
 * prisma.config.ts). Creates the folder of a SQLite file first. When every migration is already
 * recorded it does nothing — the CLI cannot take SQLite's lock while a running server holds the
 * file, and `npm run chat` or `staff:create-admin` next to a running server must still work.
 * Rejects with the CLI's output on failure.
 */
export async function migrate(url: string): Promise<void> {
  const applied = await appliedMigrations(url);
  if (migrationNames(url).every((name) => applied.has(name))) return;
  let target = url;
  if (!isPostgresUrl(url)) {
    mkdirSync(path.dirname(sqliteFilePath(url)), { recursive: true });
    // The CLI runs in the repository root; an absolute path keeps it on the app's file.
    target = `file:${sqliteFilePath(url)}`;
  }
  const prisma = path.join(ROOT, "node_modules", "prisma", "build", "index.js");
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [prisma, "migrate", "deploy"], {
      cwd: ROOT,
      // Only what the CLI needs: the app's configuration stays in the app.
      env: { DATABASE_URL: target, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed (exit ${code}):\n${output}`)),
    );
  });
}
