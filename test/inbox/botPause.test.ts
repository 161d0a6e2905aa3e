import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createI18n } from "../../src/i18n/createI18n.js";
import { createInbox, REDACTED_CODE, type Inbox } from "../../src/inbox/handleInbound.js";
import { KeyedQueue } from "../../src/lib/keyedQueue.js";
import { resumeBot } from "../../src/db/hot/residents.js";
import { inbound } from "../support/builders.js";
import { createTestWorld, MUNICIPALITY, predictableRandom } from "../support/testApp.js";
import { ORDINARY_SENTENCES, WHATSAPP_RECONNECT_BURST } from "../support/residentBursts.js";

type World = Awaited<ReturnType<typeof createTestWorld>>;
let world: World;
let inbox: Inbox;
/** The inbox's clock: each test moves it as its scenario needs. */
let now = new Date("2025-03-12T08:00:00Z");
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

beforeAll(async () => {
  world = await createTestWorld();
  // The real inbox, with the default budget (20 messages in 10 minutes, loops after 5) and a clock we move.
  inbox = createInbox({
    hot: world.hot,
    i18n: createI18n(),
    municipalityId: MUNICIPALITY,
    randomInt: predictableRandom([5000]),
    logger: world.logger,
    queue: new KeyedQueue(),
    clock: () => now,
  });
});
afterAll(async () => {
  await world.drop();
});

let phoneCounter = 0;
function resident(channel: "sms" | "whatsapp" = "sms") {
  const from = `+9617${String(5000000 + ++phoneCounter).slice(1)}`;
  return {
    from,
    /** Sends one message `gapMs` after the previous event; returns the bot's reply ("" for none). */
    say: async (text: string, gapMs = 1000) => {
      advance(gapMs);
      const result = await inbox(inbound({ from, channel, text, receivedAt: now }));
      return result.replies.join("\n");
    },
    row: () => world.db.resident.findUniqueOrThrow({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone: from } } }),
    counts: async () => {
      const row = await world.db.resident.findUniqueOrThrow({ where: { municipalityId_phone: { municipalityId: MUNICIPALITY, phone: from } } });
      return {
        inbound: await world.db.message.count({ where: { residentId: row.id, direction: "inbound" } }),
        replies: await world.db.message.count({ where: { residentId: row.id, direction: "outbound" } }),
        tickets: await world.db.ticket.count({ where: { residentId: row.id } }),
        state: (await world.db.conversation.findUnique({ where: { residentId: row.id } }))?.state,
      };
    },
  };
}

const i18n = createI18n();
const NOTICE = { ar: String(i18n.t("guard.paused", { lng: "ar", ns: "bot" })), en: String(i18n.t("guard.paused", { lng: "en", ns: "bot" })) };
const OPTED_OUT = String(i18n.t("optOut.done", { lng: "en", ns: "bot" }));

/** What a flooding phone sends: short, varied, the odd request among them. */
const FLOOD = ["Hello, I need help please", "1", "2", "hey there", "test", "3", "hi", "menu", "what?", "ok", "7", "yes", "no", "help", "?", "aaa", "hello?", "status", "x", "999"];

describe("a phone over its budget", () => {
  it("60 messages in a few seconds: 20 answered, one notice, the rest stored with no reply and no effect", async () => {
    const flooder = resident();
    const replies: string[] = [];
    for (let i = 0; i < 20; i++) replies.push(await flooder.say(FLOOD[i % FLOOD.length]!, 150));
    const afterBudget = await flooder.counts();
    for (let i = 20; i < 60; i++) replies.push(await flooder.say(FLOOD[i % FLOOD.length]!, 150));

    expect(replies.slice(0, 20).every((r) => r.length > 0)).toBe(true);
    expect(replies[20]).toBe(NOTICE.en);
    expect(replies.slice(21)).toEqual(Array(39).fill(""));
    const after = await flooder.counts();
    expect(after).toEqual({ inbound: 60, replies: 21, tickets: afterBudget.tickets, state: afterBudget.state });
    expect(await flooder.row()).toMatchObject({ botPauseReason: "rate" });
    // Counted by the paused phone's own time, the notice fits one SMS segment.
    const notice = await world.db.message.findFirstOrThrow({ where: { body: NOTICE.en } });
    expect(notice).toMatchObject({ direction: "outbound", kind: "bot", status: "replied" });
  });

  it("the bot answers again once the phone calms down (at most half the budget in the window)", async () => {
    const flooder = resident();
    for (let i = 0; i < 25; i++) await flooder.say(FLOOD[i % FLOOD.length]!, 100);
    expect((await flooder.row()).botPauseReason).toBe("rate");
    // Still writing a lot a few minutes later: still silent, and no second notice.
    for (let i = 0; i < 5; i++) expect(await flooder.say("hello?", 60_000)).toBe("");
    // Ten minutes of calm: the window holds one message.
    const answer = await flooder.say("مرحبا", 10 * 60_000);
    expect(answer).not.toBe("");
    expect(answer).not.toBe(NOTICE.ar);
    expect(await flooder.row()).toMatchObject({ botPausedAt: null, botPauseReason: null });
  });

  it("an Arabic resident gets the notice in Arabic", async () => {
    const flooder = resident();
    await flooder.say("مرحبا");
    const replies: string[] = [];
    for (let i = 0; i < 21; i++) replies.push(await flooder.say(["١", "٢", "شو", "الو"][i % 4]!, 200));
    expect(replies[19]).toBe(NOTICE.ar);
  });

  it("STOP works while paused: the resident is opted out and told so", async () => {
    const flooder = resident();
    for (let i = 0; i < 30; i++) await flooder.say(FLOOD[i % FLOOD.length]!, 100);
    expect((await flooder.row()).botPauseReason).toBe("rate");
    expect(await flooder.say("STOP", 100)).toBe(OPTED_OUT);
    expect(await flooder.row()).toMatchObject({ optedOut: true });
    // And opted out means silence, paused or not.
    expect(await flooder.say("hello", 100)).toBe("");
  });

  it("messages while paused join the ticket staff are talking about", async () => {
    const flooder = resident();
    await flooder.say("talk to someone");
    const ticket = await world.db.ticket.findFirstOrThrow({ where: { resident: { phone: flooder.from } } });
    const residentId = ticket.residentId ?? expect.unreachable("a resident's request has a resident");
    await world.db.message.create({
      data: { municipalityId: MUNICIPALITY, residentId, ticketId: ticket.id, direction: "outbound", kind: "staff", channel: "sms", body: "Which street?", status: "sent", createdAt: now },
    });
    for (let i = 0; i < 25; i++) await flooder.say(`street ${i}`, 100);
    const last = await world.db.message.findFirstOrThrow({ where: { residentId, direction: "inbound" }, orderBy: { id: "desc" } });
    expect(last).toMatchObject({ body: "street 24", ticketId: ticket.id });
    expect(await world.db.ticket.count({ where: { residentId: ticket.residentId } })).toBe(1);
  });
});

describe("an autoresponder", () => {
  /** A robot that answers every reply with it, a second later; returns how many times the bot answered. */
  async function echoLoop(robot: ReturnType<typeof resident>, first: string, rounds = 300) {
    let reply = await robot.say(first, 60_000);
    let answered = 0;
    for (let i = 0; i < rounds && reply; i++) {
      answered++;
      reply = await robot.say(`Auto-reply: ${reply}`, 1000);
    }
    return answered;
  }

  it("echoing every reply: the bot stops after five and flags the resident for staff", async () => {
    const robot = resident();
    const answered = await echoLoop(robot, "hello");
    expect(answered).toBeLessThanOrEqual(5);
    expect(await robot.row()).toMatchObject({ botPauseReason: "loop" });
    const { inbound: count, replies } = await robot.counts();
    expect(count).toBeLessThanOrEqual(7);
    expect(replies).toBeLessThanOrEqual(5);
  });

  it("an away message with a counter, a few seconds after each reply: a loop by its sameness", async () => {
    const robot = resident("whatsapp");
    let reply = await robot.say("hello");
    let n = 0;
    while (reply && n < 300) {
      n++;
      reply = await robot.say(`I am out of the office until ${n + 10}/03. Your message number ${4400 + n} has been received.`, 12_000);
    }
    expect(n).toBe(6);
    expect(await robot.row()).toMatchObject({ botPauseReason: "loop" });
  });

  it("stays paused while it keeps writing; staff resume it; STOP still works", async () => {
    const robot = resident();
    await echoLoop(robot, "hello");
    expect(await robot.say("hello", 5 * 60_000)).toBe("");
    const paused = await robot.row();
    await world.hot.db.transaction().execute((tx) => resumeBot(tx, { municipalityId: MUNICIPALITY, residentId: paused.id, staffId: null, now }));
    expect(await robot.row()).toMatchObject({ botPausedAt: null, botPauseReason: null });
    const audit = await world.db.auditEvent.findMany({ where: { residentId: paused.id }, orderBy: { id: "asc" } });
    expect(audit.map((a) => a.kind)).toEqual(["bot_paused", "bot_resumed"]);
    // The bot answers again after the resume (the earlier echoes no longer count).
    expect(await robot.say("hello again", 60_000)).not.toBe("");

    await echoLoop(robot, "hi");
    expect((await robot.row()).botPauseReason).toBe("loop");
    expect(await robot.say("stop", 1000)).toBe(OPTED_OUT);
  });

  it("a loop pause lifts by itself after an hour without messages", async () => {
    const robot = resident();
    await echoLoop(robot, "hello");
    expect((await robot.row()).botPauseReason).toBe("loop");
    expect(await robot.say("hello", 61 * 60_000)).not.toBe("");
    expect((await robot.row()).botPausedAt).toBeNull();
  });
});

describe("people are never paused", () => {
  const corpus = readFileSync(path.join(import.meta.dirname, "../fixtures/resident-messages.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { text: string; intent: string })
    // Opting out would (rightly) silence the rest of a resident's messages.
    .filter((line) => line.intent !== "opt_out" && line.intent !== "opt_in")
    .map((line) => line.text);

  it("a request of eight messages in quick succession", async () => {
    const rima = resident("whatsapp");
    const lines = ["مرحبا", "1", "1", "في جورة كبيرة بالطريق العام", "قدام الجامع", "", "1", "شكرا"];
    for (const text of lines) expect(await rima.say(text, 4000)).not.toBe("");
    expect((await rima.row()).botPausedAt).toBeNull();
  });

  it("residents writing the corpus's varied messages, a few seconds apart", async () => {
    for (let start = 0; start < corpus.length; start += 9) {
      const person = resident(start % 2 === 0 ? "sms" : "whatsapp");
      for (const text of corpus.slice(start, start + 9)) {
        // Typing takes time: a second or two, plus a second for every ten characters.
        expect(await person.say(text, 2000 + text.length * 100), text).not.toBe("");
      }
      expect((await person.row()).botPausedAt, person.from).toBeNull();
    }
  });

  it("a resident tapping the same menu number a few times", async () => {
    const sami = resident();
    await sami.say("hello");
    for (let i = 0; i < 4; i++) expect(await sami.say("9", 1500)).not.toBe("");
    expect((await sami.row()).botPausedAt).toBeNull();
  });

  // The bot answers in the same request, so in a burst every message comes "sooner than anyone types"
  // after our reply: speed alone must never pause a person.
  it("six ordinary sentences two seconds apart, each answered (the review's burst)", async () => {
    const nour = resident();
    const sentences = ORDINARY_SENTENCES;
    for (const text of sentences) expect(await nour.say(text, 2000), text).not.toBe("");
    expect((await nour.row()).botPausedAt).toBeNull();
  });

  it("WhatsApp delivering eight different queued messages within a second on reconnect", async () => {
    const hadi = resident("whatsapp");
    const queued = WHATSAPP_RECONNECT_BURST;
    for (const [i, text] of queued.entries()) expect(await hadi.say(text, i === 0 ? 60_000 : 120), text).not.toBe("");
    expect((await hadi.row()).botPausedAt).toBeNull();
  });

  it("residents sending the corpus's messages quickly one after another", async () => {
    for (let start = 0; start < corpus.length; start += 9) {
      const person = resident(start % 2 === 0 ? "whatsapp" : "sms");
      for (const text of corpus.slice(start, start + 9)) expect(await person.say(text, 300), text).not.toBe("");
      expect((await person.row()).botPausedAt, person.from).toBeNull();
    }
  });

  it("a confused resident tapping 1 ten times in the menus is answered every time", async () => {
    const rami = resident();
    await rami.say("hello", 60_000);
    for (let i = 0; i < 10; i++) expect(await rami.say("1", 1500), `tap ${i + 1}`).not.toBe("");
    expect((await rami.row()).botPausedAt).toBeNull();
    const lina = resident("whatsapp");
    await lina.say("how do I pay my bill", 60_000);
    for (let i = 0; i < 10; i++) expect(await lina.say(["1", "١", "ok", "yes"][i % 4]!, 800), `tap ${i + 1}`).not.toBe("");
    expect((await lina.row()).botPausedAt).toBeNull();
  });
});

describe("a bill's code while the bot is paused", () => {
  /** A resident the bot asked for the code on their bill ("linkCode"). */
  async function atCodeStep() {
    const who = resident();
    await who.say("link my account", 60_000);
    await who.say("12345", 5000);
    expect(JSON.parse((await who.counts()).state ?? "{}")).toMatchObject({ step: "linkCode" });
    return who;
  }
  const lastInbound = async (who: ReturnType<typeof resident>) =>
    world.db.message.findFirstOrThrow({ where: { residentId: (await who.row()).id, direction: "inbound" }, orderBy: { id: "desc" } });

  it("paused (silent): the code is stored as •••• and the conversation still waits for it", async () => {
    const who = await atCodeStep();
    await world.db.resident.update({ where: { id: (await who.row()).id }, data: { botPausedAt: now, botPauseReason: "loop" } });
    expect(await who.say("4821", 1000)).toBe("");
    expect((await lastInbound(who)).body).toBe(REDACTED_CODE);
    expect(JSON.parse((await who.counts()).state ?? "{}")).toMatchObject({ step: "linkCode" });
    // What is not a code stays as written: staff read it.
    expect(await who.say("I can't find it on the bill", 1000)).toBe("");
    expect((await lastInbound(who)).body).toBe("I can't find it on the bill");
  });

  it("the message that goes over the budget (the notice): a code is stored as ••••", async () => {
    const who = await atCodeStep();
    const { id: residentId } = await who.row();
    // Eighteen more messages within the window (as if sent a moment ago): the code is the 21st.
    for (let i = 0; i < 18; i++) {
      await world.db.message.create({
        data: { municipalityId: MUNICIPALITY, residentId, direction: "inbound", kind: "resident", channel: "sms", body: `earlier ${i}`, status: "received", createdAt: new Date(now.getTime() + i) },
      });
    }
    advance(100);
    expect(await who.say("٤٨٢١", 1000)).toBe(NOTICE.en);
    expect((await lastInbound(who)).body).toBe(REDACTED_CODE);
    expect(await world.db.message.count({ where: { residentId, body: { contains: "4821" } } })).toBe(0);
    expect(await world.db.message.count({ where: { residentId, body: { contains: "٤٨٢١" } } })).toBe(0);
  });
});
