/**
 * True when the database refused a row because its unique key is taken (another request or
 * process was first): Prisma's P2002, and the drivers' own codes for queries that bypass Prisma
 * (src/db/hot): better-sqlite3's SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY, PostgreSQL's 23505.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "P2002" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}
