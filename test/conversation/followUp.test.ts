import { describe, expect, it } from "vitest";
import { isAtRest } from "../../src/conversation/state.js";
import type { TicketView } from "../../src/conversation/types.js";
import { engineChat } from "../support/engineChat.js";

type Chat = ReturnType<typeof engineChat>;

/** An open request of the resident's, filed `daysAgo` days before the chat's clock. */
function open(chat: Chat, reference: number, categoryCode: string | null, daysAgo: number, status: TicketView["status"] = "in_progress") {
  chat.lookups.tickets.push({ reference, categoryCode, status, needsHuman: false, createdAt: new Date(chat.lookups.now.getTime() - daysAgo * 86_400_000) });
}

const NOW = new Date("2026-11-29T09:00:00Z");

describe("a follow-up on the resident's one open request", () => {
  it("the issue's example: 'شكراً، إيمتى رح تجوا تصلحوها؟' after filing goes to that request", async () => {
    const chat = engineChat({ locale: "ar", now: NOW });
    open(chat, 66714, "roads", 1);
    const turn = await chat.say("شكراً، إيمتى رح تجوا تصلحوها؟");
    expect(turn.keys).toEqual(["thread.added"]);
    expect(turn.effects).toEqual([{ type: "addToTicket", reference: 66714 }]);
    expect(turn.text).toBe("شكراً، أضفنا رسالتك إلى الطلب #66714. سيرد الموظفون هنا.");
    expect(turn.segments).toBe(1);
    expect(chat.state.step).toBe("idle");
    // As the inbox does: the ticket is staff's turn again.
    expect(chat.lookups.tickets[0]?.status).toBe("waiting_staff");
  });

  it("straight after filing through the bot, the follow-up joins the request just filed", async () => {
    const chat = engineChat({ now: NOW });
    await chat.say("في جورة كبيرة بالطريق العام");
    await chat.say("1");
    await chat.say("قدام الجامع");
    expect((await chat.say("1")).keys).toEqual(["intake.filed"]);
    const turn = await chat.say("شكراً، إيمتى رح تجوا تصلحوها؟");
    expect(turn.text).toBe("شكراً، أضفنا رسالتك إلى الطلب #10427. سيرد الموظفون هنا.");
    expect(chat.attached).toEqual([{ reference: 10427 }]);
  });

  it("in English", async () => {
    const chat = engineChat({ locale: "en", now: NOW });
    open(chat, 66714, "roads", 1);
    const turn = await chat.say("thanks, when will you come to fix it?");
    expect(turn.effects).toEqual([{ type: "addToTicket", reference: 66714 }]);
    expect(turn.text).toBe("Thanks, added to request #66714. Staff will answer here.");
    expect(turn.segments).toBe(1);
  });

  it.each([["ar"], [null]] as const)("in Arabizi, answered in Arabic (language remembered: %s)", async (locale) => {
    const chat = engineChat({ locale, now: NOW });
    open(chat, 66714, "roads", 1);
    const turn = await chat.say("shukran, emta btiju?");
    expect(turn.effects).toEqual([...(locale ? [] : [{ type: "setLocale", locale: "ar" }]), { type: "addToTicket", reference: 66714 }]);
    expect(turn.text).toBe("شكراً، أضفنا رسالتك إلى الطلب #66714. سيرد الموظفون هنا.");
  });

  it.each(["مرحبا، إيمتى رح تجوا؟", "ok thanks", "still waiting", "ما حدا إجا لهلق", "يعطيكم العافية"])("'%s' is a follow-up too", async (text) => {
    const chat = engineChat({ locale: "ar", now: NOW });
    open(chat, 66714, "roads", 1, "new");
    expect((await chat.say(text)).effects).toEqual([{ type: "addToTicket", reference: 66714 }]);
    // A new ticket stays new: staff have not picked it up yet.
    expect(chat.lookups.tickets[0]?.status).toBe("new");
  });

  it("from the main menu, and after the survey offer, as from rest", async () => {
    const chat = engineChat({ locale: "ar", now: NOW });
    open(chat, 66714, "roads", 1);
    await chat.say("0");
    expect(chat.state.step).toBe("menu");
    expect((await chat.say("وين صرتو؟")).effects).toEqual([{ type: "addToTicket", reference: 66714 }]);
    chat.state = { version: 1, step: "surveyOffer", strikes: 0 };
    expect((await chat.say("إيمتى رح تجوا؟")).effects).toEqual([{ type: "addToTicket", reference: 66714 }]);
  });

  it("a WhatsApp photo with words about the request goes to it", async () => {
    const chat = engineChat({ locale: "ar", channel: "whatsapp", now: NOW });
    open(chat, 66714, "roads", 1);
    const turn = await chat.send({ text: "هيك صارت اليوم", media: [{ url: "https://x.test/p.jpg", contentType: "image/jpeg" }] });
    expect(turn.effects).toEqual([{ type: "addToTicket", reference: 66714 }]);
  });

  it("the ticket staff wrote about lately still comes first", async () => {
    const chat = engineChat({ locale: "ar", now: NOW });
    open(chat, 66714, "roads", 1);
    open(chat, 55555, "water", 3);
    chat.lookups.thread = { reference: 55555, categoryCode: "water" };
    expect((await chat.say("شكراً، إيمتى رح تجوا؟")).effects).toEqual([{ type: "addToTicket", reference: 55555 }]);
  });
});

describe("what keeps its meaning with a request open", () => {
  const withOpenRequest = () => {
    const chat = engineChat({ locale: "ar", now: NOW });
    open(chat, 66714, "roads", 1);
    return chat;
  };

  it("a real new request starts a new request", async () => {
    const chat = withOpenRequest();
    const turn = await chat.say("في حفرة بالطريق");
    expect(turn.keys).toEqual(["intake.confirmCategory"]);
    expect(turn.effects).toEqual([]);
    expect(chat.attached).toEqual([]);
  });

  it.each([
    ["1", ["intake.chooseCategory"]],
    ["2", ["status.list"]],
    ["0", ["menu"]],
    ["66714", ["status.one"]],
    ["شو صار بطلبي", ["status.list"]],
    ["بدي قدم شكوى", ["intake.chooseCategory"]],
    ["مرحبا", ["welcome", "menu"]],
    ["السلام عليكم ورحمة الله وبركاته", ["welcome", "menu"]],
    ["hi there, how are you?", ["welcome", "menu"]],
    ["👍", ["welcome", "menu"]],
    ["HELP", ["help.text"]],
  ])("'%s' is answered as always", async (text, keys) => {
    const chat = withOpenRequest();
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(keys);
    expect(chat.attached).toEqual([]);
  });

  it("a photo or a pin alone starts a new request", async () => {
    const chat = engineChat({ locale: "ar", channel: "whatsapp", now: NOW });
    open(chat, 66714, "roads", 1);
    expect((await chat.send({ text: "", media: [{ url: "https://x.test/p.jpg", contentType: "image/jpeg" }] })).keys[0]).toBe("intake.photoReceived");
    await chat.say("0");
    expect((await chat.send({ text: "", media: [], location: { latitude: 33.79, longitude: 35.82 } })).keys[0]).toBe("intake.locationReceived");
    expect(chat.attached).toEqual([]);
  });

  it("mid-request, words are the answer to the question", async () => {
    const chat = withOpenRequest();
    await chat.say("المي مقطوعة");
    await chat.say("1");
    const turn = await chat.say("صرلها يومين مقطوعة عن كل البناية");
    expect(turn.keys).not.toContain("thread.added");
    expect(chat.state.draft?.description).toBe("صرلها يومين مقطوعة عن كل البناية");
  });

  it("without an open request: the menu, as before", async () => {
    const chat = engineChat({ locale: "ar", now: NOW });
    open(chat, 44444, "roads", 9, "resolved");
    expect((await chat.say("شكراً، إيمتى رح تجوا تصلحوها؟")).keys).toEqual(["welcome", "menu"]);
    expect(chat.attached).toEqual([]);
  });
});

describe("several open requests: which one is it about?", () => {
  function threeOpen(options: Parameters<typeof engineChat>[0] = {}) {
    const chat = engineChat({ locale: "ar", now: NOW, ...options });
    open(chat, 66714, "roads", 1);
    open(chat, 55555, "water", 3, "new");
    open(chat, 44444, "lighting", 9, "waiting_staff");
    return chat;
  }

  it("lists them newest first, then '٢' puts the follow-up on the second", async () => {
    const chat = threeOpen();
    const asked = await chat.say("شكراً، إيمتى رح تجوا تصلحوها؟");
    expect(asked.effects).toEqual([]);
    expect(asked.text).toBe("رسالتك عن أي طلب؟ أرسل رقماً:\n1 #66714 طرقات وحفر\n2 #55555 مياه\n3 #44444 إنارة");
    expect(asked.segments).toBeLessThanOrEqual(2);
    expect(chat.state.step).toBe("chooseTicket");

    chat.wait(60_000);
    const chosen = await chat.say("٢");
    expect(chosen.text).toBe("شكراً، أضفنا رسالتك إلى الطلب #55555. سيرد الموظفون هنا.");
    // The follow-up written before the choice goes there too: everything since it began.
    expect(chosen.effects).toEqual([{ type: "addToTicket", reference: 55555, since: NOW }]);
    expect(chat.state.step).toBe("idle");
  });

  it("in English", async () => {
    const chat = threeOpen({ locale: "en" });
    const asked = await chat.say("thanks, when will you come to fix it?");
    expect(asked.text).toBe("Which request is your message about? Send a number:\n1 #66714 Roads and potholes\n2 #55555 Water\n3 #44444 Street lighting");
    expect((await chat.say("3")).effects).toEqual([{ type: "addToTicket", reference: 44444, since: NOW }]);
  });

  it("one of the listed references, or the name of one's category, picks it too", async () => {
    const chat = threeOpen();
    await chat.say("إيمتى رح تجوا؟");
    expect((await chat.say("#44444")).effects).toEqual([{ type: "addToTicket", reference: 44444, since: NOW }]);
    await chat.say("إيمتى رح تجوا؟");
    expect((await chat.say("المي")).effects).toEqual([{ type: "addToTicket", reference: 55555, since: NOW }]);
  });

  it("'the road one' names the roads request; a category two listed requests share asks again", async () => {
    const chat = threeOpen({ locale: "en" });
    await chat.say("when will you come?");
    expect((await chat.say("the road one")).effects).toEqual([{ type: "addToTicket", reference: 66714, since: NOW }]);
    open(chat, 33333, "water", 12, "new");
    await chat.say("when will you come?");
    const again = await chat.say("water");
    expect(again.keys).toEqual(["followUp.choose"]);
    expect(again.effects).toEqual([]);
  });

  it("a request closed since the question was asked is not added to: the question again, with what is open now", async () => {
    const chat = threeOpen();
    await chat.say("إيمتى رح تجوا؟");
    chat.lookups.tickets[1]!.status = "resolved";
    const again = await chat.say("٢");
    expect(again.effects).toEqual([]);
    expect(again.text).toBe("رسالتك عن أي طلب؟ أرسل رقماً:\n1 #66714 طرقات وحفر\n2 #44444 إنارة");
    expect((await chat.say("2")).effects).toEqual([{ type: "addToTicket", reference: 44444, since: NOW }]);
  });

  it("more words are more of the same follow-up: the question again, and the first message still counts", async () => {
    const chat = threeOpen();
    await chat.say("شكراً");
    chat.wait(30_000);
    const again = await chat.say("وإيمتى رح تجوا تصلحوها؟");
    expect(again.keys).toEqual(["followUp.choose"]);
    expect(again.effects).toEqual([]);
    chat.wait(30_000);
    expect((await chat.say("1")).effects).toEqual([{ type: "addToTicket", reference: 66714, since: NOW }]);
  });

  it("a number not on the list is asked again", async () => {
    const chat = threeOpen();
    await chat.say("إيمتى رح تجوا؟");
    const turn = await chat.say("٧");
    expect(turn.text).toBe("أرسل رقماً من 1 إلى 3.");
    expect(chat.state.step).toBe("chooseTicket");
  });

  it.each([
    ["0", ["menu"]],
    ["إلغاء", ["cancelled", "menu"]],
    ["STOP", ["optOut.done"]],
  ])("'%s' leaves the follow-up on no ticket", async (text, keys) => {
    const chat = threeOpen();
    await chat.say("إيمتى رح تجوا؟");
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(keys);
    expect(chat.attached).toEqual([]);
    expect(chat.state.step).not.toBe("chooseTicket");
  });

  it("a new request or a question of its own is answered as usual", async () => {
    const chat = threeOpen();
    await chat.say("إيمتى رح تجوا؟");
    expect((await chat.say("في حفرة بالطريق العام قدام المدرسة")).keys).toEqual(["intake.confirmCategory"]);
    expect(chat.attached).toEqual([]);

    await chat.say("0");
    await chat.say("إيمتى رح تجوا؟");
    expect((await chat.say("10427")).keys).toEqual(["status.notFound"]);
    expect(chat.attached).toEqual([]);
  });

  it("HELP keeps the question; a language switch asks it again in the other language", async () => {
    const chat = threeOpen();
    await chat.say("إيمتى رح تجوا؟");
    expect((await chat.say("HELP")).keys).toEqual(["help.text"]);
    expect(chat.state.step).toBe("chooseTicket");
    const switched = await chat.say("English");
    expect(switched.text).toBe("Which request is your message about? Send a number:\n1 #66714 Roads and potholes\n2 #55555 Water\n3 #44444 Street lighting");
    expect((await chat.say("1")).effects).toContainEqual({ type: "addToTicket", reference: 66714, since: NOW });
  });

  it("the question may be steered away from (a resolution's 'reply 1', a survey): the follow-up then stays on no ticket", async () => {
    const chat = threeOpen();
    await chat.say("إيمتى رح تجوا؟");
    expect(isAtRest(chat.state)).toBe(true);
  });

  it("an unanswered question lapses after a day: '1' is the menu's again", async () => {
    const chat = threeOpen();
    await chat.say("إيمتى رح تجوا؟");
    chat.wait(25 * 3600_000);
    expect((await chat.say("1")).keys).toEqual(["intake.chooseCategory"]);
    expect(chat.attached).toEqual([]);
  });

  it("SMS lists the newest four, within two segments even with six-digit references; WhatsApp five", async () => {
    for (const [channel, shown] of [["sms", 4], ["whatsapp", 5]] as const) {
      const chat = engineChat({ locale: "ar", channel, now: NOW });
      ["stray_animals", "parks_playgrounds", "school_safety", "certificates", "stray_animals", "water"].forEach((code, i) => open(chat, 900001 + i, code, i + 1));
      const asked = await chat.say("إيمتى رح تجوا؟");
      expect(asked.text.split("\n")).toHaveLength(shown + 1);
      expect(asked.text).toContain("1 #900001 حيوانات شاردة");
      if (channel === "sms") expect(asked.segments).toBeLessThanOrEqual(2);
      expect((await chat.say(String(shown))).effects).toEqual([{ type: "addToTicket", reference: 900000 + shown, since: NOW }]);
    }
  });
});
