import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NoteResponse, ReplyResponse, TicketChangeResponse, TicketDetail } from "../../../src/http/api/apiSchemas.js";
import { MUNICIPALITY } from "../../support/testApp.js";
import { postToTwilioWebhook, twilioPayload } from "../../support/twilio.js";
import { createApiWorld, freshPhone, REQUESTS, residentFiles, type ApiWorld } from "./apiWorld.js";

const TEMPLATE = "HX0123456789abcdef0123456789abcdef";
let world: ApiWorld;
beforeAll(async () => {
  world = await createApiWorld({ whatsappTemplateSid: TEMPLATE });
});
afterAll(async () => {
  await world.drop();
});

/** A fresh request from a fresh resident: each scenario works on its own ticket. */
async function filed(lines: readonly string[], channel: "sms" | "whatsapp" = "sms") {
  const phone = freshPhone();
  return { phone, reference: await residentFiles(world.app, channel, phone, lines) };
}
const pothole = () => filed(REQUESTS.potholeBySms);
const rowCounts = async () => ({ messages: await world.db.message.count(), outbox: await world.db.outbox.count(), events: await world.db.ticketEvent.count() });
const historyOf = async (reference: number) => TicketDetail.parse((await world.api.get(world.tokens.hala, `/tickets/${reference}`)).body).history;

describe("POST /api/v1/tickets/:reference/replies", () => {
  it("queues the reply on the resident's channel: 201, the message and its outbox row exist", async () => {
    const { phone, reference } = await pothole();
    const res = await world.api.post(world.tokens.rania, `/tickets/${reference}/replies`, { body: "  سنرسل فريقاً غداً صباحاً  " });

    expect(res.status).toBe(201);
    const { delivery } = ReplyResponse.parse(res.body);
    expect(delivery).toEqual({ status: "queued", messageId: expect.any(Number) });
    const message = await world.db.message.findUniqueOrThrow({ where: { id: delivery.messageId }, include: { outbox: true } });
    expect(message).toMatchObject({ direction: "outbound", channel: "sms", kind: "staff", body: "سنرسل فريقاً غداً صباحاً", status: "queued", staffId: world.staff.rania.id });
    expect(message.outbox).toMatchObject({ toAddress: phone, channel: "sms", status: "pending", body: "سنرسل فريقاً غداً صباحاً" });
    const ticket = TicketDetail.parse((await world.api.get(world.tokens.rania, `/tickets/${reference}`)).body);
    expect(ticket.status).toBe("in_progress");
  });

  it("to a resident who opted out: nothing is sent, and the answer says why", async () => {
    const { phone, reference } = await filed(REQUESTS.waterLeakBySms);
    await postToTwilioWebhook(world.app, twilioPayload("sms", { From: phone, Body: "STOP" }));

    const res = await world.api.post(world.tokens.karim, `/tickets/${reference}/replies`, { body: "We fixed the pipe." });
    expect(res.status).toBe(201);
    const { delivery } = ReplyResponse.parse(res.body);
    expect(delivery).toEqual({ status: "not_sent", reason: "opted_out", messageId: expect.any(Number) });
    expect(await world.db.outbox.count({ where: { messageId: delivery.messageId } })).toBe(0);
    expect(await world.db.message.findUniqueOrThrow({ where: { id: delivery.messageId } })).toMatchObject({ status: "not_sent", errorCode: "opted_out" });
  });

  it("on WhatsApp inside the 24-hour window: queued to the resident's WhatsApp address", async () => {
    const { phone, reference } = await filed(REQUESTS.potholeOnWhatsApp, "whatsapp");
    const { delivery } = ReplyResponse.parse((await world.api.post(world.tokens.rania, `/tickets/${reference}/replies`, { body: "On our way" })).body);
    expect(delivery.status).toBe("queued");
    expect(await world.db.outbox.findUniqueOrThrow({ where: { messageId: delivery.messageId } })).toMatchObject({ toAddress: `whatsapp:${phone}`, status: "pending" });
  });

  it("on WhatsApp two days after the resident's last message: held, and the approved template queued once", async () => {
    const { phone, reference } = await filed(REQUESTS.potholeOnWhatsApp, "whatsapp");
    await world.db.channelIdentity.update({
      where: { municipalityId_channel_address: { municipalityId: MUNICIPALITY, channel: "whatsapp", address: phone } },
      data: { lastInboundAt: new Date(Date.now() - 2 * 86_400_000) },
    });
    const detail = TicketDetail.parse((await world.api.get(world.tokens.rania, `/tickets/${reference}`)).body);
    expect(detail.whatsappWindow?.open).toBe(false);

    const first = await world.api.post(world.tokens.rania, `/tickets/${reference}/replies`, { body: "The crew comes tomorrow" });
    const second = await world.api.post(world.tokens.rania, `/tickets/${reference}/replies`, { body: "Actually, this afternoon" });
    expect(ReplyResponse.parse(first.body).delivery).toEqual({ status: "held", templateQueued: true, messageId: expect.any(Number) });
    expect(ReplyResponse.parse(second.body).delivery).toEqual({ status: "held", templateQueued: false, messageId: expect.any(Number) });

    const resident = await world.db.resident.findFirstOrThrow({ where: { phone } });
    const outbox = await world.db.outbox.findMany({ where: { residentId: resident.id }, orderBy: { id: "asc" } });
    expect(outbox.map((o) => [o.status, o.contentSid])).toEqual([
      ["held", null],
      ["pending", TEMPLATE],
      ["held", null],
    ]);
    expect(JSON.parse(outbox[1]!.contentVariables!)).toEqual({ 1: String(reference) });
  });
});

describe("another department's ticket cannot be acted on: 404 like a missing one, nothing written", () => {
  const actions: Array<[string, "post" | "patch", string, object]> = [
    ["reply", "post", "/replies", { body: "hello" }],
    ["note", "post", "/notes", { text: "looked at it" }],
    ["assignment", "post", "/assignment", { assigneeId: "me" }],
    ["status", "post", "/status", { status: "resolved" }],
    ["recategorize", "patch", "", { categoryCode: "water" }],
  ];
  it.each(actions)("%s", async (_action, method, suffix, body) => {
    const { reference } = await pothole();
    const before = await rowCounts();
    const elsewhere = await world.api[method](world.tokens.karim, `/tickets/${reference}${suffix}`, body);
    const missing = await world.api[method](world.tokens.karim, `/tickets/99999${suffix}`, body);
    expect([elsewhere.status, missing.status]).toEqual([404, 404]);
    expect(elsewhere.body).toEqual({ error: `No ticket #${reference}` });
    expect(missing.body).toEqual({ error: "No ticket #99999" });
    expect(await rowCounts()).toEqual(before);
  });
});

describe("POST /api/v1/tickets/:reference/notes", () => {
  it("adds an internal note to the history and sends nothing", async () => {
    const { reference } = await pothole();
    const before = await world.db.message.count();
    const res = await world.api.post(world.tokens.rania, `/tickets/${reference}/notes`, { text: "Called the contractor; crew booked for Tuesday." });

    expect(res.status).toBe(201);
    expect(NoteResponse.parse(res.body)).toEqual({
      note: { text: "Called the contractor; crew booked for Tuesday.", author: { id: world.staff.rania.id, displayName: "Rania" }, createdAt: expect.any(String) },
    });
    expect((await historyOf(reference)).at(-1)).toMatchObject({ kind: "note", actor: { displayName: "Rania" }, data: { text: "Called the contractor; crew booked for Tuesday." } });
    expect(await world.db.message.count()).toBe(before);
  });
});

describe("POST /api/v1/tickets/:reference/assignment", () => {
  it('"me", a colleague who may work it, a colleague who may not (400), and nobody', async () => {
    const { reference } = await pothole();
    const assign = (assigneeId: unknown) => world.api.post(world.tokens.rania, `/tickets/${reference}/assignment`, { assigneeId });

    const toMe = await assign("me");
    expect(toMe.status).toBe(200);
    expect(TicketChangeResponse.parse(toMe.body).ticket.assignee).toEqual({ id: world.staff.rania.id, displayName: "Rania" });

    expect(TicketChangeResponse.parse((await assign(world.staff.hala.id)).body).ticket.assignee?.displayName).toBe("Hala");

    const karim = await assign(world.staff.karim.id);
    expect(karim.status).toBe(400);
    expect(karim.body).toEqual({ error: "That person cannot work this ticket" });
    expect((await assign(99999)).status).toBe(400);

    const nobody = await assign(null);
    expect(nobody.status).toBe(200);
    expect(TicketChangeResponse.parse(nobody.body).ticket.assignee).toBeNull();
    expect((await historyOf(reference)).filter((e) => e.kind === "assigned").map((e) => e.data)).toEqual([
      { from: null, to: world.staff.rania.id },
      { from: world.staff.rania.id, to: world.staff.hala.id },
      { from: world.staff.hala.id, to: null },
    ]);
  });
});

describe("POST /api/v1/tickets/:reference/status", () => {
  it("resolving notifies an Arabic-speaking resident in Arabic, with the reference and how to reopen", async () => {
    const { phone, reference } = await pothole();
    const res = await world.api.post(world.tokens.rania, `/tickets/${reference}/status`, { status: "resolved" });

    expect(res.status).toBe(200);
    const body = TicketChangeResponse.parse(res.body);
    expect(body.ticket.status).toBe("resolved");
    expect(body.delivery).toEqual({ status: "queued", messageId: expect.any(Number) });
    const message = await world.db.message.findUniqueOrThrow({ where: { id: body.delivery!.messageId }, include: { outbox: true } });
    expect(message).toMatchObject({ kind: "notification", channel: "sms", body: `تمت معالجة طلبك #${reference}. إن بقيت المشكلة، أرسل 1.` });
    expect(message.outbox).toMatchObject({ toAddress: phone, status: "pending" });
  });

  it("closing notifies an English-speaking resident in English", async () => {
    const { reference } = await filed(REQUESTS.waterLeakBySms);
    const body = TicketChangeResponse.parse((await world.api.post(world.tokens.karim, `/tickets/${reference}/status`, { status: "closed" })).body);
    const message = await world.db.message.findUniqueOrThrow({ where: { id: body.delivery!.messageId } });
    expect(message.body).toBe(`Your request #${reference} has been closed. If the problem is still there, reply 1.`);
  });

  it("other statuses tell the resident nothing", async () => {
    const { reference } = await pothole();
    const before = await world.db.message.count();
    const res = await world.api.post(world.tokens.rania, `/tickets/${reference}/status`, { status: "in_progress" });
    expect(res.status).toBe(200);
    expect(res.body.delivery).toBeUndefined();
    expect(TicketChangeResponse.parse(res.body).ticket.status).toBe("in_progress");
    expect(await world.db.message.count()).toBe(before);
  });
});

describe("PATCH /api/v1/tickets/:reference", () => {
  it("a new category brings its department; the history speaks in codes", async () => {
    const { reference } = await pothole();
    const res = await world.api.patch(world.tokens.hala, `/tickets/${reference}`, { categoryCode: "water" });

    expect(res.status).toBe(200);
    expect(TicketChangeResponse.parse(res.body).ticket).toMatchObject({ category: { code: "water", nameEn: "Water" }, department: "water" });
    expect((await historyOf(reference)).at(-1)).toMatchObject({
      kind: "category_changed",
      data: { fromCategory: "roads", toCategory: "water", fromDepartment: "public_works", toDepartment: "water" },
    });
  });

  it("a department can be chosen on its own", async () => {
    const { reference } = await pothole();
    const res = await world.api.patch(world.tokens.hala, `/tickets/${reference}`, { department: "sanitation" });
    expect(TicketChangeResponse.parse(res.body).ticket).toMatchObject({ category: { code: "roads" }, department: "sanitation" });
  });

  it("an agent who moves a ticket out of their departments can no longer open it", async () => {
    const { reference } = await pothole();
    expect((await world.api.patch(world.tokens.rania, `/tickets/${reference}`, { categoryCode: "water" })).status).toBe(200);
    expect((await world.api.get(world.tokens.rania, `/tickets/${reference}`)).status).toBe(404);
    expect((await world.api.get(world.tokens.karim, `/tickets/${reference}`)).status).toBe(200);
  });

  it.each([
    [{ categoryCode: "potholes" }, "Unknown category potholes"],
    [{ department: "fire_brigade" }, "Unknown department fire_brigade"],
  ])("an unknown code is a 400 (%o)", async (change, error) => {
    const { reference } = await pothole();
    const res = await world.api.patch(world.tokens.hala, `/tickets/${reference}`, change);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
  });
});

describe("bad requests are a 400 naming the problems, never a 500", () => {
  let reference: number;
  beforeAll(async () => {
    ({ reference } = await pothole());
  });

  const cases: Array<[string, "post" | "patch", string, object, string]> = [
    ["a reply without a body", "post", "/replies", {}, "Invalid request body: body: required"],
    ["a blank reply", "post", "/replies", { body: "  \n " }, "Invalid request body: body: must not be empty"],
    ["a reply that is a number", "post", "/replies", { body: 42 }, "Invalid request body: body: Invalid input: expected string, received number"],
    ["a reply over 1600 characters", "post", "/replies", { body: "x".repeat(1601) }, "Invalid request body: body: must be at most 1600 characters"],
    ["a reply with a NUL character", "post", "/replies", { body: "hi\u0000" }, "Invalid request body: body: must not contain NUL characters"],
    ["a misspelt field", "post", "/replies", { body: "hi", bdy: "hi" }, 'Invalid request body: Unrecognized key: "bdy"'],
    ["a note without text", "post", "/notes", { note: "hi" }, 'Invalid request body: text: required; Unrecognized key: "note"'],
    ["an assignment without assigneeId", "post", "/assignment", {}, "Invalid request body: assigneeId: required"],
    ["an assignee that is a name", "post", "/assignment", { assigneeId: "karim" }, 'Invalid request body: assigneeId: must be a staff id, "me" or null'],
    ["an assignee id that is not whole", "post", "/assignment", { assigneeId: 1.5 }, 'Invalid request body: assigneeId: must be a staff id, "me" or null'],
    ["an assignee id beyond any id the database holds", "post", "/assignment", { assigneeId: 10 ** 12 }, "Invalid request body: assigneeId: is not a staff id"],
    ["an unknown status", "post", "/status", { status: "done" }, 'Invalid request body: status: Invalid option: expected one of "new"|"waiting_staff"|"in_progress"|"resolved"|"closed"'],
    ["a change of nothing", "patch", "", {}, "Invalid request body: send categoryCode, department or both"],
    ["a category code that is not a code", "patch", "", { categoryCode: "Roads!" }, "Invalid request body: categoryCode: must be a code of lowercase letters and underscores"],
    ["a JSON array", "post", "/notes", ["hi"], "Invalid request body: Invalid input: expected object, received array"],
  ];
  it.each(cases)("%s", async (_case, method, suffix, body, error) => {
    const before = await rowCounts();
    const res = await request(world.app)[method](`/api/v1/tickets/${reference}${suffix}`).set("Authorization", `Bearer ${world.tokens.rania}`).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error });
    expect(await rowCounts()).toEqual(before);
  });

  it("malformed JSON", async () => {
    const res = await request(world.app).post(`/api/v1/tickets/${reference}/notes`).set("Authorization", `Bearer ${world.tokens.rania}`).type("json").send('{"text": "unterminated');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Malformed request body" });
  });

  it.each([
    ["a form instead of JSON", (r: request.Test) => r.type("form").send({ text: "hi" })],
    ["no body at all", (r: request.Test) => r],
  ])("%s", async (_case, withBody) => {
    const res = await withBody(request(world.app).post(`/api/v1/tickets/${reference}/notes`).set("Authorization", `Bearer ${world.tokens.rania}`));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Expected a JSON body with Content-Type: application/json" });
  });

  it("a body over 64 kB is a 413", async () => {
    const before = await rowCounts();
    const res = await world.api.post(world.tokens.rania, `/tickets/${reference}/notes`, { text: "ب".repeat(40_000) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: "Request body too large" });
    expect(await rowCounts()).toEqual(before);
  });
});
