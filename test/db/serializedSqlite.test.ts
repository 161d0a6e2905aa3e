import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
