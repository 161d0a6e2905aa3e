import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiTokenFor } from "../../src/cli/createApiToken.js";
import { createStaff } from "../../src/services/staff.js";
import { runCommand } from "../support/runCommand.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

let world: Awaited<ReturnType<typeof createTestWorld>>;
beforeAll(async () => {
  world = await createTestWorld();
  await world.db.$transaction(async (tx) => {
    const make = (username: string, role: "admin" | "agent", departments: string[]) =>
      createStaff(tx, { municipalityId: MUNICIPALITY, username, displayName: username, password: `${username}-password-123`, role, departments, locale: "ar" });
    await make("hala", "admin", []);
    await make("rania", "agent", ["public_works"]);
    const gone = await make("former", "agent", ["water"]);
    await tx.staff.update({ where: { id: gone.id }, data: { active: false } });
  });
});
afterAll(async () => {
  await world.drop();
});

/** Runs `npm run staff:api-token -- ...args` as an operator would, on the world's database. */
const run = async (args: string[]) => {
  // Let go of the database while the command prepares it (Prisma's migrate engine wants a SQLite file alone).
  await world.db.$disconnect();
  return runCommand("src/cli/createApiToken.ts", args, { DATABASE_URL: world.url });
};

const TOKEN_LINE = /^bld_[A-Za-z0-9_-]{32}\n$/;

describe("npm run staff:api-token", () => {
  it("prints a new token once, alone on stdout, with a note on stderr; the token works against the API", async () => {
    const result = await run(["--username", "hala", "--name", "GIS sync"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(TOKEN_LINE);
    expect(result.stderr.trim()).toBe(
      'Created the API token "GIS sync" for hala (admin). It is shown only this once: store it now. Send it as Authorization: Bearer <token>; revoke it in the staff pages (Admin → API tokens).',
    );
    const token = result.stdout.trim();

    const record = await world.db.apiToken.findFirstOrThrow({ where: { name: "GIS sync" }, include: { staff: true } });
    expect(record.staff.username).toBe("hala");
    expect(record.prefix).toBe(token.slice(0, 10));
    expect(record.tokenHash).not.toContain(token.slice(4));

    const surveys = await request(world.app).get("/api/v1/surveys").set("Authorization", `Bearer ${token}`);
    expect(surveys.status).toBe(200);
    expect(surveys.body).toEqual({ surveys: [] });
    const created = await request(world.app)
      .post("/api/v1/surveys")
      .set("Authorization", `Bearer ${token}`)
      .send({ title: "Playgrounds", questions: [{ type: "yesno", text: { ar: "هل يوجد ملعب قريب؟", en: "Is there a playground nearby?" } }] });
    expect(created.status).toBe(201);
  }, 60_000);

  it("a token acts with its staff member's role: an agent's reads tickets but may not run surveys", async () => {
    const result = await run(["--username", "Rania", "--name", "ticket export"]);
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect((await request(world.app).get("/api/v1/tickets").set("Authorization", `Bearer ${token}`)).status).toBe(200);
    expect((await request(world.app).get("/api/v1/surveys").set("Authorization", `Bearer ${token}`)).status).toBe(403);
  }, 60_000);

  it.each([
    ["an unknown username", ["--username", "ghost", "--name", "x"], "No active staff account named ghost."],
    ["a deactivated staff member", ["--username", "former", "--name", "x"], "No active staff account named former."],
    ["a missing --name", ["--username", "hala"], "Give --username (the staff member the token acts as) and --name"],
    ["a blank name", ["--username", "hala", "--name", "  "], "The token's name must be 1–80 characters."],
  ])("refuses %s with a clear message and exit code 1, printing no token", async (_case, args, message) => {
    const before = await world.db.apiToken.count();
    const result = await run(args);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await world.db.apiToken.count()).toBe(before);
  }, 60_000);

  it("speaks Arabic with --ui ar", async () => {
    const result = await run(["--ui", "ar", "--username", "ghost", "--name", "x"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("لا يوجد حساب موظف فعّال باسم ghost.");
  }, 60_000);
});

describe("createApiTokenFor", () => {
  it("creates a token for an active staff member, and refuses the others", async () => {
    const ok = await createApiTokenFor(world.db, MUNICIPALITY, { username: "hala", name: "  nightly report " });
    expect(ok).toMatchObject({ ok: true, role: "admin", token: expect.stringMatching(/^bld_/) });
    expect(await world.db.apiToken.count({ where: { name: "nightly report" } })).toBe(1);
    expect(await createApiTokenFor(world.db, MUNICIPALITY, { username: "former", name: "x" })).toEqual({ ok: false, error: "unknown_user" });
    expect(await createApiTokenFor(world.db, "zahle", { username: "hala", name: "x" })).toEqual({ ok: false, error: "unknown_user" });
    expect(await createApiTokenFor(world.db, MUNICIPALITY, { username: "hala", name: "x".repeat(81) })).toEqual({ ok: false, error: "bad_name" });
  });
});
