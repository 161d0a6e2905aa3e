import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/createDb.js";
import { SerializedSqlite } from "../../src/db/serializedSqlite.js";
import { runCommand } from "../support/runCommand.js";
import { createTestDatabase, type TestDatabase } from "../support/testDb.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

/** A promise and the function that settles it, to hold a transaction open at a known point. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("one path's transaction and another path's writes", () => {
  it("a write made while another path's transaction is open survives that transaction rolling back", async () => {
    const entered = gate();
    const release = gate();
    // The inbox handling a message: it writes, then the engine throws, so everything is rolled back.
    const inbox = t.db
      .$transaction(
        async (tx) => {
          await tx.resident.create({ data: { phone: "+9613000002" } });
          entered.open();
          await release.opened;
          throw new Error("the engine failed");
        },
        { maxWait: 10_000, timeout: 10_000 },
      )
      .catch((error: unknown) => error);
    await entered.opened;
    // Meanwhile another path writes one row outside any transaction (Prisma sends a lone INSERT
    // without BEGIN): on a shared connection it would run inside the inbox's transaction.
    // (A Prisma query starts when awaited: `.then` sends it now.)
    const worker = t.db.resident.create({ data: { phone: "+9613000001", profileName: "Rania" } }).then((row) => row);
    await tick(50);
    release.open();
    await worker;
    expect(await inbox).toBeInstanceOf(Error);

    expect((await t.db.resident.findFirst({ where: { phone: "+9613000001" } }))?.profileName).toBe("Rania");
    expect(await t.db.resident.count({ where: { phone: "+9613000002" } })).toBe(0);
  });

  it("reads and writes from many paths at once all land", async () => {
    const before = await t.db.resident.count();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? t.db.$transaction(async (tx) => {
              await tx.resident.create({ data: { phone: `+96171000${String(i).padStart(3, "0")}` } });
              await tick(2);
            })
          : i % 3 === 1
            ? t.db.resident.create({ data: { phone: `+96171000${String(i).padStart(3, "0")}` } })
            : t.db.resident.count(),
      ),
    );
    expect(await t.db.resident.count()).toBe(before + 20);
  });
});

describe("two processes on one database file (a second instance, or npm run chat beside the server)", () => {
  it("transactions that read, then write, wait for each other instead of failing with SQLITE_BUSY", async () => {
    const before = await t.db.resident.count();
    let otherDone = false;
    const otherProcess = runCommand("test/support/sqliteWriter.ts", [t.url, "+96178", "40"]).finally(() => (otherDone = true));
    // Like the inbox under a burst: read, then write, with the next transaction always queued behind
    // the current one, for as long as the other process runs — this process never leaves the write
    // lock free of its own accord, so the other one must be given a turn.
    const failures: string[] = [];
    let written = 0;
    let next = 0;
    const oneAfterAnother = async () => {
      while (!otherDone && next < 4_000) {
        const phone = `+96177${String(next++).padStart(4, "0")}`;
        await t.db
          .$transaction(
            async (tx) => {
              await tx.resident.count();
              await tick(2);
              await tx.resident.create({ data: { phone } });
            },
            { maxWait: 20_000, timeout: 20_000 },
          )
          .then(
            () => written++,
            (error: unknown) => failures.push(String(error).slice(0, 300)),
          );
      }
    };
    await Promise.all(Array.from({ length: 4 }, oneAfterAnother));
    const there = await otherProcess;
    expect(there.stderr).toBe("");
    expect(JSON.parse(there.stdout)).toEqual({ errors: [] });
    expect(failures).toEqual([]);
    expect(await t.db.resident.count()).toBe(before + written + 40);
  }, 60_000);
});

describe.skipIf(Boolean(process.env.TEST_DATABASE_URL))("SQLite's durability setting (SQLITE_SYNCHRONOUS)", () => {
  const synchronous = async (db: Awaited<ReturnType<typeof createDb>>) => Number((await db.$queryRawUnsafe<{ synchronous: bigint }[]>("PRAGMA synchronous"))[0]!.synchronous);
  it("syncs at WAL checkpoints by default (NORMAL = 1), at every commit when asked (FULL = 2)", async () => {
    const byDefault = await createDb(t.url);
    const full = await createDb(t.url, { sqliteSynchronous: "full" });
    expect([await synchronous(byDefault), await synchronous(full)]).toEqual([1, 2]);
    await Promise.all([byDefault.$disconnect(), full.$disconnect()]);
  });
});

describe.skipIf(Boolean(process.env.TEST_DATABASE_URL))("another process holding SQLite's write lock", () => {
  it("does not freeze this process: it keeps answering, and the write lands once the lock is let go", async () => {
    const other = new Database(t.url.replace(/^file:/, ""));
    other.exec("BEGIN IMMEDIATE");
    let landed = false;
    const write = t.db.resident.create({ data: { phone: "+96176000001" } }).then(() => (landed = true));
    // A timer still fires while the write waits: the event loop is free (a busy_timeout would block it).
    const started = performance.now();
    await tick(30);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(landed).toBe(false);
    other.exec("COMMIT");
    other.close();
    await write;
    expect(await t.db.resident.count({ where: { phone: "+96176000001" } })).toBe(1);
  });
});

describe("the SQLite queue when a transaction cannot end normally", () => {
  type Factory = ConstructorParameters<typeof SerializedSqlite>[0];
  type Adapter = Awaited<ReturnType<Factory["connect"]>>;
  const result = { columnNames: [], columnTypes: [], rows: [] };

  /** A connection whose COMMIT fails (a full disk): SQLite has rolled the transaction back itself. */
  function diskFullConnection() {
    const calls: string[] = [];
    const fake = {
      client: {},
      provider: "sqlite",
      adapterName: "fake",
      queryRaw: async (q: { sql: string }) => (calls.push(q.sql), result),
      executeRaw: async (q: { sql: string }) => {
        calls.push(q.sql);
        if (q.sql === "COMMIT") throw new Error("database or disk is full");
        if (q.sql === "ROLLBACK") throw new Error("cannot rollback - no transaction is active");
        return 0;
      },
      executeScript: async () => undefined,
      dispose: async () => undefined,
      startTransaction: async () => {
        throw new Error("the adapter's own transactions are not used");
      },
    } as unknown as Adapter;
    return { calls, factory: { adapterName: "fake", connect: async () => fake } as unknown as Factory };
  }
  const query = (sql: string) => ({ sql, args: [], argTypes: [] });

  it("a failed COMMIT ends the transaction and frees the queue for everyone else", async () => {
    const { calls, factory } = diskFullConnection();
    const adapter = await new SerializedSqlite(factory).connect();
    const tx = await adapter.startTransaction();
    await tx.executeRaw(query("INSERT INTO x VALUES (1)"));
    // What Prisma does: COMMIT, then commit() — never reached when COMMIT throws.
    await expect(tx.executeRaw(query("COMMIT"))).rejects.toThrow("disk is full");

    const next = await Promise.race([adapter.queryRaw(query("SELECT 1")).then(() => "answered"), tick(2_000).then(() => "still waiting")]);
    expect(next).toBe("answered");
    expect(calls).toEqual(["BEGIN IMMEDIATE", "INSERT INTO x VALUES (1)", "COMMIT", "ROLLBACK", "SELECT 1"]);
    // What Prisma then does: nothing more; a late commit() changes nothing either.
    await tx.commit();
    const tx2 = await Promise.race([adapter.startTransaction(), tick(2_000).then(() => null)]);
    expect(tx2).not.toBeNull();
  });
});
