import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeStatus, replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

let world: World;
let rania: Actor;
beforeAll(async () => {
  world = await createTestWorld();
  rania = await staffMember(world, { username: "rania", departments: ["public_works"] });
});
afterAll(async () => {
  await world.drop();
});

const at = (iso: string) => new Date(iso);
const ctx = (now: Date) => ({ ...world.deps.outbox, now });
const ticketOf = (reference: number) => world.db.ticket.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, reference } });
const setColumns = (reference: number, data: { status?: string; waitingSince?: Date | null; reopenedAt?: Date | null; firstResponseAt?: Date | null }) =>
  world.db.ticket.updateMany({ where: { municipalityId: MUNICIPALITY, reference }, data });

describe("a staff reply", () => {
  it("is the first response once, and ends the resident's wait each time", async () => {
    const { reference } = await residentFiles(world);
    await setColumns(reference, { waitingSince: at("2026-03-01T08:00:00Z"), firstResponseAt: null, reopenedAt: at("2026-03-01T08:00:00Z"), status: "new" });
    await world.db.$transaction((tx) => replyToTicket(tx, ctx(at("2026-03-01T09:00:00Z")), rania, reference, "On our way"));
    expect(await ticketOf(reference)).toMatchObject({ status: "in_progress", firstResponseAt: at("2026-03-01T09:00:00Z"), waitingSince: null, reopenedAt: null });

    await setColumns(reference, { waitingSince: at("2026-03-01T10:00:00Z") });
    await world.db.$transaction((tx) => replyToTicket(tx, ctx(at("2026-03-01T11:00:00Z")), rania, reference, "Tomorrow morning"));
    expect(await ticketOf(reference)).toMatchObject({ firstResponseAt: at("2026-03-01T09:00:00Z"), waitingSince: null });
  });

  it("on a ticket already in progress keeps its reopened mark (no status change)", async () => {
    const { reference } = await residentFiles(world);
    await setColumns(reference, { status: "in_progress", reopenedAt: at("2026-03-02T08:00:00Z") });
    await world.db.$transaction((tx) => replyToTicket(tx, ctx(at("2026-03-02T09:00:00Z")), rania, reference, "Checking"));
    expect(await ticketOf(reference)).toMatchObject({ reopenedAt: at("2026-03-02T08:00:00Z") });
  });
});

describe("a staff status change", () => {
  it.each([
    ["in_progress", { waitingSince: at("2026-03-03T08:00:00Z"), reopenedAt: null }],
    ["waiting_staff", { waitingSince: at("2026-03-03T08:00:00Z"), reopenedAt: null }],
    ["resolved", { waitingSince: null, reopenedAt: null }],
    ["closed", { waitingSince: null, reopenedAt: null }],
  ])("to %s clears the reopened mark, and the wait when it ends the request", async (status, expected) => {
    const { reference } = await residentFiles(world);
    await setColumns(reference, { status: "new", waitingSince: at("2026-03-03T08:00:00Z"), reopenedAt: at("2026-03-03T08:00:00Z") });
    const result = await world.db.$transaction((tx) => changeStatus(tx, ctx(at("2026-03-03T09:00:00Z")), rania, reference, status));
    expect(result).toMatchObject({ ok: true, outcome: "changed" });
    expect(await ticketOf(reference)).toMatchObject({ status, ...expected });
  });

  it("asked to check first, answers with the resident's notice and writes nothing", async () => {
    const { reference } = await residentFiles(world);
    const before = await ticketOf(reference);
    const result = await world.db.$transaction((tx) => changeStatus(tx, ctx(new Date()), rania, reference, "closed", "Filled in", { askFirst: true }));
    expect(result).toEqual({ ok: true, outcome: "confirm", notice: { body: `أغلق طلبك #${reference}. إن بقيت المشكلة، أرسل 1.`, channel: "sms", locale: "ar", optedOut: false } });
    expect(await ticketOf(reference)).toEqual(before);
    expect(await world.db.ticketEvent.count({ where: { ticketId: before.id, kind: { not: "created" } } })).toBe(0);
    expect(await world.db.message.count({ where: { ticketId: before.id, kind: "notification" } })).toBe(0);
    // A change that tells nobody does not ask.
    expect(await world.db.$transaction((tx) => changeStatus(tx, ctx(new Date()), rania, reference, "in_progress", undefined, { askFirst: true }))).toMatchObject({ outcome: "changed" });
  });

  it("confirmed twice at the same moment (a double click), closes once and tells the resident once", async () => {
    const { reference } = await residentFiles(world);
    const results = await Promise.all([1, 2, 3].map(() => world.db.$transaction((tx) => changeStatus(tx, ctx(new Date()), rania, reference, "closed"))));
    expect(results.map((r) => (r.ok ? r.outcome : r.error)).sort()).toEqual(["changed", "unchanged", "unchanged"]);
    const ticket = await ticketOf(reference);
    expect(await world.db.message.count({ where: { ticketId: ticket.id, kind: "notification" } })).toBe(1);
    expect(await world.db.ticketEvent.count({ where: { ticketId: ticket.id, kind: "status_changed" } })).toBe(1);
  });
});
