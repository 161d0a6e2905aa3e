import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyDeliveryStatus } from "../../src/services/deliveryStatus.js";
import { assignTicket, changeStatus, recategorize, replyToTicket } from "../../src/services/staffActions.js";
import type { Actor } from "../../src/services/staff.js";
import { ticketDetail } from "../../src/services/ticketQueries.js";
import { inbound } from "../support/builders.js";
import { newPhone, residentFiles, staffMember, type World } from "../support/staffWorld.js";
import { createTestWorld, MUNICIPALITY } from "../support/testApp.js";

const TEMPLATE = "HX0123456789abcdef0123456789abcdef";
let world: World;
let rania: Actor; // public works
let karim: Actor; // electricity
beforeAll(async () => {
  world = await createTestWorld({ whatsappTemplateSid: TEMPLATE });
  rania = await staffMember(world, { username: "rania", departments: ["public_works"] });
  karim = await staffMember(world, { username: "karim", departments: ["electricity"] });
});
afterAll(async () => {
  await world.drop();
});

const ctx = () => ({ ...world.deps.outbox, now: new Date() });
const ticketOf = (reference: number) => world.db.ticket.findFirstOrThrow({ where: { municipalityId: MUNICIPALITY, reference } });

describe("what staff see of a resident's conversation", () => {
  it("a message that belongs to no ticket is not shown to an agent who cannot see all the resident's open tickets", async () => {
    const from = newPhone();
    const pothole = await residentFiles(world, { from });
    const light = await residentFiles(world, { from, lines: ["عمود الكهربا بالشارع مطفي من جمعة", "1", "حي السراي", "1"] });
    await world.inbox(inbound({ from, text: "pole 42 is next to my daughter's school gate" }));

    const forRania = await world.db.$transaction((tx) => ticketDetail(tx, rania, pothole.reference, new Date()));
    expect(forRania?.messages.map((m) => m.body)).not.toContain("pole 42 is next to my daughter's school gate");
    const admin = { ...rania, role: "admin" as const };
    const forAdmin = await world.db.$transaction((tx) => ticketDetail(tx, admin, pothole.reference, new Date()));
    expect(forAdmin?.messages.map((m) => m.body)).toContain("pole 42 is next to my daughter's school gate");
    expect(light.reference).not.toBe(pothole.reference);
  });
});

describe("resolution notices", () => {
  it("use the ticket's language when the resident never settled on one", async () => {
    const { reference, from } = await residentFiles(world, { lines: ["huge pothole on the main road", "1", "Main square", "1"] });
    await world.db.resident.updateMany({ where: { phone: from }, data: { locale: null } });
    const result = await world.db.$transaction((tx) => changeStatus(tx, ctx(), rania, reference, "resolved"));
    expect(result.ok).toBe(true);
    const notice = await world.db.message.findFirstOrThrow({ where: { kind: "notification", ticket: { reference } } });
    expect(notice.body).toBe(`Your request #${reference} has been resolved. If the problem is still there, reply 1.`);
  });
});

describe("moving a ticket to another department", () => {
  it("unassigns someone who does not work the new department", async () => {
    const { reference } = await residentFiles(world);
    expect((await world.db.$transaction((tx) => assignTicket(tx, rania, reference, rania.id, new Date()))).ok).toBe(true);
    expect((await world.db.$transaction((tx) => recategorize(tx, rania, reference, { categoryCode: "lighting" }, new Date()))).ok).toBe(true);
    const ticket = await ticketOf(reference);
    expect(ticket).toMatchObject({ department: "electricity", assigneeId: null });
    expect((await world.db.$transaction((tx) => assignTicket(tx, karim, reference, karim.id, new Date()))).ok).toBe(true);
  });
});

describe("WhatsApp refusing a message for the 24-hour window in a delivery callback (63016)", () => {
  it("holds the message and sends the template, even when an old template went out days ago", async () => {
    const { reference, from } = await residentFiles(world, { channel: "whatsapp" });
    const resident = await world.db.resident.findFirstOrThrow({ where: { phone: from } });
    // A template went out ten days ago, before the resident's last message.
    await world.db.message.create({
      data: { municipalityId: MUNICIPALITY, residentId: resident.id, direction: "outbound", channel: "whatsapp", kind: "template", body: "old nudge", status: "delivered", createdAt: new Date(Date.now() - 10 * 86_400_000) },
    });
    const reply = await world.db.$transaction((tx) => replyToTicket(tx, ctx(), rania, reference, "The crew comes tomorrow"));
    if (!reply.ok) throw new Error(reply.message);
    const outbox = await world.db.outbox.findUniqueOrThrow({ where: { messageId: reply.delivery.messageId } });
    await world.db.outbox.update({ where: { id: outbox.id }, data: { status: "sent", providerMessageId: "SM" + "7".repeat(32) } });
    await world.db.message.update({ where: { id: reply.delivery.messageId }, data: { status: "sent", providerMessageId: "SM" + "7".repeat(32) } });

    await world.db.$transaction((tx) =>
      applyDeliveryStatus(tx, { providerMessageId: "SM" + "7".repeat(32), status: "failed", outboxId: outbox.id, errorCode: "63016" }, new Date(), world.deps.outbox),
    );
    expect(await world.db.message.findUniqueOrThrow({ where: { id: reply.delivery.messageId } })).toMatchObject({ status: "held", errorCode: "window_closed" });
    expect(await world.db.outbox.count({ where: { residentId: resident.id, contentSid: TEMPLATE, status: "pending" } })).toBe(1);
  });
});
