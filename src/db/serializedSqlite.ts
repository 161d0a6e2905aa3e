import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

type Adapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type Transaction = Awaited<ReturnType<Adapter["startTransaction"]>>;
/** What this wrapper needs of Prisma's adapter factory. */
type AdapterFactory = Pick<PrismaBetterSQLite3, "adapterName" | "connect">;

/** A first-come, first-served lock: `acquire()` resolves with the function that releases it. */
class FifoLock {
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

  constructor(inner: AdapterFactory) {
    this.#inner = inner;
    this.adapterName = inner.adapterName;
  }

  async connect(): Promise<Adapter> {
    return serialize(await this.#inner.connect());
  }
}

function serialize(adapter: Adapter): Adapter {
  const lock = new FifoLock();
  const wrapped: Adapter = {
    provider: adapter.provider,
    adapterName: adapter.adapterName,
    queryRaw: (query) => lock.run(() => adapter.queryRaw(query)),
    executeRaw: (query) => lock.run(() => adapter.executeRaw(query)),
    executeScript: (script) => lock.run(() => adapter.executeScript(script)),
    dispose: () => lock.run(() => adapter.dispose()),
    async startTransaction(isolationLevel) {
      // SQLite transactions are serializable; the adapter itself refuses any other level.
      if (isolationLevel && isolationLevel !== "SERIALIZABLE") return adapter.startTransaction(isolationLevel);
      const release = await lock.acquire();
      try {
        // IMMEDIATE takes the write lock now, so another process on the same file (npm run chat, a
        // second instance) makes us wait busy_timeout instead of failing with SQLITE_BUSY when a
        // transaction that started by reading tries to write.
        await adapter.executeRaw(statement("BEGIN IMMEDIATE"));
      } catch (error) {
        release();
        throw error;
      }
      return transactionHolding(adapter, release);
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
