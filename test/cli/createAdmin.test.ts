import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdmin } from "../../src/cli/createAdmin.js";
import { verifyPassword } from "../../src/services/passwords.js";
import { MUNICIPALITY } from "../support/testApp.js";
import { runCommand } from "../support/runCommand.js";
import { createTestDatabase, type TestDatabase } from "../support/testDb.js";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** Runs `npm run staff:create-admin -- ...args` as an operator would. */
const run = (args: string[], env: Record<string, string> = {}) => runCommand("src/cli/createAdmin.ts", args, env);

describe("npm run staff:create-admin", () => {
  it("creates an administrator who can sign in", async () => {
    await database.db.$disconnect(); // the command migrates the file: leave it alone meanwhile
    const result = await run(["--username", "mayor", "--password", "a-strong-password", "--display-name", "The Mayor"], { DATABASE_URL: database.url });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Created the administrator mayor. Sign in at http://localhost:3000/staff/login");
    const staff = await database.db.staff.findFirstOrThrow({ where: { username: "mayor" } });
    expect(staff).toMatchObject({ role: "admin", displayName: "The Mayor", active: true });
    expect(await verifyPassword("a-strong-password", staff.passwordHash)).toBe(true);
    // A real process hashes at the production cost (only the test suite's own process is cheaper).
    expect(staff.passwordHash).toMatch(/^scrypt\$131072\$8\$1\$/);
  }, 120_000);

  it("refuses a username that is taken, with a clear message and exit code 1", async () => {
    const other = await createTestDatabase();
    try {
      await createAdmin(other.db, MUNICIPALITY, { username: "mayor", password: "the-first-password" });
      // Let go of the file while the command migrates it (Prisma's migrate engine wants it alone).
      await other.db.$disconnect();
      const result = await run(["--username", "mayor", "--password", "another-strong-password"], { DATABASE_URL: other.url });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe("A staff account named mayor already exists.");
      expect(await other.db.staff.count({ where: { username: "mayor" } })).toBe(1);
    } finally {
      await other.drop();
    }
  }, 120_000);

  it("refuses a password shorter than 10 characters, with a clear message and exit code 1", async () => {
    const result = await run(["--username", "deputy", "--password", "short"], { DATABASE_URL: database.url });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("The password must be at least 10 characters.");
  }, 60_000);

  it("without a terminal to ask on, says what is missing", async () => {
    const result = await run(["--username", "deputy"], { DATABASE_URL: database.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Give --username and --password");
  }, 60_000);
});

describe("createAdmin", () => {
  it("refuses a username that exists, and writes nothing", async () => {
    await createAdmin(database.db, MUNICIPALITY, { username: "clerk", password: "clerk-password-1" });
    const again = await createAdmin(database.db, MUNICIPALITY, { username: "clerk", password: "another-password" });
    expect(again).toEqual({ ok: false, error: "exists" });
    const clerk = await database.db.staff.findFirstOrThrow({ where: { username: "clerk" } });
    expect(await verifyPassword("clerk-password-1", clerk.passwordHash)).toBe(true);
  });

  it.each([
    [{ username: "Bad Name", password: "long-enough-password" }, "bad_username"],
    [{ username: "ok.name", password: "123456789" }, "short_password"],
  ] as const)("refuses %o", async (input, error) => {
    expect(await createAdmin(database.db, MUNICIPALITY, input)).toEqual({ ok: false, error });
    expect(await database.db.staff.count({ where: { username: input.username } })).toBe(0);
  });
});
