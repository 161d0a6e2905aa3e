import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TicketDetail, TicketList } from "../../../src/http/api/apiSchemas.js";
import { maskPhone } from "../../../src/lib/maskPhone.js";
import { createApiWorld, freshPhone, REQUESTS, residentFiles, type ApiWorld } from "./apiWorld.js";

let world: ApiWorld;
const phones = { pothole: freshPhone(), waterLeak: freshPhone(), whatsappPothole: freshPhone(), someone: freshPhone(), oldLeak: freshPhone() };
type Name = keyof typeof phones;
const refs: Record<Name, number> = { pothole: 0, waterLeak: 0, whatsappPothole: 0, someone: 0, oldLeak: 0 };

beforeAll(async () => {
  world = await createApiWorld();
  // Filed in this order: the queue lists the residents who wait longest first.
  refs.pothole = await residentFiles(world.app, "sms", phones.pothole, REQUESTS.potholeBySms);
  refs.waterLeak = await residentFiles(world.app, "sms", phones.waterLeak, REQUESTS.waterLeakBySms);
  refs.whatsappPothole = await residentFiles(world.app, "whatsapp", phones.whatsappPothole, REQUESTS.potholeOnWhatsApp);
  refs.someone = await residentFiles(world.app, "whatsapp", phones.someone, REQUESTS.askForSomeone);
  refs.oldLeak = await residentFiles(world.app, "sms", phones.oldLeak, REQUESTS.waterLeakBySms);
  // Rania takes the pothole and answers (its resident waits no longer: it goes after the others); Karim resolves the old leak.
  const { api, tokens } = world;
  expect((await api.post(tokens.rania, `/tickets/${refs.pothole}/assignment`, { assigneeId: "me" })).status).toBe(200);
  expect((await api.post(tokens.rania, `/tickets/${refs.pothole}/replies`, { body: "سنرسل فريقاً غداً" })).status).toBe(201);
  expect((await api.post(tokens.karim, `/tickets/${refs.oldLeak}/status`, { status: "resolved" })).status).toBe(200);
});
afterAll(async () => {
  await world.drop();
});

const listed = async (token: string, query = "") => {
  const res = await world.api.get(token, `/tickets${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return TicketList.parse(res.body);
};
const referencesOf = (list: TicketList) => list.tickets.map((t) => t.reference);
type TicketList = ReturnType<typeof TicketList.parse>;

describe("GET /api/v1/tickets: the queue as the token's staff member sees it", () => {
  it("an agent lists only their departments' open tickets", async () => {
    const rania = await listed(world.tokens.rania);
    expect(referencesOf(rania)).toEqual([refs.whatsappPothole, refs.pothole]);
    expect(rania.tickets.every((t) => t.department === "public_works")).toBe(true);

    const karim = await listed(world.tokens.karim);
    expect(referencesOf(karim)).toEqual([refs.waterLeak]);
  });

  it("an admin sees every open ticket, the longest-waiting first, the answered one after them", async () => {
    const all = await listed(world.tokens.hala);
    expect(all).toMatchObject({ total: 4, page: 1, pageSize: 50 });
    expect(referencesOf(all)).toEqual([refs.waterLeak, refs.whatsappPothole, refs.someone, refs.pothole]);
  });

  it("sort=created lists the oldest filed first", async () => {
    expect(referencesOf(await listed(world.tokens.hala, "?sort=created"))).toEqual([refs.pothole, refs.waterLeak, refs.whatsappPothole, refs.someone]);
  });

  it("shows each ticket in camelCase with ISO dates and the phone masked", async () => {
    const res = await world.api.get(world.tokens.hala, "/tickets");
    const pothole = TicketList.parse(res.body).tickets.find((t) => t.reference === refs.pothole);
    expect(pothole).toEqual({
      reference: refs.pothole,
      status: "in_progress",
      needsHuman: false,
      childRelated: false,
      channel: "sms",
      route: "twilio",
      locale: "ar",
      department: "public_works",
      category: { code: "roads", nameAr: "طرقات وحفر", nameEn: "Roads and potholes" },
      description: "في جورة كبيرة بالطريق العام",
      phoneMasked: maskPhone(phones.pothole),
      open311Client: null,
      assignee: { id: world.staff.rania.id, displayName: "Rania" },
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: expect.stringMatching(/Z$/),
      // Answered: nobody waits; nobody opened it in the browser since the resident wrote; a week to resolve.
      waitingSince: null,
      unread: true,
      reopened: false,
      target: { state: "ok", dueAt: new Date(Date.parse(pothole!.createdAt) + 168 * 3_600_000).toISOString() },
    });
    for (const phone of Object.values(phones)) expect(res.text).not.toContain(phone);
  });

  it("each row says since when the resident waits, whether the token's staff member read it, whether it was reopened, and its target", async () => {
    const where = { municipalityId_reference: { municipalityId: "qab-elias", reference: refs.whatsappPothole } };
    const before = await world.db.ticket.findUniqueOrThrow({ where });
    const row = async (token: string) => (await listed(token)).tickets.find((t) => t.reference === refs.whatsappPothole);
    expect(await row(world.tokens.rania)).toMatchObject({ waitingSince: before.waitingSince?.toISOString(), unread: true, reopened: false, target: { state: "ok" } });

    // Rania opened it in the browser; the resident reopened it and has waited 30 hours (a day for a first reply).
    const waitingSince = new Date(Date.now() - 30 * 3_600_000);
    await world.db.ticketRead.create({ data: { staffId: world.staff.rania.id, ticketId: before.id, readAt: new Date(Date.now() + 60_000) } });
    await world.db.ticket.update({ where, data: { waitingSince, reopenedAt: new Date() } });
    try {
      expect(await row(world.tokens.rania)).toMatchObject({
        waitingSince: waitingSince.toISOString(),
        unread: false,
        reopened: true,
        target: { state: "overdue", dueAt: new Date(waitingSince.getTime() + 24 * 3_600_000).toISOString() },
      });
      expect(await row(world.tokens.hala)).toMatchObject({ unread: true });
      // Overdue: first in the queue.
      expect(referencesOf(await listed(world.tokens.hala))[0]).toBe(refs.whatsappPothole);
    } finally {
      await world.db.ticketRead.deleteMany({ where: { ticketId: before.id } });
      await world.db.ticket.update({ where, data: { waitingSince: before.waitingSince, reopenedAt: null } });
    }
  });

  const filters: Array<[string, string, Name[]]> = [
    ["a status", "?status=waiting_staff", ["someone"]],
    ["several statuses", "?status=resolved&status=waiting_staff", ["someone", "oldLeak"]],
    ["every status", "?status=all", ["waterLeak", "whatsappPothole", "someone", "pothole", "oldLeak"]],
    ["a category", "?category=roads", ["whatsappPothole", "pothole"]],
    ["a department", "?department=water&status=all", ["waterLeak", "oldLeak"]],
    ["a channel", "?channel=whatsapp", ["whatsappPothole", "someone"]],
    ["a language", "?language=en", ["waterLeak"]],
    ["people who asked for a person", "?needsHuman=true", ["someone"]],
    ["not child-related", "?childRelated=0", ["waterLeak", "whatsappPothole", "someone", "pothole"]],
    ["unassigned", "?assignee=none", ["waterLeak", "whatsappPothole", "someone"]],
    ["older than a day", "?olderThanDays=1", []],
    ["older than zero days", "?olderThanDays=0&category=water", ["waterLeak"]],
    ["words of the description", `?q=${encodeURIComponent("جورة")}`, ["pothole"]],
    ["an English word, closed tickets too", "?q=leaking&status=all", ["waterLeak", "oldLeak"]],
    ["the second page", "?pageSize=2&page=2", ["someone", "pothole"]],
  ];
  it.each(filters)("filters by %s (%s)", async (_what, query, expected) => {
    const list = await listed(world.tokens.hala, query);
    expect(referencesOf(list)).toEqual(expected.map((name) => refs[name]));
  });

  it("pages report the total of all pages", async () => {
    expect(await listed(world.tokens.hala, "?pageSize=2&page=2")).toMatchObject({ total: 4, page: 2, pageSize: 2 });
  });

  it("assignee=me and a staff id find the same tickets", async () => {
    expect(referencesOf(await listed(world.tokens.rania, "?assignee=me"))).toEqual([refs.pothole]);
    expect(referencesOf(await listed(world.tokens.hala, `?assignee=${world.staff.rania.id}`))).toEqual([refs.pothole]);
  });

  it("searches by reference (#, Arabic-Indic digits) and by local phone number", async () => {
    const ref = String(refs.waterLeak);
    const arabicDigits = ref.replace(/\d/g, (d) => String.fromCharCode(0x660 + Number(d)));
    for (const q of [ref, `#${ref}`, arabicDigits]) {
      expect(referencesOf(await listed(world.tokens.hala, `?q=${encodeURIComponent(q)}`)), q).toEqual([refs.waterLeak]);
    }
    const local = `${phones.whatsappPothole.slice(4, 6)} ${phones.whatsappPothole.slice(6, 9)} ${phones.whatsappPothole.slice(9)}`;
    expect(referencesOf(await listed(world.tokens.hala, `?q=${encodeURIComponent(local)}`))).toEqual([refs.whatsappPothole]);
  });

  it("search stays within the agent's departments", async () => {
    expect((await listed(world.tokens.karim, `?q=${refs.pothole}`)).total).toBe(0);
  });

  it("bad filters are a 400 naming every problem", async () => {
    const res = await world.api.get(world.tokens.hala, "/tickets?status=lost&pageSize=1000&assignee=someone&channel=fax");
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^Invalid query string: /);
    for (const field of ["status", "pageSize", "assignee", "channel"]) expect(res.body.error).toContain(`${field}:`);
  });

  it.each([
    ["a staff id beyond any id the database holds", "?assignee=99999999999", "Invalid query string: assignee: is not a staff id"],
    ["a NUL character in the search", "?q=a%00b", "Invalid query string: q: must not contain NUL characters"],
  ])("%s is a 400, not a database error", async (_case, query, error) => {
    const res = await world.api.get(world.tokens.hala, `/tickets${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
  });

  it("a parameter given twice where one is expected is a 400, not a 500", async () => {
    const res = await world.api.get(world.tokens.hala, "/tickets?q=a&q=b");
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("q:");
  });
});

describe("GET /api/v1/tickets/:reference", () => {
  it("has the resident, the conversation with delivery states, the history and WhatsApp's window", async () => {
    const res = await world.api.get(world.tokens.rania, `/tickets/${refs.pothole}`);
    expect(res.status).toBe(200);
    const ticket = TicketDetail.parse(res.body);
    expect(ticket).toMatchObject({
      reference: refs.pothole,
      status: "in_progress",
      category: { code: "roads" },
      department: "public_works",
      assignee: { id: world.staff.rania.id, displayName: "Rania", username: "rania" },
      resident: { phone: phones.pothole, locale: "ar", optedOut: false },
      address: "قدام الجامع",
      location: null,
      media: [],
      whatsappWindow: null,
    });
    expect(ticket.messages.at(-1)).toMatchObject({
      direction: "outbound",
      kind: "staff",
      body: "سنرسل فريقاً غداً",
      status: "queued",
      errorCode: null,
      author: { id: world.staff.rania.id, displayName: "Rania" },
    });
    expect(ticket.messages.some((m) => m.direction === "inbound" && m.kind === "resident")).toBe(true);
    const rania = { id: world.staff.rania.id, displayName: "Rania" };
    expect(ticket.history).toEqual([
      { kind: "created", actorType: "resident", actor: null, data: { channel: "sms", route: "twilio", needsHuman: false, childRelatedAtFiling: false }, createdAt: expect.any(String) },
      { kind: "assigned", actorType: "staff", actor: rania, data: { from: null, to: rania.id }, createdAt: expect.any(String) },
      { kind: "reply", actorType: "staff", actor: rania, data: { messageId: ticket.messages.at(-1)!.id, delivery: "queued" }, createdAt: expect.any(String) },
      { kind: "status_changed", actorType: "staff", actor: rania, data: { from: "new", to: "in_progress" }, createdAt: expect.any(String) },
    ]);
  });

  it("a WhatsApp ticket tells whether the 24-hour window is open", async () => {
    const res = await world.api.get(world.tokens.rania, `/tickets/${refs.whatsappPothole}`);
    expect(TicketDetail.parse(res.body).whatsappWindow).toEqual({ open: true, lastInboundAt: expect.stringMatching(/Z$/) });
  });

  it("leaks no secrets and no internal ids", async () => {
    const res = await world.api.get(world.tokens.hala, `/tickets/${refs.pothole}`);
    for (const secret of ["passwordHash", "tokenHash", "scrypt$", "residentId", "categoryId", "ticketId", "municipalityId"]) expect(res.text).not.toContain(secret);
  });

  it("another department's ticket is a 404 exactly like one that does not exist", async () => {
    const elsewhere = await world.api.get(world.tokens.karim, `/tickets/${refs.pothole}`);
    const missing = await world.api.get(world.tokens.karim, "/tickets/99999");
    expect(elsewhere.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(elsewhere.body).toEqual({ error: `No ticket #${refs.pothole}` });
    expect(missing.body).toEqual({ error: "No ticket #99999" });
    // A ticket routed to administration is for admins only.
    expect((await world.api.get(world.tokens.rania, `/tickets/${refs.someone}`)).status).toBe(404);
    expect((await world.api.get(world.tokens.hala, `/tickets/${refs.someone}`)).status).toBe(200);
  });

  it.each(["abc", "0", "10427abc", "-5", "1e4", "12345678901"])("a reference that is not a ticket number (%s) is a 400", async (reference) => {
    const res = await world.api.get(world.tokens.hala, `/tickets/${reference}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^Invalid path: reference: must be a ticket reference/);
  });
});
