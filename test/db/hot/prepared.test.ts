import { sql, type Compilable, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { DB } from "../../../src/generated/kysely/tables.js";
import { openHot, type HotDb } from "../../../src/db/hot/connect.js";
import { conversationState, insertInbound, saveConversation, storedReplies, updateMessage } from "../../../src/db/hot/inbox.js";
import { prepared, PreparedQueryError, type PreparedParams } from "../../../src/db/hot/prepared.js";
import { recentExchange, residentForInbound } from "../../../src/db/hot/residents.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

// Queries built and compiled once (src/db/hot/prepared.ts), against a real database (SQLite, or
// PostgreSQL with TEST_DATABASE_URL): each is compared with the same Kysely query built per call.

const M = "qab-elias";
let t: TestDatabase;
let hot: HotDb;

beforeAll(async () => {
  t = await createTestDatabase();
  hot = t.hot.db;
});
afterAll(async () => {
  await t.drop();
});

const NOW = new Date("2026-11-29T09:00:00.123Z");
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

let phones = 0;
const nextPhone = () => `+9617${String(2_000_000 + ++phones).slice(1)}`;
const resident = (fields: { profileName?: string; optedOut?: boolean } = {}) => t.db.resident.create({ data: { municipalityId: M, phone: nextPhone(), locale: "ar", ...fields } });

async function message(residentId: number, fields: { direction?: string; kind?: string; body?: string; createdAt?: Date; inReplyToId?: number } = {}) {
  return t.db.message.create({
    data: {
      municipalityId: M,
      residentId,
      direction: fields.direction ?? "inbound",
      kind: fields.kind ?? "resident",
      channel: "whatsapp",
      body: fields.body ?? "مرحبا",
      status: "received",
      createdAt: fields.createdAt ?? NOW,
      inReplyToId: fields.inReplyToId ?? null,
    },
  });
}

/** Runs one build both ways: prepared, and built with the real values then executed (as before). */
function bothWays<P extends PreparedParams, O>(build: (db: Kysely<DB>, p: P) => Compilable<O> & { execute(): Promise<O[]> }) {
  const query = prepared(build);
  return {
    dynamic: (params: P) => build(hot, params).execute(),
    prepared: (params: P) => query.all(hot, params),
  };
}

describe("prepared", () => {
  it("returns what the query built per call returns: dates, booleans, nulls, constants kept", async () => {
    const r = await resident({ profileName: "Rima", optedOut: true });
    const other = await resident();
    const q = bothWays((db, p: { municipalityId: string; phone: string }) =>
      db
        .selectFrom("Resident")
        .select(["id", "locale", "optedOut", "botPausedAt", "botPauseReason", "profileName", "createdAt"])
        .where("municipalityId", "=", p.municipalityId)
        .where("phone", "=", p.phone)
        // A constant: a parameter of the compiled query that is not one of ours, kept as it is.
        .where("optedOut", "=", true),
    );
    const params = { municipalityId: M, phone: r.phone };
    const rows = await q.prepared(params);
    expect(rows).toEqual(await q.dynamic(params));
    expect(rows).toEqual([{ id: r.id, locale: "ar", optedOut: true, botPausedAt: null, botPauseReason: null, profileName: "Rima", createdAt: r.createdAt }]);
    expect(rows[0]!.createdAt).toBeInstanceOf(Date);
    // The constant still filters: this resident has not opted out.
    expect(await q.prepared({ municipalityId: M, phone: other.phone })).toEqual([]);
  });

  it("takes dates and numbers (limit) as parameters, with the same rows as the dynamic query", async () => {
    const r = await resident();
    for (let i = 0; i < 5; i++) await message(r.id, { createdAt: minutes(-i), body: `m${i}` });
    const q = bothWays((db, p: { residentId: number; since: Date; take: number }) =>
      db
        .selectFrom("Message")
        .select(["id", "body", "createdAt"])
        .where("residentId", "=", p.residentId)
        .where("createdAt", ">=", p.since)
        .where((eb) => eb.or([eb("direction", "=", "inbound"), eb("kind", "=", "bot")]))
        .orderBy("createdAt", "desc")
        .limit(p.take),
    );
    for (const params of [
      { residentId: r.id, since: minutes(-3), take: 10 },
      { residentId: r.id, since: minutes(-10), take: 2 },
      { residentId: r.id, since: minutes(1), take: 10 },
    ]) {
      expect(await q.prepared(params)).toEqual(await q.dynamic(params));
    }
    expect((await q.prepared({ residentId: r.id, since: minutes(-3), take: 10 })).map((m) => m.body)).toEqual(["m0", "m1", "m2", "m3"]);
  });

  it("a parameter used twice fills both places", async () => {
    const r = await resident();
    const insert = prepared((db, p: { residentId: number; body: string; at: Date }) =>
      db
        .insertInto("Message")
        .values({ municipalityId: M, residentId: p.residentId, direction: "inbound", channel: "sms", body: p.body, status: "received", createdAt: p.at, updatedAt: p.at })
        .returning(["id", "createdAt", "updatedAt"]),
    );
    const row = await insert.firstOrThrow(hot, { residentId: r.id, body: "twice", at: minutes(7) });
    expect(row).toEqual({ id: expect.any(Number), createdAt: minutes(7), updatedAt: minutes(7) });
    const either = prepared((db, p: { text: string }) => db.selectFrom("Message").select("id").where((eb) => eb.or([eb("body", "=", p.text), eb("locationLabel", "=", p.text)])));
    expect(await either.all(hot, { text: "twice" })).toEqual([{ id: row.id }]);
  });

  it("two parameter sets in a row, or at once, each get their own rows", async () => {
    const a = await resident({ profileName: "A" });
    const b = await resident({ profileName: "B" });
    const byPhone = prepared((db, p: { phone: string }) => db.selectFrom("Resident").select(["id", "profileName"]).where("phone", "=", p.phone));
    expect(await byPhone.first(hot, { phone: a.phone })).toEqual({ id: a.id, profileName: "A" });
    expect(await byPhone.first(hot, { phone: b.phone })).toEqual({ id: b.id, profileName: "B" });
    expect(await byPhone.first(hot, { phone: "+9610000000" })).toBeUndefined();
    const both = await Promise.all([a, b, a, b].map((x) => byPhone.first(hot, { phone: x.phone })));
    expect(both.map((x) => x?.profileName)).toEqual(["A", "B", "A", "B"]);
  });

  it("runs inside a transaction, sees its writes, and rolls back with it", async () => {
    const r = await resident();
    const insert = prepared((db, p: { residentId: number; body: string; at: Date }) =>
      db
        .insertInto("Message")
        .values({ municipalityId: M, residentId: p.residentId, direction: "inbound", channel: "sms", body: p.body, status: "received", createdAt: p.at, updatedAt: p.at })
        .returning("id"),
    );
    const bodies = prepared((db, p: { residentId: number }) => db.selectFrom("Message").select("body").where("residentId", "=", p.residentId).orderBy("id"));
    await expect(
      hot.transaction().execute(async (tx) => {
        await insert.run(tx, { residentId: r.id, body: "rolled back", at: NOW });
        // On PostgreSQL a query outside the transaction would not see the row; on SQLite it would
        // wait for the transaction's connection forever.
        expect(await bodies.all(tx, { residentId: r.id })).toEqual([{ body: "rolled back" }]);
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await bodies.all(hot, { residentId: r.id })).toEqual([]);
    await hot.transaction().execute((tx) => insert.run(tx, { residentId: r.id, body: "committed", at: NOW }));
    expect(await bodies.all(hot, { residentId: r.id })).toEqual([{ body: "committed" }]);
  });

  it("run gives the driver's count of updated rows", async () => {
    const r = await resident();
    await message(r.id);
    await message(r.id);
    const touch = prepared((db, p: { residentId: number; at: Date }) => db.updateTable("Message").set({ updatedAt: p.at }).where("residentId", "=", p.residentId));
    expect((await touch.run(hot, { residentId: r.id, at: NOW })).numAffectedRows).toBe(2n);
    expect((await touch.run(hot, { residentId: -1, at: NOW })).numAffectedRows).toBe(0n);
  });

  it("is built and compiled once per database and plugin list, transactions included", async () => {
    const r = await resident();
    let builds = 0;
    const byId = prepared((db, p: { id: number }) => {
      builds++;
      return db.selectFrom("Resident").select("phone").where("id", "=", p.id);
    });
    for (let i = 0; i < 3; i++) expect(await byId.first(hot, { id: r.id })).toEqual({ phone: r.phone });
    await hot.transaction().execute(async (tx) => {
      expect(await byId.first(tx, { id: r.id })).toEqual({ phone: r.phone });
    });
    await hot.transaction().execute(async (tx) => {
      expect(await byId.first(tx, { id: r.id })).toEqual({ phone: r.phone });
    });
    expect(builds).toBe(1);

    // A plugin changes the SQL: compiled again for it, once.
    const schema = hot.withSchema(t.dialect === "sqlite" ? "main" : "public");
    expect(await byId.first(schema, { id: r.id })).toEqual({ phone: r.phone });
    expect(await byId.first(schema, { id: r.id })).toEqual({ phone: r.phone });
    expect(builds).toBe(2);

    // Another Kysely instance (its own dialect adapter and compiler) compiles its own.
    const second = openHot(t.db, t.url);
    try {
      expect(await byId.first(second.db, { id: r.id })).toEqual({ phone: r.phone });
      expect(await byId.first(second.db, { id: r.id })).toEqual({ phone: r.phone });
    } finally {
      await second.close();
    }
    expect(builds).toBe(3);
    expect(await byId.first(hot, { id: r.id })).toEqual({ phone: r.phone });
    expect(builds).toBe(3);
  });

  it("types rows as the query builder does", () => {
    const select = prepared((db, p: { id: number }) => db.selectFrom("Resident").select(["id", "botPausedAt", "optedOut"]).where("id", "=", p.id));
    expectTypeOf(select.first).returns.resolves.toEqualTypeOf<{ id: number; botPausedAt: Date | null; optedOut: boolean } | undefined>();
    expectTypeOf(select.all).parameter(1).toEqualTypeOf<{ id: number }>();
    const update = prepared((db, p: { id: number }) => db.updateTable("Resident").set({ locale: "en" }).where("id", "=", p.id));
    // A write without `returning` has no rows.
    expectTypeOf(update.all).returns.resolves.toEqualTypeOf<never[]>();
  });
});

describe("prepared refuses, at first use, what it cannot fill", () => {
  const refused = (build: (db: Kysely<DB>, p: { x: string }) => { compile(): unknown }, message: RegExp) =>
    expect(prepared(build as never).all(hot, { x: "a" } as never)).rejects.toThrow(message);

  it("a parameter Kysely inlines into the SQL text", async () => {
    await refused((db, p) => db.selectFrom("Resident").select("id").where("phone", "=", sql.lit(p.x)), /parameter "x" was turned into text/);
    await refused((db, p) => db.selectFrom("Resident").select("id").where((eb) => eb("phone", "=", eb.lit(p.x as never))), /parameter "x" was turned into text/);
    await refused((db, p) => db.selectFrom("Resident").select("id").where("phone", "=", sql.raw<string>(p.x)), /parameter "x" was turned into text/);
    await refused((db, p) => db.selectFrom("Resident").select("id").where("phone", "like", `%${p.x}%`), /parameter "x" was turned into text/);
  });

  it("a parameter read but never sent as a value", async () => {
    const error = await prepared((db, p: { x: string }) => {
      void p.x;
      return db.selectFrom("Resident").select("id");
    })
      .all(hot, { x: "a" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreparedQueryError);
    expect(String(error)).toMatch(/parameter "x" was read while building but is not one of the compiled query's parameters/);
    expect(String(error)).toMatch(/from "Resident"/);
  });

  it("a spread or enumerated parameters object", async () => {
    await refused((db, p) => db.insertInto("Resident").values({ ...p, phone: "+9611" } as never), /enumerated or spread the parameters object/);
  });

  it("a parameter inside a JSON value", async () => {
    await refused((db, p) => db.selectFrom("Resident").select("id").where("phone", "=", { nested: [p.x] } as never), /parameter "x" is inside a list or object value/);
  });

  it("a parameter as the list of an in", async () => {
    await refused((db, p) => db.selectFrom("Resident").select("id").where("phone", "in", p.x as never), /parameter "x" is the list of an "in"/);
    await refused((db, p) => db.selectFrom("Resident").select("id").where((eb) => eb.not(eb("phone", "not in", p.x as never))), /parameter "x" is the list of an "in"/);
  });

  it("a list, an object or undefined as a value", async () => {
    const byPhone = prepared((db, p: { phone: string }) => db.selectFrom("Resident").select("id").where("phone", "=", p.phone));
    await expect(byPhone.all(hot, { phone: ["+9611", "+9612"] as never })).rejects.toThrow(/parameter "phone" is a list; only scalars can be prepared/);
    await expect(byPhone.all(hot, { phone: { a: 1 } as never })).rejects.toThrow(/parameter "phone" is an object/);
    await expect(byPhone.all(hot, {} as never)).rejects.toThrow(/parameter "phone" is undefined \(pass null for NULL\)/);
    expect(await byPhone.all(hot, { phone: "+9610000001" })).toEqual([]);
  });

  it("keeps refusing on later calls", async () => {
    let builds = 0;
    const bad = prepared((db, p: { x: string }) => {
      builds++;
      return db.selectFrom("Resident").select("id").where("phone", "=", sql.lit(p.x));
    });
    await expect(bad.all(hot, { x: "a" })).rejects.toThrow(PreparedQueryError);
    await expect(bad.all(hot, { x: "a" })).rejects.toThrow(PreparedQueryError);
    expect(builds).toBe(2);
  });
});

describe("the per-message queries, prepared", () => {
  it("updateMessage changes only the fields given", async () => {
    const r = await resident();
    const m = await message(r.id, { body: "1234" });
    const ticket = await t.db.ticket.create({ data: { municipalityId: M, reference: 70001, residentId: r.id, description: "", channel: "sms", locale: "ar" } });
    const read = () => t.db.message.findUniqueOrThrow({ where: { id: m.id }, select: { body: true, ticketId: true, updatedAt: true } });
    await updateMessage(hot, m.id, { body: "••••" }, minutes(1));
    expect(await read()).toEqual({ body: "••••", ticketId: null, updatedAt: minutes(1) });
    await updateMessage(hot, m.id, { ticketId: ticket.id }, minutes(2));
    expect(await read()).toEqual({ body: "••••", ticketId: ticket.id, updatedAt: minutes(2) });
    await updateMessage(hot, m.id, { body: "x", ticketId: ticket.id }, minutes(3));
    expect(await read()).toEqual({ body: "x", ticketId: ticket.id, updatedAt: minutes(3) });
    await updateMessage(hot, m.id, { body: undefined }, minutes(4));
    expect(await read()).toEqual({ body: "x", ticketId: ticket.id, updatedAt: minutes(4) });
  });

  it("saveConversation inserts, then updates; conversationState reads it", async () => {
    const r = await resident();
    expect(await conversationState(hot, r.id)).toBeNull();
    await saveConversation(hot, { municipalityId: M, residentId: r.id, state: '{"step":"idle"}', stateVersion: 3, now: NOW, existed: false });
    expect(await conversationState(hot, r.id)).toBe('{"step":"idle"}');
    await saveConversation(hot, { municipalityId: M, residentId: r.id, state: '{"step":"menu"}', stateVersion: 3, now: minutes(1), existed: true });
    // "existed" but gone meanwhile: inserted again; not existed but there: updated (the upsert).
    const other = await resident();
    await saveConversation(hot, { municipalityId: M, residentId: other.id, state: "{}", stateVersion: 3, now: NOW, existed: true });
    await saveConversation(hot, { municipalityId: M, residentId: other.id, state: '{"a":1}', stateVersion: 4, now: minutes(2), existed: false });
    const rows = await t.db.conversation.findMany({ where: { residentId: { in: [r.id, other.id] } }, orderBy: { residentId: "asc" }, select: { state: true, stateVersion: true, createdAt: true, updatedAt: true } });
    expect(rows).toEqual([
      { state: '{"step":"menu"}', stateVersion: 3, createdAt: NOW, updatedAt: minutes(1) },
      { state: '{"a":1}', stateVersion: 4, createdAt: NOW, updatedAt: minutes(2) },
    ]);
  });

  it("residentForInbound creates, then reads, updates the profile name and the channel identity", async () => {
    const phone = nextPhone();
    const who = { municipalityId: M, phone, channel: "whatsapp" as const, route: "twilio" as const, at: NOW };
    const created = await residentForInbound(hot, who);
    expect(created).toEqual({
      id: expect.any(Number),
      locale: null,
      optedOut: false,
      botPausedAt: null,
      botPauseReason: null,
      profileName: null,
      surveyJoinedAt: null,
      surveyLeftAt: null,
      surveyOfferedAt: null,
    });
    expect(await residentForInbound(hot, { ...who, profileName: "Nour", at: minutes(5) })).toEqual({ ...created, profileName: "Nour" });
    expect(await residentForInbound(hot, { ...who, at: minutes(6) })).toEqual({ ...created, profileName: "Nour" });
    const stored = await t.db.resident.findUniqueOrThrow({ where: { id: created.id } });
    expect(stored).toMatchObject({ profileName: "Nour", createdAt: NOW, updatedAt: minutes(5) });
    const identities = await t.db.channelIdentity.findMany({ where: { residentId: created.id } });
    expect(identities).toEqual([{ id: expect.any(Number), municipalityId: M, residentId: created.id, channel: "whatsapp", route: "twilio", address: phone, lastInboundAt: minutes(6), createdAt: NOW }]);
  });

  it("insertInbound, storedReplies and recentExchange", async () => {
    const r = await resident();
    const inbound = { channel: "whatsapp" as const, route: "twilio" as const, providerMessageId: `SM${r.id}`, from: r.phone, text: "hi", media: [], receivedAt: NOW };
    expect(await storedReplies(hot, inbound)).toBeNull();
    const id = await insertInbound(hot, { municipalityId: M, residentId: r.id, message: { ...inbound, location: { latitude: 33.8, longitude: 35.9, address: "Main St" } }, now: NOW });
    expect(await t.db.message.findUniqueOrThrow({ where: { id } })).toMatchObject({ latitude: 33.8, longitude: 35.9, locationLabel: "Main St", media: "[]", kind: "resident", status: "received" });
    expect(await storedReplies(hot, inbound)).toEqual([]);
    await message(r.id, { direction: "outbound", kind: "bot", body: "second", inReplyToId: id, createdAt: minutes(1) });
    await message(r.id, { direction: "outbound", kind: "bot", body: "first", inReplyToId: id, createdAt: minutes(1) });
    expect(await storedReplies(hot, inbound)).toEqual(["second", "first"]);
    const recent = await recentExchange(hot, r.id, minutes(-1), 2);
    expect(recent.map((m) => m.body)).toEqual(["first", "second"]);
    expect((await recentExchange(hot, r.id, minutes(-1), 5)).map((m) => m.body)).toEqual(["first", "second", "hi"]);
  });
});

describe.runIf(Boolean(process.env.TEST_DATABASE_URL))("on PostgreSQL, statements the server keeps", () => {
  it("a prepared query's statement is named, parsed once per connection and reused; other SQL stays unnamed", async () => {
    const byPhone = prepared((db, p: { phone: string }) => db.selectFrom("Resident").select("id").where("phone", "=", p.phone));
    const named = await hot.transaction().execute(async (trx) => {
      await byPhone.first(trx, { phone: "+96170000001" });
      await byPhone.first(trx, { phone: "+96170000002" });
      await trx.selectFrom("Resident").select("id").where("id", "in", [1, 2, 3]).execute();
      return sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements`.execute(trx);
    });
    const ours = named.rows.filter((row) => row.statement === 'select "id" from "Resident" where "phone" = $1');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.name).toMatch(/^k[\w-]{32}$/);
    expect(named.rows.filter((row) => row.statement.includes("in ($1, $2, $3)"))).toEqual([]);
  });
});
