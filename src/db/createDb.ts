import { PrismaClient as SqliteClient, type Prisma } from "../generated/sqlite/client.js";
import type { SqliteHandle } from "./serializedSqlite.js";

/**
 * The application's database client. Both generated clients come from identical models, so the
 * SQLite client's type describes the PostgreSQL one too.
 */
export type Db = SqliteClient;
/** A client inside `db.$transaction(async (tx) => ...)`. */
export type Tx = Prisma.TransactionClient;

export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//.test(url);

const sqliteHandles = new WeakMap<Db, () => SqliteHandle>();

/** The SQLite connection under a client made by `createDb` (null for PostgreSQL): see src/db/hot. */
export function sqliteHandleOf(db: Db): (() => SqliteHandle) | null {
  return sqliteHandles.get(db) ?? null;
}

/** Opens the database named by `url`: `file:...` for SQLite, `postgresql://...` for PostgreSQL. */
export async function createDb(url: string, options: { sqliteSynchronous?: "normal" | "full" } = {}): Promise<Db> {
  if (isPostgresUrl(url)) {
    const { PrismaClient } = await import("../generated/postgres/client.js");
    const { PrismaPg } = await import("@prisma/adapter-pg");
    // Only the model types are shared; the runtime objects differ by provider.
    return new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as Db;
  }
  const { PrismaBetterSQLite3 } = await import("@prisma/adapter-better-sqlite3");
  const { SerializedSqlite } = await import("./serializedSqlite.js");
  // One connection: every statement and transaction queued, so nothing runs inside another's transaction.
  // A transaction's wait for its turn counts against maxWait: give it longer than Prisma's 2 s, so a
  // burst of messages queues instead of failing.
  const adapter = new SerializedSqlite(new PrismaBetterSQLite3({ url, timeout: 0 }));
  const db = new SqliteClient({ adapter, transactionOptions: { maxWait: 15_000, timeout: 15_000 } });
  sqliteHandles.set(db, () => adapter.handle);
  // WAL lets the staff pages read while a message is being written. No busy_timeout (it would block
  // the event loop): when another process (npm run chat) holds the write lock, the queue polls.
  await db.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  // In WAL mode NORMAL syncs the disk at checkpoints, not at every commit (which blocks the event
  // loop for an fsync per message): a crash of the process loses nothing, a power cut may lose the
  // last moments' commits but never corrupts. SQLITE_SYNCHRONOUS=full syncs every commit.
  await db.$executeRawUnsafe(`PRAGMA synchronous = ${options.sqliteSynchronous === "full" ? "FULL" : "NORMAL"}`);
  return db;
}
