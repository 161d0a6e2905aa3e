/**
 * Writes prisma/postgres/schema.prisma from prisma/sqlite/schema.prisma. Prisma cannot take the
 * provider from the environment, so the two schemas must be kept identical apart from their datasource.
 * `--check` exits 1 when the PostgreSQL schema is out of date.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sqlitePath = path.join(root, "prisma/sqlite/schema.prisma");
const postgresPath = path.join(root, "prisma/postgres/schema.prisma");

/** The PostgreSQL schema text that corresponds to the given SQLite schema text. */
export function postgresSchemaFrom(sqlite: string): string {
  return sqlite
    .replace('output     = "../../src/generated/sqlite"', 'output     = "../../src/generated/postgres"')
    .replace('provider = "sqlite"', 'provider = "postgresql"')
    // The per-message path's query builder (src/db/hot) takes its table types from this schema:
    // PostgreSQL's types (Date, boolean) are what the SQLite driver there hands back too.
    .replace(
      "\ndatasource db {",
      '\ngenerator kysely {\n  provider = "prisma-kysely"\n  output   = "../../src/generated/kysely"\n  fileName = "tables.ts"\n}\n\ndatasource db {',
    )
    .replace('url      = "file:./placeholder.db"', 'url      = "postgresql://placeholder@localhost/placeholder"')
    .replace(
      "// Source of truth for the data model.",
      "// GENERATED from prisma/sqlite/schema.prisma by `npm run db:sync-schema`: edit that file instead.\n// Source of truth for the data model.",
    );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const expected = postgresSchemaFrom(readFileSync(sqlitePath, "utf8"));
  if (process.argv.includes("--check")) {
    const actual = readFileSync(postgresPath, "utf8");
    if (actual !== expected) {
      console.error("prisma/postgres/schema.prisma is out of date: run npm run db:sync-schema");
      process.exit(1);
    }
  } else {
    writeFileSync(postgresPath, expected);
  }
}
