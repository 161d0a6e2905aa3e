import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadResources } from "../../src/i18n/createI18n.js";
import { freeReference } from "../../src/db/hot/tickets.js";
import { inbound } from "../support/builders.js";
import { createTestWorld, MUNICIPALITY, predictableRandom } from "../support/testApp.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
beforeAll(async () => {
  world = await createTestWorld();
});
afterAll(async () => {
  await world.drop();
});

let phoneCounter = 0;
/** A resident with a phone number no other test uses. */
function resident(channel: "sms" | "whatsapp" = "sms") {
  const from = `+9617${String(1000000 + ++phoneCounter).slice(1)}`;
  return {
    from,
    say: async (text: string, extra: Partial<Parameters<World["inbox"]>[0]> = {}) => {
      const result = await world.inbox(inbound({ from, channel, text, ...extra }));
      return result.replies.join("\n");
    },
  };
}

async function residentRow(phone: string) {
  return world.db.resident.findUniqueOrThrow({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone } } });
}

describe("filing through the database", () => {
  it("stores the ticket with its category, department and history, and links the conversation to it", async () => {
    const rima = resident();
    await rima.say("في جورة كبيرة بالطريق العام");
    await rima.say("1");
    await rima.say("قدام الجامع");
    const filed = await rima.say("1");
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    expect(reference).toBeGreaterThanOrEqual(10000);

    const ticket = await world.db.ticket.findFirstOrThrow({
      where: { reference },
      include: { category: true, events: true, messages: { orderBy: { id: "asc" } }, resident: true },
    });
    expect(ticket).toMatchObject({
      municipalityId: MUNICIPALITY,
      description: "في جورة كبيرة بالطريق العام",
      addressText: "قدام الجامع",
      status: "new",
      department: "public_works",
      channel: "sms",
      locale: "ar",
      needsHuman: false,
    });
    expect(ticket.category?.code).toBe("roads");
    expect(ticket.resident?.phone).toBe(rima.from);
    expect(ticket.events.map((e) => e.kind)).toEqual(["created"]);
    // four messages in, four replies out
    expect(ticket.messages.map((m) => m.direction)).toEqual(["inbound", "outbound", "inbound", "outbound", "inbound", "outbound", "inbound", "outbound"]);
    expect(ticket.messages.at(-1)?.body).toBe(filed);
  });

  it("a WhatsApp pin and photo are kept on the ticket", async () => {
    const sami = resident("whatsapp");
    await sami.say("el zbele mkawme 7ad el madrase");
    await sami.say("1");
    await sami.say("", { location: { latitude: 33.7934, longitude: 35.8237, label: "Qab Elias" } });
    await sami.say("", { media: [{ url: "https://api.twilio.com/x/Media/ME1", contentType: "image/jpeg" }] });
    const filed = await sami.say("1");
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference } });
    expect(ticket).toMatchObject({ latitude: 33.7934, longitude: 35.8237, locationLabel: "Qab Elias", childRelated: true, channel: "whatsapp" });
    expect(JSON.parse(ticket.media)).toEqual([{ url: "https://api.twilio.com/x/Media/ME1", contentType: "image/jpeg" }]);
  });

  it("remembers the resident's language, name and when they last wrote on each channel", async () => {
    const nour = resident("whatsapp");
    const before = new Date();
    await nour.say("hello", { profileName: "Nour" });
    const row = await world.db.resident.findUniqueOrThrow({
      where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone: nour.from } },
      include: { identities: true },
    });
    expect(row).toMatchObject({ locale: "en", profileName: "Nour" });
    expect(row.identities).toHaveLength(1);
    expect(row.identities[0]).toMatchObject({ channel: "whatsapp", address: nour.from });
    expect(row.identities[0]!.lastInboundAt!.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
  });

  it("a resident asking for a person gets a ticket waiting for staff", async () => {
    const ali = resident();
    const reply = await ali.say("بدي احكي مع موظف");
    const reference = Number(/#(\d+)/.exec(reply)?.[1]);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference } });
    expect(ticket).toMatchObject({ needsHuman: true, status: "waiting_staff", description: "بدي احكي مع موظف" });
  });
});

describe("one message, one outcome", () => {
  it("a redelivered message returns the same reply and changes nothing", async () => {
    const maya = resident();
    await maya.say("I want to report a problem");
    const message = inbound({ from: maya.from, text: "2" });
    const first = await world.inbox(message);
    const counts = async () => ({
      messages: await world.db.message.count(),
      tickets: await world.db.ticket.count(),
      state: (await world.db.conversation.findFirst({ where: { resident: { phone: maya.from } } }))?.state,
    });
    const before = await counts();
    const again = await world.inbox({ ...message, receivedAt: new Date() });
    expect(again).toEqual({ replies: first.replies, duplicate: true });
    expect(await counts()).toEqual(before);
  });

  it("two messages from one resident at the same moment do not file twice or corrupt the conversation", async () => {
    const hadi = resident();
    await hadi.say("no water since yesterday");
    await hadi.say("yes");
    await hadi.say("Old souk");
    const [a, b] = await Promise.all([world.inbox(inbound({ from: hadi.from, text: "1" })), world.inbox(inbound({ from: hadi.from, text: "1" }))]);
    const tickets = await world.db.ticket.findMany({ where: { resident: { phone: hadi.from } } });
    expect(tickets).toHaveLength(1);
    // the first "1" confirmed the request; the second, at the menu, started a new one
    expect(a.replies[0]).toContain(`#${tickets[0]!.reference}`);
    expect(b.replies[0]).toContain("What is it about?");
  });

  it("the same message delivered twice at the same moment is handled once", async () => {
    const lina = resident();
    const message = inbound({ from: lina.from, text: "بدي احكي مع موظف" });
    const results = await Promise.all([world.inbox(message), world.inbox({ ...message })]);
    expect(results.map((r) => r.duplicate).sort()).toEqual([false, true]);
    expect(results[0]!.replies).toEqual(results[1]!.replies);
    expect(await world.db.ticket.count({ where: { resident: { phone: lina.from } } })).toBe(1);
  });

  it("many residents at once are all answered", async () => {
    const crowd = Array.from({ length: 12 }, () => resident());
    const replies = await Promise.all(crowd.map((r) => r.say("مرحبا")));
    expect(replies.every((r) => r.includes("أرسل رقماً"))).toBe(true);
  });

  it("when handling fails halfway, nothing is written", async () => {
    const broken = loadResources();
    const ar = broken.ar!.bot as { intake: Record<string, unknown> };
    delete ar.intake.filed;
    const faulty = await createTestWorld({ resources: broken });
    try {
      const from = "+96171999999";
      for (const text of ["في حفرة كبيرة بنص الطريق", "1", "الساحة"]) await faulty.inbox(inbound({ from, text }));
      const before = { messages: await faulty.db.message.count(), state: (await faulty.db.conversation.findFirst())?.state };
      await expect(faulty.inbox(inbound({ from, text: "1" }))).rejects.toThrow(/intake\.filed/);
      expect(await faulty.db.ticket.count()).toBe(0);
      expect(await faulty.db.message.count()).toBe(before.messages);
      expect((await faulty.db.conversation.findFirst())?.state).toBe(before.state);
    } finally {
      await faulty.drop();
    }
  });
});

describe("the resident's choices are kept", () => {
  it("STOP is stored with its time; START clears it", async () => {
    const omar = resident();
    expect(await omar.say("STOP")).toContain("Send START");
    expect(await residentRow(omar.from)).toMatchObject({ optedOut: true, optedOutAt: expect.any(Date) });
    expect(await omar.say("hello")).toBe("");
    await omar.say("START");
    expect(await residentRow(omar.from)).toMatchObject({ optedOut: false, optedInAt: expect.any(Date) });
  });

  it("a resident never sees another resident's request", async () => {
    const owner = resident();
    const filed = await owner.say("can I talk to someone");
    const reference = /#(\d+)/.exec(filed)?.[1];
    const stranger = resident();
    await stranger.say("hello");
    expect(await stranger.say(`status ${reference}`)).toBe(`No request #${reference} found for your number.`);
    expect(await owner.say(`status ${reference}`)).toBe(`#${reference} Unspecified: waiting for staff`);
  });

  it("an unreadable stored conversation starts again politely", async () => {
    const zeina = resident();
    await zeina.say("مرحبا");
    const row = await residentRow(zeina.from);
    await world.db.conversation.update({ where: { residentId: row.id }, data: { state: '{"version":99}' } });
    expect((await zeina.say("1")).startsWith("عذراً، لنبدأ من جديد.")).toBe(true);
  });
});

describe("references", () => {
  it("skip numbers already in use", async () => {
    const owner = await world.db.resident.create({ data: { municipalityId: MUNICIPALITY, phone: "+96170111111" } });
    await world.db.ticket.create({ data: { municipalityId: MUNICIPALITY, reference: 50000, residentId: owner.id, description: "", channel: "sms", locale: "ar" } });
    // 10000 + 40000 = 50000 is taken; the next candidate is used
    const reference = await freeReference(world.hot.db, MUNICIPALITY, predictableRandom([40000, 40000, 40001]));
    expect(reference).toBe(50001);
  });
});

describe("a resident answering staff, through the database", () => {
  it("the answer joins the ticket, which waits for staff again", async () => {
    const { createStaff, actorById } = await import("../../src/services/staff.js");
    const { replyToTicket } = await import("../../src/services/staffActions.js");
    const staff = await createStaff(world.db, { municipalityId: MUNICIPALITY, username: "hadi", displayName: "Hadi", passwordHash: "scrypt$x", role: "admin", departments: [], locale: "ar" });
    const actor = (await actorById(world.db, staff.id))!;
    const nour = resident();
    const filed = await nour.say("بدي احكي مع موظف");
    const reference = Number(/#(\d+)/.exec(filed)?.[1]);
    const reply = await world.db.$transaction((tx) => replyToTicket(tx, { municipalityId: MUNICIPALITY, now: new Date(), render: () => "" }, actor, reference, "أي شارع؟"));
    expect(reply.ok).toBe(true);
    expect((await world.db.ticket.findFirstOrThrow({ where: { reference } })).status).toBe("in_progress");

    const answer = await nour.say("شارع المدارس، قرب الفرن");
    expect(answer).toBe(`شكراً، أضفنا رسالتك إلى الطلب #${reference}. سيرد الموظفون هنا.`);
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { reference }, include: { events: true, messages: { where: { direction: "inbound" } } } });
    expect(ticket.status).toBe("waiting_staff");
    expect(ticket.events.map((e) => e.kind)).toContain("resident_replied");
    expect(ticket.messages.map((m) => m.body)).toContain("شارع المدارس، قرب الفرن");
  });
});
