import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reopenOfferState } from "../../src/conversation/state.js";
import { createInbox, type Inbox } from "../../src/inbox/handleInbound.js";
import type { InboundMessage } from "../../src/inbox/inboundMessage.js";
import { seedCategories } from "../../src/services/seed.js";
import { inbound } from "../support/builders.js";
import { inboxDeps, MUNICIPALITY } from "../support/testApp.js";
import { createTestDatabase, type TestDatabase } from "../support/testDb.js";

// A resident's follow-up reaches staff: the message joins the open request, the request waits for
// staff again and is unread; "1" after a resolution reopens it. Through the real inbox and database.

let t: TestDatabase;
let inbox: Inbox;
// The inbox's clock: each message a minute after the one before (milliseconds kept by both databases).
let now = new Date("2026-11-29T09:00:00.123Z");
const tick = () => (now = new Date(now.getTime() + 60_000));

beforeAll(async () => {
  t = await createTestDatabase();
  await seedCategories(t.db, MUNICIPALITY);
  inbox = createInbox(inboxDeps(t, { clock: () => now }));
});
afterAll(async () => {
  await t.drop();
});

let phones = 0;
function resident(channel: "sms" | "whatsapp" = "sms") {
  const from = `+9617${String(6_000_000 + ++phones).slice(1)}`;
  return {
    from,
    say: async (text: string, extra: Partial<InboundMessage> = {}) => {
      tick();
      const result = await inbox(inbound({ from, channel, text, ...extra }));
      return result.replies.join("\n");
    },
  };
}
type Resident = ReturnType<typeof resident>;

/** Files a road request by SMS; returns its reference. */
async function files(who: Resident, description = "في جورة كبيرة بالطريق العام"): Promise<number> {
  await who.say(description);
  await who.say("1");
  await who.say("قدام الجامع");
  const filed = await who.say("1");
  return Number(/#(\d+)/.exec(filed)?.[1]);
}

const ticketOf = (reference: number) =>
  t.db.ticket.findFirstOrThrow({
    where: { municipalityId: MUNICIPALITY, reference },
    include: { events: { orderBy: { id: "asc" } }, messages: { orderBy: { id: "asc" } } },
  });

describe("a follow-up on the resident's one open request", () => {
  it("the issue's example: attached, waiting for staff again, unread, and the resident told where it went", async () => {
    const rima = resident();
    const reference = await files(rima);
    // Staff took it up and answered: in progress, nothing waiting.
    await t.db.ticket.update({ where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference } }, data: { status: "in_progress", waitingSince: null } });

    const reply = await rima.say("شكراً، إيمتى رح تجوا تصلحوها؟");
    expect(reply).toBe(`شكراً، أضفنا رسالتك إلى الطلب #${reference}. سيرد الموظفون هنا.`);
    const ticket = await ticketOf(reference);
    expect(ticket).toMatchObject({ status: "waiting_staff", lastResidentAt: now, waitingSince: now, updatedAt: now });
    expect(ticket.events.map((e) => [e.kind, e.data])).toEqual([
      ["created", expect.any(String)],
      ["resident_replied", '{"from":"in_progress"}'],
    ]);
    // The follow-up and the bot's answer are in the ticket's conversation.
    expect(ticket.messages.slice(-2).map((m) => [m.direction, m.body])).toEqual([
      ["inbound", "شكراً، إيمتى رح تجوا تصلحوها؟"],
      ["outbound", reply],
    ]);
  });

  it("a new request stays new and keeps waiting since it was filed", async () => {
    const sami = resident();
    const reference = await files(sami);
    const filedAt = (await ticketOf(reference)).createdAt;
    await sami.say("thanks, when will you come to fix it?");
    const ticket = await ticketOf(reference);
    expect(ticket).toMatchObject({ status: "new", waitingSince: filedAt, lastResidentAt: now });
    expect(ticket.messages.at(-2)?.body).toBe("thanks, when will you come to fix it?");
  });

  it("without an open request, the message stays on no ticket and the menu is shown, as before", async () => {
    const nour = resident();
    const reply = await nour.say("شكراً، إيمتى رح تجوا تصلحوها؟");
    expect(reply).toContain("1 طلب جديد");
    const stored = await t.db.message.findFirstOrThrow({ where: { body: "شكراً، إيمتى رح تجوا تصلحوها؟", resident: { phone: nour.from } } });
    expect(stored.ticketId).toBeNull();
  });
});

describe("several open requests", () => {
  it("asks which one; '٢' puts the follow-up, the question and the answer on the second", async () => {
    const hadi = resident();
    const older = await files(hadi);
    const newer = await files(hadi, "المي مقطوعة عنا من يومين");
    const before = await ticketOf(newer);

    const asked = await hadi.say("شكراً، إيمتى رح تجوا تصلحوها؟");
    expect(asked).toBe(`رسالتك عن أي طلب؟ أرسل رقماً:\n1 #${newer} مياه\n2 #${older} طرقات وحفر`);
    const waiting = await t.db.message.findMany({ where: { resident: { phone: hadi.from }, ticketId: null }, orderBy: { id: "asc" } });
    expect(waiting.map((m) => m.body)).toEqual(["شكراً، إيمتى رح تجوا تصلحوها؟", asked]);

    const chosen = await hadi.say("٢");
    expect(chosen).toBe(`شكراً، أضفنا رسالتك إلى الطلب #${older}. سيرد الموظفون هنا.`);
    const ticket = await ticketOf(older);
    expect(ticket).toMatchObject({ status: "new", lastResidentAt: now });
    expect(ticket.messages.slice(-4).map((m) => m.body)).toEqual(["شكراً، إيمتى رح تجوا تصلحوها؟", asked, "٢", chosen]);
    expect(ticket.events.map((e) => e.kind)).toEqual(["created", "resident_replied"]);
    // The other request is untouched.
    expect(await ticketOf(newer)).toEqual(before);
    expect(await t.db.message.count({ where: { resident: { phone: hadi.from }, ticketId: null } })).toBe(0);
  });

  it("'0' instead leaves the follow-up on no ticket, where staff see it as today", async () => {
    const lina = resident();
    await files(lina);
    await files(lina, "المي مقطوعة عنا من يومين");
    await lina.say("إيمتى رح تجوا؟");
    expect(await lina.say("0")).toContain("1 طلب جديد");
    const loose = await t.db.message.findMany({ where: { resident: { phone: lina.from }, ticketId: null, direction: "inbound" }, orderBy: { id: "asc" } });
    expect(loose.map((m) => m.body)).toEqual(["إيمتى رح تجوا؟", "0"]);
  });
});

describe("reopening with '1' after a resolution", () => {
  it("the ticket is new again, reopened, waiting and unread from now; the '1' is on it", async () => {
    const maya = resident();
    const reference = await files(maya);
    const row = await t.db.ticket.update({
      where: { municipalityId_reference: { municipalityId: MUNICIPALITY, reference } },
      data: { status: "resolved", waitingSince: null },
      include: { resident: true },
    });
    await t.db.conversation.update({ where: { residentId: row.resident!.id }, data: { state: JSON.stringify(reopenOfferState(reference)) } });

    const reply = await maya.say("1");
    expect(reply).toBe(`أعدنا فتح طلبك #${reference}. سيتابعه الموظفون.`);
    const ticket = await ticketOf(reference);
    expect(ticket).toMatchObject({ status: "new", reopenedAt: now, waitingSince: now, lastResidentAt: now });
    expect(ticket.events.map((e) => e.kind)).toEqual(["created", "reopened"]);
    expect(ticket.messages.slice(-2).map((m) => m.body)).toEqual(["1", reply]);
  });
});

describe("a WhatsApp pin with a place name and an address", () => {
  it("keeps both on the ticket: the name on the pin, the address as its address", async () => {
    const rana = resident("whatsapp");
    await rana.say("fi jora kbire bel tari2");
    await rana.say("1");
    await rana.say("", { location: { latitude: 33.7934, longitude: 35.8237, label: "Qab Elias Municipality", address: "Main Road, Qab Elias" } });
    await rana.say("1");
    const filed = await rana.say("1");
    const ticket = await ticketOf(Number(/#(\d+)/.exec(filed)?.[1]));
    expect(ticket).toMatchObject({ latitude: 33.7934, longitude: 35.8237, locationLabel: "Qab Elias Municipality", addressText: "Main Road, Qab Elias" });
  });
});
