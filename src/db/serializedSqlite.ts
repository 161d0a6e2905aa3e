import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import type Database from "better-sqlite3";

type Adapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type Transaction = Awaited<ReturnType<Adapter["startTransaction"]>>;
/** What this wrapper needs of Prisma's adapter factory. */
type AdapterFactory = Pick<PrismaBetterSQLite3, "adapterName" | "connect">;

/** A first-come, first-served lock: `acquire()` resolves with the function that releases it. */
export class FifoLock {
  #tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => released);
    return previous.then(() => {
      let done = false;
      return () => {
        if (!done) (done = true), release();
      };
    });
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}

/**
 * Prisma's better-sqlite3 adapter shares one connection: its transactions take a mutex, but a query
 * from outside a transaction runs straight away — inside whatever transaction is open on the
 * connection at that moment, and is lost if that transaction rolls back (an outbox worker's "sent"
 * record lost to an inbound message's rollback). This adapter puts every statement and every
 * transaction in one queue: a query outside a transaction waits until the open transaction commits
 * or rolls back, and a transaction holds the queue from BEGIN to its end. Transactions must therefore
 * be short and never wait on slow work (hashing, provider calls) — do that before or after them.
 */
export class SerializedSqlite {
  readonly provider = "sqlite" as const;
  readonly adapterName: string;
  readonly #inner: AdapterFactory;
  #handle: SqliteHandle | null = null;

  constructor(inner: AdapterFactory) {
    this.#inner = inner;
    this.adapterName = inner.adapterName;
  }

  /** The connection Prisma is using now (it connects on its first query). */
  get handle(): SqliteHandle {
    if (!this.#handle) throw new Error("SQLite is not connected yet");
    return this.#handle;
  }

  async connect(): Promise<Adapter> {
    const adapter = await this.#inner.connect();
    // Prisma's adapter keeps its better-sqlite3 connection in `client`.
    const database = (adapter as unknown as { client?: Database.Database }).client;
    if (!database) throw new Error("Prisma's SQLite adapter no longer exposes its connection");
    this.#handle = new SqliteHandle(database);
    return serialize(adapter, this.#handle);
  }
}

/** How long a statement or BEGIN waits for another process's write lock before failing. */
const BUSY_WAIT_MS = 15_000;

/** True for SQLite's "database is locked" (another process holds the write lock), raw or as Prisma reports it. */
function isBusy(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { originalCode?: unknown; kind?: unknown } } | null;
  return e?.code === "SQLITE_BUSY" || e?.cause?.originalCode === "SQLITE_BUSY";
}

/**
 * Runs `work` until it does not fail with SQLITE_BUSY, polling every few milliseconds for up to
 * BUSY_WAIT_MS. SQLite's own busy handler would block the whole event loop (better-sqlite3 is
 * synchronous) and sleeps up to 100 ms between tries, so a process that writes back to back
 * starves it; short asynchronous polls keep the server answering and find the gaps between another
 * process's transactions. Only for statements that change nothing when they fail: BEGIN, or a lone
 * statement outside a transaction.
 */
export async function retryWhileBusy<T>(work: () => Promise<T> | T, now = Date.now): Promise<T> {
  const deadline = now() + BUSY_WAIT_MS;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!isBusy(error) || now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 3));
    }
  }
}

/**
 * After this long holding the write lock in back-to-back transactions, leave it free for a moment
 * (longer than retryWhileBusy's poll) so another process waiting on the file gets its turn.
 */
const FAIR_SHARE_MS = 250;
const FAIR_GAP_MS = 6;

/**
 * The one SQLite connection of this process and the queue in front of it. Prisma (through
 * `SerializedSqlite`) and the per-message query layer (src/db/hot) both go through it, so neither
 * ever runs a statement inside the other's transaction.
 */
export class SqliteHandle {
  readonly lock = new FifoLock();
  // When the write lock was last let go, and since when this process has held it without a gap.
  #endedAt = 0;
  #holdingSince = 0;

  constructor(readonly database: Database.Database) {}

  /**
   * Starts a write transaction; call with the queue held. IMMEDIATE takes the write lock now, so
   * another process on the same file (npm run chat, a second instance) makes us wait here instead
   * of failing with SQLITE_BUSY when a transaction that started by reading tries to write.
   */
  async begin(run: (sql: string) => unknown): Promise<void> {
    if (performance.now() - this.#endedAt > 2) this.#holdingSince = performance.now();
    else if (performance.now() - this.#holdingSince > FAIR_SHARE_MS) {
      await new Promise((resolve) => setTimeout(resolve, FAIR_GAP_MS));
      this.#holdingSince = performance.now();
    }
    try {
      await retryWhileBusy(() => run("BEGIN IMMEDIATE"));
    } catch (error) {
      this.ended();
      throw error;
    }
  }

  /** A transaction ended (or never began): the write lock is free. */
  ended(): void {
    this.#endedAt = performance.now();
  }
}

function serialize(adapter: Adapter, handle: SqliteHandle): Adapter {
  const { lock } = handle;
  const wrapped: Adapter = {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => lock.run(() => retryWhileBusy(() => adapter.queryRaw(query))),
    executeRaw: (query) => lock.run(() => retryWhileBusy(() => adapter.executeRaw(query))),
    executeScript: (script) => lock.run(() => adapter.executeScript(script)),
    dispose: () => lock.run(() => adapter.dispose()),
    async startTransaction(isolationLevel) {
      // SQLite transactions are serializable; the adapter itself refuses any other level.
      if (isolationLevel && isolationLevel !== "SERIALIZABLE") return adapter.startTransaction(isolationLevel);
      const release = await lock.acquire();
      try {
        await handle.begin((sql) => adapter.executeRaw(statement(sql)));
      } catch (error) {
        release();
        throw error;
      }
      return transactionHolding(adapter, () => (handle.ended(), release()));
    },
  };
  if (adapter.getConnectionInfo) wrapped.getConnectionInfo = () => adapter.getConnectionInfo!();
  return wrapped;
}

const statement = (sql: string) => ({ sql, args: [], argTypes: [] });

/**
 * A transaction on the connection this queue holds. It runs BEGIN itself rather than through the
 * adapter's `startTransaction`, whose own mutex leaks when BEGIN fails. Prisma ends a transaction by
 * sending COMMIT (or ROLLBACK) and only then calling `commit()` — not at all when that statement
 * fails (a full disk; SQLite having rolled back by itself) — so a failed COMMIT/ROLLBACK ends the
 * transaction here: roll back whatever is left, release the queue, rethrow. Otherwise every later
 * query would wait forever.
 */
function transactionHolding(adapter: Adapter, release: () => void): Transaction {
  const endsTransaction = (sql: string) => /^\s*(COMMIT|ROLLBACK)\b/i.test(sql);
  async function guarded<T>(sql: string, run: () => Promise<T>): Promise<T> {
    if (!endsTransaction(sql)) return run();
    try {
      return await run();
    } catch (error) {
      await adapter.executeRaw(statement("ROLLBACK")).catch(() => undefined);
      release();
      throw error;
    }
  }
  return {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    options: { usePhantomQuery: false },
    queryRaw: (query) => guarded(query.sql, () => adapter.queryRaw(query)),
    executeRaw: (query) => guarded(query.sql, () => adapter.executeRaw(query)),
    commit: async () => release(),
    rollback: async () => release(),
  };
}
