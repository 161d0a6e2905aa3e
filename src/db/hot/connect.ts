import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type PostgresPool,
  type QueryResult,
  type Transaction,
} from "kysely";
import type pg from "pg";
import type { DB } from "../../generated/kysely/tables.js";
import { boundedMemo } from "../../lib/boundedMemo.js";
import { isPostgresUrl, sqliteHandleOf, type Db } from "../createDb.js";
import { retryWhileBusy, type SqliteHandle } from "../serializedSqlite.js";
import { PREPARED_SQL } from "./prepared.js";

/**
 * The per-message path's database: Kysely over the same data Prisma owns. Prisma compiles every
 * query in WASM (most of a message's CPU); Kysely builds SQL in plain JS, and on SQLite each
 * statement is prepared once. Table types come from the Prisma schema (prisma-kysely), so the
 * schema stays the one source of truth; test/db/hotSchema.test.ts fails if they drift apart.
 */
export type HotDb = Kysely<DB>;
/** A hot-path query runs on the database or inside one of its transactions. */
export type HotQ = Kysely<DB> | Transaction<DB>;

export interface Hot {
  db: HotDb;
  dialect: "sqlite" | "postgres";
  close(): Promise<void>;
}

/**
 * Opens the hot path next to a Prisma client made by `createDb(url)`. On SQLite it shares Prisma's
 * one connection and queue (two connections to one file in one process would wait on each other's
 * locks); on PostgreSQL it has its own small pool.
 */
export function openHot(prisma: Db, url: string): Hot {
  if (isPostgresUrl(url)) {
    // pg is loaded on the first query (Kysely takes a pool factory): a SQLite server never loads it (~14 MiB).
    const pool = async () => {
      const { default: pg } = await import("pg");
      const types = pg.types;
      return utcPool(new pg.Pool({ connectionString: url, max: 8, idleTimeoutMillis: 5_000, allowExitOnIdle: true, types: { getTypeParser: pgTypeParser(types) } }));
    };
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: "postgres", close: () => db.destroy() };
  }
  const handle = sqliteHandleOf(prisma);
  if (!handle) throw new Error("openHot: this Prisma client was not made by createDb");
  const db = new Kysely<DB>({ dialect: sharedSqliteDialect(handle) });
  return { db, dialect: "sqlite", close: async () => undefined };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: Prisma's columns are `timestamp(3)` without time zone, holding UTC.

/** Reads `timestamp` as UTC (pg would read it as local time) and leaves the rest to pg. */
function pgTypeParser(types: typeof pg.types) {
  return (oid: number, format?: "text" | "binary"): ((value: string) => unknown) => {
    if (oid === types.builtins.TIMESTAMP) return (value) => new Date(`${value.replace(" ", "T")}Z`);
    return types.getTypeParser(oid, format as "text");
  };
}

/**
 * Writes dates as UTC (pg would write them in the process's time zone), and names each prepared
 * query's statement (src/db/hot/prepared.ts) after its SQL, so that PostgreSQL parses and plans it
 * once per connection, not once per message. Other SQL (variable-length lists) stays unnamed.
 */
function utcPool(pool: pg.Pool): PostgresPool {
  const toUtc = (value: unknown) => (value instanceof Date ? value.toISOString().replace("T", " ").replace("Z", "") : value);
  // A connection the server ends (a restart, a failover, pg_terminate_backend) is reported as an
  // 'error' event; unheard, it would crash the process. An idle one is dropped by the pool, which
  // opens a new one on demand; one in use fails its current query or transaction, and is then
  // discarded instead of going back to the pool.
  pool.on("error", () => undefined);
  return {
    async connect() {
      const client = await pool.connect();
      let stale = false;
      const lost = () => {
        stale = true;
      };
      client.on("error", lost);
      const query = async (sql: string, parameters: readonly unknown[]) => {
        const name = PREPARED_SQL.has(sql) ? statementName(sql) : undefined;
        try {
          return await client.query({ text: sql, values: parameters.map(toUtc), ...(name ? { name } : {}) });
        } catch (error) {
          // "cached plan must not change result type": the schema changed under a named statement
          // (a migration while this process runs). This connection is dropped, not reused.
          if ((error as { code?: unknown }).code === "0A000") stale = true;
          throw error;
        }
      };
      return {
        query: query as never,
        release: () => {
          client.removeListener("error", lost);
          client.release(stale || undefined);
        },
      };
    },
    end: () => pool.end(),
  };
}

/** A prepared statement's name on PostgreSQL: a digest of its SQL (names must be under 64 bytes). */
const statementName = boundedMemo((sql: string) => `k${createHash("sha256").update(sql).digest("base64url").slice(0, 32)}`);

// ---------------------------------------------------------------------------------------------
// SQLite: Prisma's one better-sqlite3 connection, through the queue in src/db/serializedSqlite.ts.

/** How Prisma stores a DateTime in SQLite (its adapter's default "iso8601" format). */
const sqliteTimestamp = (date: Date) => date.toISOString().replace("Z", "+00:00");

function sharedSqliteDialect(handle: () => SqliteHandle): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new SharedSqliteDriver(handle),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

class SharedSqliteDriver implements Driver {
  constructor(private readonly handle: () => SqliteHandle) {}
  async init(): Promise<void> {}
  async destroy(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const handle = this.handle();
    const release = await handle.lock.acquire();
    return new SharedSqliteConnection(handle, release);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as SharedSqliteConnection).begin();
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as SharedSqliteConnection).end("COMMIT");
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as SharedSqliteConnection).end("ROLLBACK");
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as SharedSqliteConnection).release();
  }
}

/** What to do with one result column: SQLite hands back text, 0/1 and numbers for these types. */
type ColumnKind = "date" | "boolean" | "decimal" | null;
const columnKind = (declared: string | null): ColumnKind => {
  const type = declared?.toUpperCase() ?? "";
  if (type === "DATETIME") return "date";
  if (type === "BOOLEAN") return "boolean";
  if (type.startsWith("DECIMAL")) return "decimal";
  return null;
};

interface Prepared {
  statement: Database.Statement;
  /** For statements that return rows: each column's name and kind. */
  columns: { name: string; kind: ColumnKind }[] | null;
}

/** Prepared statements per connection: the hot path's SQL is a small, fixed set. */
const preparedByDatabase = new WeakMap<Database.Database, Map<string, Prepared>>();
const MAX_PREPARED = 500;

function prepared(database: Database.Database, sql: string): Prepared {
  let cache = preparedByDatabase.get(database);
  if (!cache) preparedByDatabase.set(database, (cache = new Map()));
  let entry = cache.get(sql);
  if (!entry) {
    const statement = database.prepare(sql);
    // Prisma's adapter turns on BigInt for the whole connection; our ids and counts fit in a number.
    statement.safeIntegers(false);
    const columns = statement.reader ? statement.columns().map((c) => ({ name: c.name, kind: columnKind(c.type) })) : null;
    entry = { statement, columns };
    if (cache.size >= MAX_PREPARED) cache.delete(cache.keys().next().value!);
    cache.set(sql, entry);
  }
  return entry;
}

const toSqlite = (value: unknown) => {
  if (value instanceof Date) return sqliteTimestamp(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return value === undefined ? null : value;
};

function fromSqlite(row: Record<string, unknown>, columns: NonNullable<Prepared["columns"]>): Record<string, unknown> {
  for (const { name, kind } of columns) {
    if (kind === null) continue;
    const value = row[name];
    if (value === null || value === undefined) continue;
    if (kind === "date") row[name] = new Date(typeof value === "number" ? value : String(value));
    else if (kind === "boolean") row[name] = value === 1 || value === true || value === "1";
    else row[name] = String(value);
  }
  return row;
}

class SharedSqliteConnection implements DatabaseConnection {
  #inTransaction = false;
  #released = false;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly releaseLock: () => void,
  ) {}

  /** A statement after release would run outside the queue, inside someone else's transaction. */
  #assertHeld(): void {
    if (this.#released) throw new Error("this connection was released: the query came after its transaction ended");
  }

  async begin(): Promise<void> {
    this.#assertHeld();
    await this.handle.begin((sql) => prepared(this.handle.database, sql).statement.run());
    this.#inTransaction = true;
  }

  /** COMMIT or ROLLBACK; if it fails (a full disk), roll back what is left and rethrow. */
  async end(sql: "COMMIT" | "ROLLBACK"): Promise<void> {
    this.#assertHeld();
    // SQLite may have rolled back by itself (a full disk, or the failed COMMIT just above): then
    // there is nothing to roll back, and the error worth reporting is the one already thrown.
    if (sql === "ROLLBACK" && !this.handle.database.inTransaction) {
      if (this.#inTransaction) (this.#inTransaction = false), this.handle.ended();
      return;
    }
    try {
      prepared(this.handle.database, sql).statement.run();
    } catch (error) {
      if (this.handle.database.inTransaction) this.handle.database.exec("ROLLBACK");
      throw error;
    } finally {
      this.#inTransaction = false;
      this.handle.ended();
    }
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    // A transaction Kysely never ended (it always does): never leave it open behind the queue.
    if (this.#inTransaction && this.handle.database.inTransaction) this.handle.database.exec("ROLLBACK");
    this.releaseLock();
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    this.#assertHeld();
    const run = () => this.#execute<R>(compiled);
    // Outside a transaction a lone statement may meet another process's write lock; inside one
    // we hold it already (BEGIN IMMEDIATE).
    return this.#inTransaction ? run() : retryWhileBusy(run);
  }

  #execute<R>(compiled: CompiledQuery): QueryResult<R> {
    const { statement, columns } = prepared(this.handle.database, compiled.sql);
    const parameters = compiled.parameters.map(toSqlite);
    if (columns) {
      const rows = statement.all(parameters) as Record<string, unknown>[];
      for (const row of rows) fromSqlite(row, columns);
      return { rows: rows as R[] };
    }
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming is not supported on the hot path");
  }
}
