import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientForKey } from "../../src/services/open311/clients.js";
import { runCommand } from "../support/runCommand.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

let world: Awaited<ReturnType<typeof createTestWorld>>;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

/** Runs `npm run open311:key -- ...args` as an operator would, on the world's database. */
const run = async (args: string[]) => {
  // Let go of the database while the command prepares it (Prisma's migrate engine wants a SQLite file alone).
  await world.db.$disconnect();
  return runCommand("src/cli/createOpen311Key.ts", args, { DATABASE_URL: world.url, PUBLIC_BASE_URL: "https://baladiya.example.org" });
};

const KEY_LINE = /^o311_[A-Za-z0-9_-]{32}\n$/;

describe("npm run open311:key", () => {
  it("prints a new key once, alone on stdout, with a note on stderr; Open311 accepts the key", async () => {
    const result = await run(["  FixMyStreet Lebanon "]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(KEY_LINE);
    expect(result.stderr.trim()).toBe(
      'Created the Open311 key of "FixMyStreet Lebanon". It is shown only this once: store it now. The client sends it as api_key with POST https://baladiya.example.org/open311/v2/requests.json; revoke it in the staff pages (Admin → Open311 clients: https://baladiya.example.org/staff/admin/open311-clients).',
    );
    const key = result.stdout.trim();

    const record = await world.db.open311Client.findFirstOrThrow({ where: { name: "FixMyStreet Lebanon" } });
    expect(record).toMatchObject({ municipalityId: MUNICIPALITY, createdById: null, prefix: key.slice(0, 11), revokedAt: null });
    expect(record.keyHash).not.toContain(key.slice(5));
    expect(await clientForKey(world.db, MUNICIPALITY, key, new Date())).toEqual({ id: record.id, name: "FixMyStreet Lebanon" });
  }, 60_000);

  it("speaks Arabic with --ui ar, and takes an Arabic name", async () => {
    const result = await run(["--ui", "ar", "موقع البلدية"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(KEY_LINE);
    expect(result.stderr).toContain('أُنشئ مفتاح Open311 للجهة "موقع البلدية". لن يظهر إلا هذه المرة: احفظه الآن.');
    expect(await clientForKey(world.db, MUNICIPALITY, result.stdout.trim(), new Date())).toMatchObject({ name: "موقع البلدية" });
  }, 60_000);

  it.each([
    ["a blank name", ["   "], "The client's name is blank: enter a name."],
    ["a name with a line break", ["Fix\nMyStreet"], "The client's name cannot contain line breaks, tabs or other control characters."],
    ["a name too long", ["x".repeat(101)], "The client's name is too long: 100 characters at most."],
    ["no name", [], "Give the client's name, e.g. npm run open311:key -- \"FixMyStreet Lebanon\"."],
    ["a name in several pieces", ["FixMyStreet", "Lebanon"], "Give the name as one argument, in quotes"],
    ["an unknown option", ["--name", "FixMyStreet"], "Unknown option --name."],
    ["a blank name, in Arabic", ["--ui", "ar", ""], "اسم الجهة فارغ: أدخل اسماً."],
  ])("refuses %s with a clear message and exit code 1, printing no key", async (_case, args, message) => {
    const before = await world.db.open311Client.count();
    const result = await run(args);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await world.db.open311Client.count()).toBe(before);
  }, 60_000);

  it("--help prints the usage", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: npm run open311:key -- "Client name" [--ui ar|en]');
  }, 60_000);
});
