import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../../src/db/createDb.js";
import {
  clientForKey,
  createOpen311Client,
  listOpen311Clients,
  MAX_CLIENT_NAME,
  readClientName,
  revokeOpen311Client,
} from "../../../src/services/open311/clients.js";
import { createStaff } from "../../../src/services/staff.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

const MUNICIPALITY = "qab-elias";
const KEY = /^o311_[A-Za-z0-9_-]{32}$/;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let database: TestDatabase;
let db: Db;
let halaId: number;
let residentId: number;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  halaId = (await createStaff(db, { municipalityId: MUNICIPALITY, username: "hala", displayName: "Hala", password: "hala-admin-pass", role: "admin", departments: [], locale: "ar" })).id;
  residentId = (await db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96170111222" } })).id;
});
afterAll(async () => {
  await database.drop();
});

const at = (iso: string) => new Date(iso);

/** A new client; fails the test when the service refuses it. */
async function newClient(name: string, fields: { municipalityId?: string; createdById?: number | null; now?: Date } = {}) {
  const result = await createOpen311Client(db, { municipalityId: fields.municipalityId ?? MUNICIPALITY, name, createdById: fields.createdById ?? null, now: fields.now ?? at("2026-12-01T08:00:00Z") });
  if (!result.ok) throw new Error(`refused: ${result.problem}`);
  return result;
}

let nextReference = 70_000;
/** A request the client filed (the ticket and the Open311Submission row the filing writes). */
async function filedBy(clientId: number) {
  const ticket = await db.ticket.create({ data: { municipalityId: MUNICIPALITY, reference: ++nextReference, residentId, description: "حفرة بالطريق", channel: "open311", locale: "ar" } });
  await db.open311Submission.create({ data: { municipalityId: MUNICIPALITY, ticketId: ticket.id, clientId, serviceCode: "roads", fingerprint: `test-${ticket.id}` } });
}

describe("readClientName", () => {
  it.each([
    ["a plain name", "FixMyStreet Lebanon", "FixMyStreet Lebanon"],
    ["an Arabic name", "موقع بلدية قب الياس", "موقع بلدية قب الياس"],
    ["surrounding spaces, trimmed", "  Town website \u00a0", "Town website"],
    ["inner spaces, kept", "Town   website", "Town   website"],
    ["a decomposed accent, composed (NFC)", "Cafe\u0301 civique", "Café civique"],
    ["right-to-left marks (not controls)", "\u200fبلدية\u200f FixMyStreet", "\u200fبلدية\u200f FixMyStreet"],
    ["exactly the longest name", "ب".repeat(MAX_CLIENT_NAME), "ب".repeat(MAX_CLIENT_NAME)],
  ])("accepts %s", (_case, raw, name) => {
    expect(readClientName(raw)).toEqual({ ok: true, name });
  });

  it.each([
    ["an empty name", "", "blank"],
    ["spaces only", "   ", "blank"],
    ["a line break", "Fix\nMyStreet", "control"],
    ["a tab", "Fix\tMyStreet", "control"],
    ["a NUL", "Fix\u0000", "control"],
    ["a C1 control", "Fix\u0085MyStreet", "control"],
    ["a right-to-left override (reads as another name)", "\u202etnemllib", "control"],
    ["a bidi isolate", "Fix\u2066MyStreet\u2069", "control"],
    ["one character too many", "x".repeat(MAX_CLIENT_NAME + 1), "too_long"],
  ])("refuses %s", (_case, raw, problem) => {
    expect(readClientName(raw)).toEqual({ ok: false, problem });
  });
});

describe("createOpen311Client", () => {
  it("returns the key once and stores only its hash and first characters", async () => {
    const { key, record } = await newClient("  FixMyStreet Lebanon ", { createdById: halaId });
    expect(key).toMatch(KEY);
    const stored = await db.open311Client.findUniqueOrThrow({ where: { id: record.id } });
    expect(stored).toMatchObject({ name: "FixMyStreet Lebanon", municipalityId: MUNICIPALITY, createdById: halaId, prefix: key.slice(0, 11), keyHash: sha256(key), lastUsedAt: null, revokedAt: null });
    // The key itself is in no column: only its hash and its first 11 characters.
    expect(JSON.stringify(stored)).not.toContain(key.slice(5));
  });

  it("gives every client a different key", async () => {
    const keys = await Promise.all(["One", "Two", "Three"].map(async (name) => (await newClient(name)).key));
    expect(new Set(keys).size).toBe(3);
  });

  it("refuses a bad name and writes nothing", async () => {
    const before = await db.open311Client.count();
    expect(await createOpen311Client(db, { municipalityId: MUNICIPALITY, name: "   ", createdById: null, now: new Date() })).toEqual({ ok: false, problem: "blank" });
    expect(await createOpen311Client(db, { municipalityId: MUNICIPALITY, name: "a\nb", createdById: null, now: new Date() })).toEqual({ ok: false, problem: "control" });
    expect(await db.open311Client.count()).toBe(before);
  });
});

describe("clientForKey", () => {
  it("knows the client holding a key and records when it was used", async () => {
    const { key, record } = await newClient("Town website");
    const now = at("2026-12-02T09:30:00Z");
    expect(await clientForKey(db, MUNICIPALITY, key, now)).toEqual({ id: record.id, name: "Town website" });
    expect((await db.open311Client.findUniqueOrThrow({ where: { id: record.id } })).lastUsedAt).toEqual(now);
  });

  it("refuses the key once it is revoked; revoking twice, or from another municipality, does nothing", async () => {
    const { key, record } = await newClient("Old dashboard");
    expect(await revokeOpen311Client(db, "zahle", record.id, at("2026-12-03T10:00:00Z"))).toBe(false);
    expect(await clientForKey(db, MUNICIPALITY, key, new Date())).not.toBeNull();
    expect(await revokeOpen311Client(db, MUNICIPALITY, record.id, at("2026-12-03T10:00:00Z"))).toBe(true);
    expect(await revokeOpen311Client(db, MUNICIPALITY, record.id, at("2026-12-04T10:00:00Z"))).toBe(false);
    expect((await db.open311Client.findUniqueOrThrow({ where: { id: record.id } })).revokedAt).toEqual(at("2026-12-03T10:00:00Z"));
    expect(await clientForKey(db, MUNICIPALITY, key, new Date())).toBeNull();
  });

  it("refuses a key revoked between its lookup and its use", async () => {
    const { key, record } = await newClient("Racing client");
    // The revocation commits right after clientForKey has read the client (another admin, another instance).
    const racing = {
      open311Client: {
        findUnique: async (args: Parameters<Db["open311Client"]["findUnique"]>[0]) => {
          const found = await db.open311Client.findUnique(args);
          await revokeOpen311Client(db, MUNICIPALITY, record.id, new Date());
          return found;
        },
        update: db.open311Client.update.bind(db.open311Client),
        updateMany: db.open311Client.updateMany.bind(db.open311Client),
      },
    } as unknown as Db;
    expect(await clientForKey(racing, MUNICIPALITY, key, new Date())).toBeNull();
    expect((await db.open311Client.findUniqueOrThrow({ where: { id: record.id } })).lastUsedAt).toBeNull();
  });

  it("refuses another municipality's key, and leaves it unused", async () => {
    const { key, record } = await newClient("Zahle website", { municipalityId: "zahle" });
    expect(await clientForKey(db, MUNICIPALITY, key, new Date())).toBeNull();
    expect((await db.open311Client.findUniqueOrThrow({ where: { id: record.id } })).lastUsedAt).toBeNull();
    expect(await clientForKey(db, "zahle", key, new Date())).toEqual({ id: record.id, name: "Zahle website" });
  });

  it("refuses missing, malformed and unknown keys", async () => {
    const { key } = await newClient("Shape check");
    const unknown = `o311_${"A".repeat(32)}`;
    for (const bad of ["", " ", key.slice(0, -1), `${key}x`, ` ${key}`, `${key}\n`, key.toUpperCase(), key.replace("o311_", "bld_"), sha256(key), unknown]) {
      expect(await clientForKey(db, MUNICIPALITY, bad, new Date()), JSON.stringify(bad)).toBeNull();
    }
    // The right key still works: the refusals above were about the keys, not the client.
    expect(await clientForKey(db, MUNICIPALITY, key, new Date())).not.toBeNull();
  });
});

describe("listOpen311Clients", () => {
  it("lists a municipality's clients newest first, with who made them and how many requests each filed, never a key", async () => {
    const older = await newClient("Filing tool", { createdById: halaId, now: at("2027-01-01T08:00:00Z") });
    const newer = await newClient("Command-line tool", { now: at("2027-01-02T08:00:00Z") });
    await newClient("Zahle tool", { municipalityId: "zahle", now: at("2027-01-03T08:00:00Z") });
    await filedBy(older.record.id);
    await filedBy(older.record.id);
    await revokeOpen311Client(db, MUNICIPALITY, older.record.id, at("2027-01-04T08:00:00Z"));

    const list = await listOpen311Clients(db, MUNICIPALITY);
    expect(list.map((c) => c.name).slice(0, 2)).toEqual(["Command-line tool", "Filing tool"]);
    expect(list.some((c) => c.name === "Zahle tool")).toBe(false);
    expect(list[0]).toEqual({ id: newer.record.id, name: "Command-line tool", prefix: newer.key.slice(0, 11), createdAt: at("2027-01-02T08:00:00Z"), lastUsedAt: null, revokedAt: null, createdBy: null, _count: { submissions: 0 } });
    // Revoked, its requests stay counted.
    expect(list[1]).toMatchObject({ createdBy: { displayName: "Hala" }, revokedAt: at("2027-01-04T08:00:00Z"), _count: { submissions: 2 } });
    expect(JSON.stringify(list)).not.toContain(older.key);
    expect(JSON.stringify(list)).not.toContain(sha256(older.key));
  });
});
