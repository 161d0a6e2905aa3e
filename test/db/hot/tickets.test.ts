import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewPaymentReport, NewTicket } from "../../../src/conversation/types.js";
import type { HotDb } from "../../../src/db/hot/connect.js";
import { FINANCE_DEPARTMENT, reportPayment } from "../../../src/db/hot/payments.js";
import {
  fileTicket,
  freeReference,
  linkMessagesToTicket,
  openTicketsOf,
  reopenByResident,
  residentAnswered,
  residentTicket,
  staffThreadOf,
} from "../../../src/db/hot/tickets.js";
import { seedCategories } from "../../../src/services/seed.js";
import { createTestDatabase, type TestDatabase } from "../../support/testDb.js";

// The hot path's ticket and payment queries, against a real database: fixtures written and results
// checked with Prisma, so every test is also a round trip between Prisma and Kysely.

const M = "qab-elias";
const OTHER_TOWN = "zahle";
let t: TestDatabase;
let hot: HotDb;

beforeAll(async () => {
  t = await createTestDatabase();
  hot = t.hot.db;
  await seedCategories(t.db, M);
});
afterAll(async () => {
  await t.drop();
});

// Milliseconds included: both databases keep them (timestamp(3) / Prisma's ISO text).
const NOW = new Date("2026-11-29T09:00:00.123Z");
const minutes = (n: number, from = NOW) => new Date(from.getTime() + n * 60_000);
const days = (n: number) => minutes(n * 24 * 60);

let phones = 0;
const resident = (municipalityId = M) => t.db.resident.create({ data: { municipalityId, phone: `+9617${String(1_000_000 + ++phones).slice(1)}`, locale: "ar" } });

let references = 20_000;
/** A ticket written by Prisma (as the staff pages and older code write them). */
async function prismaTicket(residentId: number, fields: { status?: string; categoryCode?: string; createdAt?: Date; municipalityId?: string; needsHuman?: boolean } = {}) {
  const category = fields.categoryCode ? await t.db.category.findUniqueOrThrow({ where: { municipalityId_code: { municipalityId: M, code: fields.categoryCode } } }) : null;
  return t.db.ticket.create({
    data: {
      municipalityId: fields.municipalityId ?? M,
      reference: references++,
      residentId,
      description: "",
      channel: "sms",
      locale: "ar",
      status: fields.status ?? "new",
      needsHuman: fields.needsHuman ?? false,
      ...(fields.createdAt ? { createdAt: fields.createdAt } : {}),
      categoryId: category?.id ?? null,
    },
  });
}

function newTicket(fields: Partial<NewTicket> = {}): NewTicket {
  return {
    reference: references++,
    categoryCode: "roads",
    description: "في جورة كبيرة بالطريق العام",
    location: null,
    addressText: "قدام الجامع",
    media: [],
    childRelated: false,
    needsHuman: false,
    startedAt: minutes(-2),
    ...fields,
  };
}

const eventsOf = (ticketId: number) => t.db.ticketEvent.findMany({ where: { ticketId }, orderBy: { id: "asc" } });

describe("freeReference", () => {
  it("skips references in use and keeps five digits while it can", async () => {
    const owner = await resident();
    await t.db.ticket.create({ data: { municipalityId: M, reference: 50000, residentId: owner.id, description: "", channel: "sms", locale: "ar" } });
    const queue = [40000, 40000, 40001];
    expect(await freeReference(hot, M, (n) => queue.shift()! % n)).toBe(50001);
  });

  it("a reference used by another municipality is free here", async () => {
    const owner = await resident(OTHER_TOWN);
    await t.db.ticket.create({ data: { municipalityId: OTHER_TOWN, reference: 60000, residentId: owner.id, description: "", channel: "sms", locale: "ar" } });
    expect(await freeReference(hot, M, () => 50000)).toBe(60000);
  });

  it("goes to six digits after twenty taken five-digit candidates", async () => {
    const owner = await resident();
    await t.db.ticket.create({ data: { municipalityId: M, reference: 10000, residentId: owner.id, description: "", channel: "sms", locale: "ar" } });
    const asked: number[] = [];
    const reference = await freeReference(hot, M, (n) => {
      asked.push(n);
      return asked.length <= 20 ? 0 : 5;
    });
    expect(reference).toBe(100005);
    expect(asked).toEqual([...Array<number>(20).fill(90000), 900000]);
  });
});

describe("fileTicket", () => {
  it("stores the ticket with its category, department and history, stamped with the given time", async () => {
    const r = await resident();
    const roads = await t.db.category.findUniqueOrThrow({ where: { municipalityId_code: { municipalityId: M, code: "roads" } } });
    const media = [{ url: "https://api.twilio.com/media/1", contentType: "image/jpeg" }];
    const ticket = newTicket({ location: { latitude: 33.8, longitude: 35.9, label: "الجامع", address: "الطريق العام" }, media });
    const filed = await fileTicket(hot, ticket, { municipalityId: M, residentId: r.id, channel: "whatsapp", locale: "ar" }, NOW);
    expect(filed).toEqual({ id: expect.any(Number) });
    const row = await t.db.ticket.findUniqueOrThrow({ where: { id: filed.id } });
    expect(row).toEqual({
      id: filed.id,
      municipalityId: M,
      reference: ticket.reference,
      residentId: r.id,
      categoryId: roads.id,
      department: "public_works",
      description: ticket.description,
      latitude: 33.8,
      longitude: 35.9,
      locationLabel: "الجامع",
      addressText: "قدام الجامع",
      media: JSON.stringify(media),
      status: "new",
      needsHuman: false,
      childRelated: false,
      assigneeId: null,
      channel: "whatsapp",
      route: "twilio",
      locale: "ar",
      // Filed without a placement: a pin as it is, no place, area or child zone.
      locationApproximate: false,
      placeId: null,
      areaId: null,
      childZonePlaceId: null,
      childZoneMetres: null,
      open311Hidden: false,
      // A new request waits for staff, and is unread, from the moment it is filed.
      waitingSince: NOW,
      lastResidentAt: NOW,
      firstResponseAt: null,
      reopenedAt: null,
      createdAt: NOW,
      updatedAt: NOW,
    });
    const events = await eventsOf(filed.id);
    expect(events).toEqual([
      { id: expect.any(Number), ticketId: filed.id, actorType: "resident", actorId: null, kind: "created", data: '{"channel":"whatsapp","route":"twilio","needsHuman":false,"childRelatedAtFiling":false}', createdAt: NOW },
    ]);
  });

  it("a location without a label is labelled with its address, or not at all", async () => {
    const r = await resident();
    const filing = { municipalityId: M, residentId: r.id, channel: "whatsapp", locale: "en" } as const;
    const withAddress = await fileTicket(hot, newTicket({ location: { latitude: 1, longitude: 2, address: "Main street" } }), filing, NOW);
    const bare = await fileTicket(hot, newTicket({ location: { latitude: 1, longitude: 2 } }), filing, NOW);
    expect((await t.db.ticket.findUniqueOrThrow({ where: { id: withAddress.id } })).locationLabel).toBe("Main street");
    expect((await t.db.ticket.findUniqueOrThrow({ where: { id: bare.id } })).locationLabel).toBeNull();
  });

  it("a resident who asked for a person: no category, routed like 'other', waiting for staff", async () => {
    const r = await resident();
    const ticket = newTicket({ categoryCode: null, needsHuman: true, addressText: null, childRelated: true });
    const filed = await fileTicket(hot, ticket, { municipalityId: M, residentId: r.id, channel: "sms", locale: "en" }, NOW);
    const row = await t.db.ticket.findUniqueOrThrow({ where: { id: filed.id } });
    expect(row).toMatchObject({ categoryId: null, department: "administration", status: "waiting_staff", needsHuman: true, childRelated: true, addressText: null, latitude: null, locationLabel: null, media: "[]" });
    expect((await eventsOf(filed.id)).map((e) => e.data)).toEqual(['{"channel":"sms","route":"twilio","needsHuman":true,"childRelatedAtFiling":true}']);
  });

  it("a department given by the caller wins; an unknown category files without one", async () => {
    const r = await resident();
    const filing = { municipalityId: M, residentId: r.id, channel: "sms", locale: "ar" } as const;
    const routed = await fileTicket(hot, newTicket(), { ...filing, department: "finance" }, NOW);
    expect(await t.db.ticket.findUniqueOrThrow({ where: { id: routed.id }, select: { department: true, categoryId: true } })).toEqual({ department: "finance", categoryId: expect.any(Number) });
    const unknown = await fileTicket(hot, newTicket({ categoryCode: "no_such_code" }), filing, NOW);
    expect(await t.db.ticket.findUniqueOrThrow({ where: { id: unknown.id }, select: { department: true, categoryId: true } })).toEqual({ department: null, categoryId: null });
  });

  it("inside a transaction that rolls back, nothing is filed", async () => {
    const r = await resident();
    const ticket = newTicket();
    await expect(
      hot.transaction().execute(async (trx) => {
        await fileTicket(trx, ticket, { municipalityId: M, residentId: r.id, channel: "sms", locale: "ar" }, NOW);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await t.db.ticket.count({ where: { reference: ticket.reference } })).toBe(0);
  });
});

describe("openTicketsOf and residentTicket", () => {
  it("lists the resident's open tickets newest first, at most `limit`, with how many are open", async () => {
    const r = await resident();
    const someoneElse = await resident();
    const oldest = await prismaTicket(r.id, { createdAt: minutes(-30), categoryCode: "water" });
    const middle = await prismaTicket(r.id, { createdAt: minutes(-20), status: "in_progress", needsHuman: true });
    await prismaTicket(r.id, { createdAt: minutes(-15), status: "resolved" });
    await prismaTicket(r.id, { createdAt: minutes(-12), status: "closed" });
    await prismaTicket(someoneElse.id, { createdAt: minutes(-5) });
    // Filed through the hot path: read back alongside Prisma's rows.
    const filed = await fileTicket(hot, newTicket({ categoryCode: "lighting" }), { municipalityId: M, residentId: r.id, channel: "sms", locale: "ar" }, minutes(-10));
    const newest = await t.db.ticket.findUniqueOrThrow({ where: { id: filed.id } });

    const all = await openTicketsOf(hot, r.id, 10);
    expect(all).toEqual({
      total: 3,
      tickets: [
        { reference: newest.reference, categoryCode: "lighting", status: "new", needsHuman: false, createdAt: minutes(-10) },
        { reference: middle.reference, categoryCode: null, status: "in_progress", needsHuman: true, createdAt: minutes(-20) },
        { reference: oldest.reference, categoryCode: "water", status: "new", needsHuman: false, createdAt: minutes(-30) },
      ],
    });
    expect(all.tickets[0]!.createdAt).toBeInstanceOf(Date);

    const firstTwo = await openTicketsOf(hot, r.id, 2);
    expect(firstTwo.total).toBe(3);
    expect(firstTwo.tickets.map((v) => v.reference)).toEqual([newest.reference, middle.reference]);
    expect(typeof firstTwo.total).toBe("number");
  });

  it("a resident without tickets has none", async () => {
    const r = await resident();
    expect(await openTicketsOf(hot, r.id, 5)).toEqual({ tickets: [], total: 0 });
  });

  it("two tickets filed at the same instant: the later one first", async () => {
    const r = await resident();
    const first = await prismaTicket(r.id, { createdAt: NOW });
    const second = await prismaTicket(r.id, { createdAt: NOW });
    expect((await openTicketsOf(hot, r.id, 5)).tickets.map((v) => v.reference)).toEqual([second.reference, first.reference]);
  });

  it("an unknown stored status reads as new", async () => {
    const r = await resident();
    const odd = await prismaTicket(r.id, { status: "archived" });
    expect((await residentTicket(hot, M, r.id, odd.reference))?.status).toBe("new");
  });

  it("shows one of the resident's own tickets, any status; nobody else's", async () => {
    const r = await resident();
    const stranger = await resident();
    const resolved = await prismaTicket(r.id, { status: "resolved", categoryCode: "waste", createdAt: minutes(-60) });
    expect(await residentTicket(hot, M, r.id, resolved.reference)).toEqual({
      reference: resolved.reference,
      categoryCode: "waste",
      status: "resolved",
      needsHuman: false,
      createdAt: minutes(-60),
    });
    expect(await residentTicket(hot, M, stranger.id, resolved.reference)).toBeNull();
    expect(await residentTicket(hot, OTHER_TOWN, r.id, resolved.reference)).toBeNull();
    expect(await residentTicket(hot, M, r.id, 99_999)).toBeNull();
  });
});

describe("reopenByResident", () => {
  it("a resolved or closed ticket is new again, reopened, waiting and unread from now, and the history says from what", async () => {
    const r = await resident();
    for (const status of ["resolved", "closed"]) {
      const ticket = await prismaTicket(r.id, { status });
      await t.db.ticket.update({ where: { id: ticket.id }, data: { waitingSince: null, lastResidentAt: days(-9), firstResponseAt: days(-8) } });
      expect(await reopenByResident(hot, M, r.id, ticket.reference, NOW)).toBe(ticket.id);
      expect(
        await t.db.ticket.findUniqueOrThrow({
          where: { id: ticket.id },
          select: { status: true, updatedAt: true, reopenedAt: true, waitingSince: true, lastResidentAt: true, firstResponseAt: true },
        }),
      ).toEqual({ status: "new", updatedAt: NOW, reopenedAt: NOW, waitingSince: NOW, lastResidentAt: NOW, firstResponseAt: days(-8) });
      expect(await eventsOf(ticket.id)).toEqual([
        { id: expect.any(Number), ticketId: ticket.id, actorType: "resident", actorId: null, kind: "reopened", data: JSON.stringify({ from: status }), createdAt: NOW },
      ]);
    }
  });

  it("an open ticket, someone else's or an unknown reference: nothing changes", async () => {
    const r = await resident();
    const stranger = await resident();
    const open = await prismaTicket(r.id, { status: "in_progress" });
    const theirs = await prismaTicket(stranger.id, { status: "resolved" });
    expect(await reopenByResident(hot, M, r.id, open.reference, NOW)).toBeNull();
    expect(await reopenByResident(hot, M, r.id, theirs.reference, NOW)).toBeNull();
    expect(await reopenByResident(hot, M, r.id, 99_998, NOW)).toBeNull();
    expect(await t.db.ticket.findUniqueOrThrow({ where: { id: open.id } })).toEqual(open);
    expect(await t.db.ticket.findUniqueOrThrow({ where: { id: theirs.id } })).toEqual(theirs);
    expect(await t.db.ticketEvent.count({ where: { ticketId: { in: [open.id, theirs.id] } } })).toBe(0);
  });
});

describe("residentAnswered", () => {
  const columns = { status: true, updatedAt: true, waitingSince: true, lastResidentAt: true, reopenedAt: true, firstResponseAt: true } as const;

  it("a ticket in progress waits for staff again, from now, and is unread; the answer is in the history", async () => {
    const r = await resident();
    const ticket = await prismaTicket(r.id, { status: "in_progress" });
    // Staff answered last: nothing was waiting.
    await t.db.ticket.update({ where: { id: ticket.id }, data: { waitingSince: null, lastResidentAt: days(-2), firstResponseAt: days(-1) } });
    expect(await residentAnswered(hot, M, r.id, ticket.reference, NOW)).toBe(ticket.id);
    expect(await t.db.ticket.findUniqueOrThrow({ where: { id: ticket.id }, select: columns })).toEqual({
      status: "waiting_staff",
      updatedAt: NOW,
      waitingSince: NOW,
      lastResidentAt: NOW,
      reopenedAt: null,
      firstResponseAt: days(-1),
    });
    expect(await eventsOf(ticket.id)).toEqual([
      { id: expect.any(Number), ticketId: ticket.id, actorType: "resident", actorId: null, kind: "resident_replied", data: '{"from":"in_progress"}', createdAt: NOW },
    ]);
  });

  it.each(["new", "waiting_staff"])("a %s ticket keeps its status and how long it has waited; it is unread from now", async (status) => {
    const r = await resident();
    const ticket = await prismaTicket(r.id, { status });
    await t.db.ticket.update({ where: { id: ticket.id }, data: { waitingSince: days(-3), lastResidentAt: days(-3) } });
    expect(await residentAnswered(hot, M, r.id, ticket.reference, NOW)).toBe(ticket.id);
    expect(await t.db.ticket.findUniqueOrThrow({ where: { id: ticket.id }, select: columns })).toEqual({
      status,
      updatedAt: NOW,
      waitingSince: days(-3),
      lastResidentAt: NOW,
      reopenedAt: null,
      firstResponseAt: null,
    });
    expect((await eventsOf(ticket.id)).map((e) => [e.kind, e.data])).toEqual([["resident_replied", JSON.stringify({ from: status })]]);
  });

  it("a resolved ticket stays resolved and waits for no one; the message still shows as unread", async () => {
    const r = await resident();
    const ticket = await prismaTicket(r.id, { status: "resolved" });
    await t.db.ticket.update({ where: { id: ticket.id }, data: { waitingSince: null } });
    expect(await residentAnswered(hot, M, r.id, ticket.reference, NOW)).toBe(ticket.id);
    expect(await t.db.ticket.findUniqueOrThrow({ where: { id: ticket.id }, select: { status: true, waitingSince: true, lastResidentAt: true } })).toEqual({
      status: "resolved",
      waitingSince: null,
      lastResidentAt: NOW,
    });
  });

  it("someone else's ticket or an unknown reference: null, nothing written", async () => {
    const r = await resident();
    const stranger = await resident();
    const theirs = await prismaTicket(stranger.id, { status: "in_progress" });
    expect(await residentAnswered(hot, M, r.id, theirs.reference, NOW)).toBeNull();
    expect(await residentAnswered(hot, M, r.id, 99_997, NOW)).toBeNull();
    expect(await t.db.ticket.findUniqueOrThrow({ where: { id: theirs.id } })).toEqual(theirs);
    expect(await t.db.ticketEvent.count({ where: { ticketId: theirs.id } })).toBe(0);
  });
});

describe("staffThreadOf", () => {
  let staffId: number;
  beforeAll(async () => {
    const staff = await t.db.staff.create({ data: { municipalityId: M, username: "rania", displayName: "Rania", passwordHash: "scrypt$x", role: "agent" } });
    staffId = staff.id;
  });

  function outbound(residentId: number, fields: { ticketId: number | null; createdAt: Date; kind?: string; direction?: string }) {
    return t.db.message.create({
      data: {
        municipalityId: M,
        residentId,
        ticketId: fields.ticketId,
        direction: fields.direction ?? "outbound",
        kind: fields.kind ?? "staff",
        staffId: fields.kind === undefined || fields.kind === "staff" ? staffId : null,
        channel: "sms",
        body: "أي شارع؟",
        status: "sent",
        createdAt: fields.createdAt,
      },
    });
  }

  it("the open ticket staff wrote about most recently within a week, with its category", async () => {
    const r = await resident();
    const older = await prismaTicket(r.id, { status: "in_progress", categoryCode: "roads" });
    const latest = await prismaTicket(r.id, { status: "waiting_staff", categoryCode: "water" });
    await outbound(r.id, { ticketId: older.id, createdAt: days(-2) });
    await outbound(r.id, { ticketId: latest.id, createdAt: days(-1) });
    // Later, but not staff writing about an open ticket: the bot, a message without a ticket, the resident.
    await outbound(r.id, { ticketId: older.id, createdAt: minutes(-5), kind: "bot" });
    await outbound(r.id, { ticketId: null, createdAt: minutes(-4) });
    await outbound(r.id, { ticketId: older.id, createdAt: minutes(-3), kind: "resident", direction: "inbound" });
    expect(await staffThreadOf(hot, M, r.id, NOW)).toEqual({ reference: latest.reference, categoryCode: "water" });
  });

  it("a ticket without a category has a null code; the same instant goes to the later message", async () => {
    const r = await resident();
    const first = await prismaTicket(r.id, { status: "new", categoryCode: "roads" });
    const second = await prismaTicket(r.id, { status: "new" });
    await outbound(r.id, { ticketId: first.id, createdAt: minutes(-1) });
    await outbound(r.id, { ticketId: second.id, createdAt: minutes(-1) });
    expect(await staffThreadOf(hot, M, r.id, NOW)).toEqual({ reference: second.reference, categoryCode: null });
  });

  it("a week is the limit, inclusive", async () => {
    const r = await resident();
    const ticket = await prismaTicket(r.id, { status: "in_progress" });
    await outbound(r.id, { ticketId: ticket.id, createdAt: days(-7) });
    expect(await staffThreadOf(hot, M, r.id, NOW)).toEqual({ reference: ticket.reference, categoryCode: null });
    expect(await staffThreadOf(hot, M, r.id, minutes(1))).toBeNull();
  });

  it("a resolved ticket, another resident's or another town's thread is no thread; nor is silence", async () => {
    const r = await resident();
    const stranger = await resident();
    const resolved = await prismaTicket(r.id, { status: "resolved" });
    const theirs = await prismaTicket(stranger.id, { status: "in_progress" });
    await outbound(r.id, { ticketId: resolved.id, createdAt: minutes(-1) });
    await outbound(stranger.id, { ticketId: theirs.id, createdAt: minutes(-1) });
    expect(await staffThreadOf(hot, M, r.id, NOW)).toBeNull();
    expect(await staffThreadOf(hot, OTHER_TOWN, stranger.id, NOW)).toBeNull();
    expect(await staffThreadOf(hot, M, (await resident()).id, NOW)).toBeNull();
  });
});

describe("linkMessagesToTicket", () => {
  it("the resident's messages since the request started, not yet on a ticket, join it", async () => {
    const r = await resident();
    const stranger = await resident();
    const other = await prismaTicket(r.id);
    const ticket = await prismaTicket(r.id);
    const message = (residentId: number, createdAt: Date, ticketId: number | null = null, kind = "resident") =>
      t.db.message.create({
        data: { municipalityId: M, residentId, ticketId, direction: kind === "resident" ? "inbound" : "outbound", kind, channel: "sms", body: "…", status: "received", createdAt, updatedAt: createdAt },
      });
    const before = await message(r.id, minutes(-11));
    const atStart = await message(r.id, minutes(-10));
    const botReply = await message(r.id, minutes(-10), null, "bot");
    const during = await message(r.id, minutes(-1));
    const elsewhere = await message(r.id, minutes(-5), other.id);
    const strangers = await message(stranger.id, minutes(-5));
    // Sent to the resident meanwhile, about something else.
    const notification = await message(r.id, minutes(-4), null, "notification");

    await linkMessagesToTicket(hot, r.id, ticket.id, minutes(-10), NOW);

    const ids = [before, atStart, botReply, during, elsewhere, strangers, notification].map((m) => m.id);
    const rows = await t.db.message.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } });
    expect(rows.map((m) => [m.id, m.ticketId, m.updatedAt])).toEqual([
      [before.id, null, minutes(-11)],
      [atStart.id, ticket.id, NOW],
      [botReply.id, ticket.id, NOW],
      [during.id, ticket.id, NOW],
      [elsewhere.id, other.id, minutes(-5)],
      [strangers.id, null, minutes(-5)],
      [notification.id, null, minutes(-4)],
    ]);
  });
});

describe("reportPayment", () => {
  let accountCounter = 0;
  async function account(municipalityId = M) {
    return t.db.account.create({
      data: { municipalityId, number: `QE-${300000 + ++accountCounter}`, holderName: "جورج الخوري", accountType: "property", verificationCodeHash: "scrypt$x" },
    });
  }
  const report = (accountId: number, fields: Partial<NewPaymentReport> = {}): NewPaymentReport => ({
    reference: references++,
    accountId,
    amount: "85.50",
    currency: "USD",
    paidAt: "OMT شتورة",
    paymentRef: "OMT-558812",
    media: [{ url: "https://api.twilio.com/media/receipt", contentType: "image/jpeg" }],
    startedAt: minutes(-3),
    ...fields,
  });

  it("files a finance ticket without a category, its report and its history", async () => {
    const r = await resident();
    const a = await account();
    await t.db.accountLink.create({ data: { municipalityId: M, accountId: a.id, residentId: r.id, linkedBy: "code" } });
    const payment = report(a.id);
    const filed = await reportPayment(hot, payment, { municipalityId: M, residentId: r.id, channel: "whatsapp", locale: "en" }, NOW);
    expect(filed).toEqual({ id: expect.any(Number) });

    const ticket = await t.db.ticket.findUniqueOrThrow({ where: { id: filed.id }, include: { paymentReport: true, events: true } });
    expect(ticket).toMatchObject({
      municipalityId: M,
      reference: payment.reference,
      residentId: r.id,
      categoryId: null,
      department: FINANCE_DEPARTMENT,
      description: `Payment reported: 85.50 USD at OMT شتورة, receipt OMT-558812, account ${a.number}`,
      addressText: null,
      latitude: null,
      media: JSON.stringify(payment.media),
      status: "new",
      needsHuman: false,
      channel: "whatsapp",
      locale: "en",
      createdAt: NOW,
      updatedAt: NOW,
    });
    expect(ticket.events.map((e) => [e.kind, e.data, e.createdAt])).toEqual([["created", '{"channel":"whatsapp","route":"twilio","needsHuman":false,"childRelatedAtFiling":false}', NOW]]);
    expect(ticket.paymentReport).toMatchObject({
      municipalityId: M,
      ticketId: filed.id,
      accountId: a.id,
      currency: "USD",
      paidAt: "OMT شتورة",
      paymentRef: "OMT-558812",
      status: "reported",
      confirmedById: null,
      confirmedAt: null,
      createdAt: NOW,
    });
    expect(ticket.paymentReport!.amount.toString()).toBe("85.5");
  });

  it("stores an amount exactly as Prisma does", async () => {
    const r = await resident();
    const a = await account();
    await t.db.accountLink.create({ data: { municipalityId: M, accountId: a.id, residentId: r.id, linkedBy: "code" } });
    for (const amount of ["1250000", "85.50", "0.1", "123456789012.34"]) {
      const filed = await reportPayment(hot, report(a.id, { amount, currency: "LBP", paymentRef: "" }), { municipalityId: M, residentId: r.id, channel: "sms", locale: "ar" }, NOW);
      const byPrisma = await prismaTicket(r.id);
      await t.db.paymentReport.create({ data: { municipalityId: M, ticketId: byPrisma.id, accountId: a.id, amount, currency: "LBP", paidAt: "OMT", createdAt: NOW } });
      const [ours, theirs] = await Promise.all([filed.id, byPrisma.id].map((ticketId) => t.db.paymentReport.findUniqueOrThrow({ where: { ticketId } })));
      expect(ours!.amount.toString()).toBe(theirs!.amount.toString());
      const raw = await hot.selectFrom("PaymentReport").select("amount").where("ticketId", "in", [filed.id, byPrisma.id]).orderBy("id").execute();
      expect(raw[0]!.amount).toBe(raw[1]!.amount);
      const description = (await t.db.ticket.findUniqueOrThrow({ where: { id: filed.id } })).description;
      expect(description).not.toContain("receipt");
    }
  });

  it("refuses an account that is not linked to the resident, or belongs to another town; writes nothing", async () => {
    const r = await resident();
    const owner = await resident();
    const a = await account();
    await t.db.accountLink.create({ data: { municipalityId: M, accountId: a.id, residentId: owner.id, linkedBy: "code" } });
    const elsewhere = await account(OTHER_TOWN);
    const townsfolk = await resident(OTHER_TOWN);
    await t.db.accountLink.create({ data: { municipalityId: OTHER_TOWN, accountId: elsewhere.id, residentId: townsfolk.id, linkedBy: "code" } });

    const notLinked = report(a.id);
    await expect(reportPayment(hot, notLinked, { municipalityId: M, residentId: r.id, channel: "sms", locale: "ar" }, NOW)).rejects.toThrow(
      `account ${a.id} is not linked to resident ${r.id}`,
    );
    const otherTown = report(elsewhere.id);
    await expect(reportPayment(hot, otherTown, { municipalityId: M, residentId: townsfolk.id, channel: "sms", locale: "ar" }, NOW)).rejects.toThrow(/not linked/);
    expect(await t.db.ticket.count({ where: { reference: { in: [notLinked.reference, otherTown.reference] } } })).toBe(0);
    expect(await t.db.paymentReport.count({ where: { accountId: { in: [a.id, elsewhere.id] } } })).toBe(0);
  });
});
