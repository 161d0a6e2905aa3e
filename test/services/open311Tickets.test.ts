import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Tx } from "../../src/db/createDb.js";
import { confirmPayment } from "../../src/services/accountStaff.js";
import { addNote, assignTicket, changeStatus, recategorize, replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { listTickets, ticketDetail, TicketFilters } from "../../src/services/ticketQueries.js";
import { createAccount } from "../http/staff/accountFixtures.js";
import { open311Client, open311Ticket, roadsQuestions } from "../support/open311Tickets.js";
import { newPhone, residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

/** Staff actions and queries on tickets other tools filed through Open311, with and without a resident. */

let world: World;
let rania: Actor; // public works
let hala: Actor; // admin
let clientId = 0;
let roadsId = 0;
let reference = 30000;
beforeAll(async () => {
  world = await createTestWorld();
  rania = await staffMember(world, { username: "rania", departments: ["public_works"] });
  hala = await staffMember(world, { username: "hala", role: "admin" });
  clientId = (await open311Client(world.db, "FixMyStreet Bekaa")).id;
  roadsId = (await roadsQuestions(world.db)).id;
});
afterAll(async () => {
  await world.drop();
});

const ctx = () => ({ ...world.deps.outbox, now: new Date() });
const inTx = <T>(run: (tx: Tx) => Promise<T>) => world.db.$transaction(run);
const ticketOf = (ref: number) => world.db.ticket.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, reference: ref } });
const filters = (query: Record<string, string>) => TicketFilters.parse(query);
const nobodysTicket = async (fields: Partial<Parameters<typeof open311Ticket>[1]> = {}) => (await open311Ticket(world.db, { reference: ++reference, clientId, categoryId: roadsId, ...fields })).reference;

describe("staff actions on a ticket without a resident", () => {
  it("a reply is refused with a reason, and nothing is written", async () => {
    const ref = await nobodysTicket();
    const result = await inTx((tx) => replyToTicket(tx, ctx(), rania, ref, "Hello"));
    expect(result).toEqual({ ok: false, error: "refused", reason: "no_resident", message: expect.stringContaining("without a phone number") });
    const ticket = await ticketOf(ref);
    expect(ticket.status).toBe("new");
    expect(await world.db.message.count({ where: { ticketId: ticket.id } })).toBe(0);
    expect(await world.db.ticketEvent.count({ where: { ticketId: ticket.id, kind: { not: "created" } } })).toBe(0);
  });

  it("an empty reply is still invalid, and someone else's ticket still not found, before any refusal", async () => {
    const ref = await nobodysTicket({ department: "water" });
    expect(await inTx((tx) => replyToTicket(tx, ctx(), rania, ref, "  "))).toMatchObject({ ok: false, error: "invalid" });
    expect(await inTx((tx) => replyToTicket(tx, ctx(), rania, ref, "Hello"))).toMatchObject({ ok: false, error: "not_found" });
  });

  it.each(["resolved", "closed"])("%s: the status changes, the public note is kept, nobody is notified", async (status) => {
    const ref = await nobodysTicket();
    const outboxBefore = await world.db.outbox.count();
    const result = await inTx((tx) => changeStatus(tx, ctx(), rania, ref, status, "Filled on Tuesday."));
    expect(result).toEqual({ ok: true, outcome: "changed" });
    const ticket = await ticketOf(ref);
    expect(ticket.status).toBe(status);
    const event = await world.db.ticketEvent.findFirstOrThrow({ where: { ticketId: ticket.id, kind: "status_changed" } });
    expect(JSON.parse(event.data)).toEqual({ from: "new", to: status, publicNote: "Filled on Tuesday." });
    expect(await world.db.outbox.count()).toBe(outboxBefore);
    // The same status with a note: a public note alone.
    expect(await inTx((tx) => changeStatus(tx, ctx(), rania, ref, status, "And the kerb too."))).toEqual({ ok: true, outcome: "noted" });
  });

  it("notes, assignment and recategorizing work as on any ticket", async () => {
    const ref = await nobodysTicket();
    expect(await inTx((tx) => addNote(tx, rania, ref, "Called the client's office", new Date()))).toEqual({ ok: true });
    expect(await inTx((tx) => assignTicket(tx, rania, ref, rania.id, new Date()))).toEqual({ ok: true });
    expect(await inTx((tx) => recategorize(tx, hala, ref, { categoryCode: "water" }, new Date()))).toEqual({ ok: true });
    expect(await ticketOf(ref)).toMatchObject({ department: "water", assigneeId: null });
  });
});

describe("a ticket filed through Open311 with a phone number", () => {
  it("is told of its resolution by SMS, like an SMS resident, and offered to reopen", async () => {
    const phone = newPhone();
    const resident = await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone, locale: "en" } });
    const ref = await nobodysTicket({ residentId: resident.id });
    const result = await inTx((tx) => changeStatus(tx, ctx(), rania, ref, "resolved"));
    expect(result).toMatchObject({ ok: true, outcome: "changed", delivery: { status: "queued" } });
    const outbox = await world.db.outbox.findMany({ where: { residentId: resident.id } });
    expect(outbox).toEqual([expect.objectContaining({ channel: "sms", toAddress: phone, status: "pending" })]);
    expect(outbox[0]?.body).toContain(String(ref));
    const conversation = await world.db.conversation.findUniqueOrThrow({ where: { residentId: resident.id } });
    expect(conversation.state).toContain(String(ref));
  });
});

describe("the queue and the ticket's details", () => {
  it("a row without a resident has no phone and no bot pause, and names the client", async () => {
    const ref = await nobodysTicket();
    const { rows } = await inTx((tx) => listTickets(tx, rania, filters({ status: "all", pageSize: "200" }), new Date()));
    expect(rows.find((r) => r.reference === ref)).toMatchObject({ phoneMasked: null, open311Client: "FixMyStreet Bekaa", botPause: null, channel: "open311", route: "open311" });
  });

  it("filters by channel open311, and a phone search does not match a ticket without a phone", async () => {
    const ref = await nobodysTicket({ description: "Pothole 71 metres past the bridge" });
    const sms = await residentFiles(world, {});
    const open311 = await inTx((tx) => listTickets(tx, rania, filters({ channel: "open311", status: "all", pageSize: "200" }), new Date()));
    expect(open311.rows.every((r) => r.channel === "open311")).toBe(true);
    expect(open311.rows.map((r) => r.reference)).toContain(ref);
    expect(open311.rows.map((r) => r.reference)).not.toContain(sms.reference);
    // "71" is a phone fragment and words of a description: it finds the description, and nothing breaks.
    const search = await inTx((tx) => listTickets(tx, rania, filters({ q: "71", status: "all", pageSize: "200" }), new Date()));
    expect(search.rows.map((r) => r.reference)).toContain(ref);
    const byPhone = await inTx((tx) => listTickets(tx, rania, filters({ q: "70000", status: "all", pageSize: "200" }), new Date()));
    expect(byPhone.rows.map((r) => r.reference)).not.toContain(ref);
    expect(TicketFilters.safeParse({ channel: "fax" }).success).toBe(false);
  });

  it("reads malformed stored JSON as nothing rather than failing, and explains no answers for a ticket without a category", async () => {
    const ref = await nobodysTicket({ categoryId: null, attributes: { hole_size: "large" } });
    const ticket = await ticketOf(ref);
    await world.db.open311Submission.update({ where: { ticketId: ticket.id }, data: { mediaUrls: "not json", attributes: '{"a": 5}' } });
    const detail = await inTx((tx) => ticketDetail(tx, rania, ref, new Date()));
    expect(detail?.open311).toMatchObject({ mediaUrls: [], answers: [] });
    await world.db.open311Submission.update({ where: { ticketId: ticket.id }, data: { mediaUrls: "[]", attributes: '{"hole_size": "large"}' } });
    // Without a category nothing says what hole_size asks: the code and the key as sent.
    const raw = await inTx((tx) => ticketDetail(tx, rania, ref, new Date()));
    expect(raw?.open311?.answers).toEqual([{ code: "hole_size", question: null, values: [{ key: "large", name: null }] }]);
    expect(raw).toMatchObject({ messages: [], window: null, residentVisible: false });
  });
});

describe("the answers after staff move the request", () => {
  it("keep the questions of the service it was filed in, whatever its category now", async () => {
    const ref = await nobodysTicket({ attributes: { hole_size: "large" } });
    const water = await world.db.category.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, code: "water" } });
    // Water asks its own hole_size ("pipe diameter"): the answer must not be read as that.
    await world.db.categoryAttribute.create({
      data: { municipalityId: MUNICIPALITY, categoryId: water.id, code: "hole_size", datatype: "singlevaluelist", descriptionAr: "قطر الأنبوب", descriptionEn: "Pipe diameter", values: JSON.stringify([{ key: "large", nameAr: "٢٠ سم", nameEn: "20 cm" }]) },
    });
    await world.db.ticket.update({ where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference: ref } }, data: { categoryId: water.id } });
    const detail = await inTx((tx) => ticketDetail(tx, hala, ref, new Date()));
    expect(detail?.open311?.answers[0]?.question).toEqual({ ar: "ما حجم الحفرة؟", en: "How big is the hole?" });
  });
});

describe("payments", () => {
  it("a payment report on a ticket without a resident is no report to decide (nobody to credit or tell)", async () => {
    const ref = await nobodysTicket({ department: "finance" });
    const ticket = await ticketOf(ref);
    const account = await createAccount(world.db, { number: "OPEN-311", balances: [{ currency: "USD", amountDue: "100", dueDate: new Date("2026-12-31") }] });
    const report = await world.db.paymentReport.create({ data: { municipalityId: MUNICIPALITY, ticketId: ticket.id, accountId: account.id, amount: "10", currency: "USD", paidAt: "town hall" } });
    expect(await inTx((tx) => confirmPayment(tx, ctx(), hala, report.id, new Date()))).toMatchObject({ ok: false, error: "not_found" });
    expect((await world.db.paymentReport.findUniqueOrThrow({ where: { id: report.id } })).status).toBe("reported");
  });
});
