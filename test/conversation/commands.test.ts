import { describe, expect, it } from "vitest";
import { engineChat } from "../support/engineChat.js";

describe("language", () => {
  it.each([
    ["مرحبا", "ar"],
    ["ﻣﺮﺣﺒﺎ", "ar"],
    ["السلام عليكم", "ar"],
    ["hi", "en"],
    ["kifak", "ar"],
    ["marhaba, fi mechkle bel kahraba", "ar"],
  ])("%s is answered in %s, and the language is remembered", async (greeting, locale) => {
    const chat = engineChat();
    const turn = await chat.say(greeting);
    expect(turn.effects).toContainEqual({ type: "setLocale", locale });
    expect(chat.resident.locale).toBe(locale);
  });

  it.each(["bonjour", "ok", "merci"])("'%s' is answered in English but does not decide the language for good", async (word) => {
    const chat = engineChat();
    const turn = await chat.say(word);
    expect(turn.text).toContain("Send a number");
    expect(turn.effects).toEqual([]);
    await chat.say("مرحبا");
    expect(chat.resident.locale).toBe("ar");
  });

  it("a bare number or emoji does not decide the language (Arabic by default)", async () => {
    const chat = engineChat();
    const turn = await chat.say("👍");
    expect(turn.effects).toEqual([]);
    expect(turn.text).toContain("أرسل رقماً");
  });

  it("the remembered language holds even when the resident writes in another one", async () => {
    const chat = engineChat({ locale: "ar" });
    const turn = await chat.say("hello");
    expect(turn.text).toContain("أهلاً");
    expect(turn.effects).toEqual([]);
  });

  it.each([
    ["English", "en", "Describe the problem"],
    ["عربي", "ar", "صف المشكلة"],
    ["انكليزي", "en", "Describe the problem"],
    ["arabic", "ar", "صف المشكلة"],
  ])("'%s' switches to %s at any time and asks the current question again in it", async (word, locale, question) => {
    const chat = engineChat({ locale: locale === "ar" ? "en" : "ar" });
    await chat.say("report a problem");
    await chat.say("3");
    const turn = await chat.say(word);
    expect(turn.effects).toEqual([{ type: "setLocale", locale }]);
    expect(turn.keys).toEqual(["intake.askDescription"]);
    expect(turn.text.startsWith(question)).toBe(true);
    expect(chat.state.step).toBe("description");
  });

  it("menu option 4 switches to the other language", async () => {
    const chat = engineChat({ locale: "ar" });
    await chat.say("0");
    const turn = await chat.say("٤");
    expect(turn.effects).toEqual([{ type: "setLocale", locale: "en" }]);
    expect(turn.text).toBe("English it is.\nSend a number:\n1 New request\n2 My requests\n3 Talk to staff\n4 عربي");
  });
});

describe("opting out", () => {
  it.each(["STOP", "stop", "توقف", "إلغاء الاشتراك", "UNSUBSCRIBE"])("'%s' opts out, confirmed once, then silence", async (word) => {
    const chat = engineChat({ locale: "ar" });
    const confirmation = await chat.say(word);
    expect(confirmation.effects).toEqual([{ type: "optOut" }]);
    expect(confirmation.keys).toEqual(["optOut.done"]);
    for (const later of ["مرحبا", "1", "بدي قدم شكوى", "STOP"]) {
      const turn = await chat.say(later);
      expect(turn.text).toBe("");
      expect(turn.effects).toEqual([]);
    }
  });

  it.each(["START", "اشتراك"])("'%s' resumes after opting out", async (word) => {
    const chat = engineChat({ locale: "en" });
    await chat.say("STOP");
    const back = await chat.say(word);
    expect(back.effects).toEqual([{ type: "optIn" }]);
    expect(back.keys).toEqual(["optIn.done", "menu"]);
    expect((await chat.say("1")).keys).toEqual(["intake.chooseCategory"]);
  });

  it("HELP still explains how to come back while opted out", async () => {
    const chat = engineChat({ locale: "en" });
    await chat.say("STOP");
    expect((await chat.say("HELP")).text).toBe("You stopped messages from the municipality. Send START to receive them again.");
  });

  it("'إلغاء' alone cancels; it does not unsubscribe", async () => {
    const chat = engineChat({ locale: "ar" });
    const turn = await chat.say("إلغاء");
    expect(turn.effects).toEqual([]);
    expect(turn.keys).toEqual(["nothingToCancel", "menu"]);
  });
});

describe("help", () => {
  it.each(["HELP", "help", "مساعدة", "?"])("'%s' explains the service briefly and keeps the question open", async (word) => {
    const chat = engineChat({ locale: "en" });
    await chat.say("I want to report a problem");
    const turn = await chat.say(word);
    expect(turn.keys).toEqual(["help.text"]);
    expect(chat.state.step).toBe("category");
  });
});

describe("talking to a person", () => {
  it.each([
    ["بدي احكي مع موظف", "ar"],
    ["can I talk to someone", "en"],
    ["bade e7ke ma3 mwazzaf", "ar"],
  ])("'%s' files a ticket flagged for staff and says what happens next", async (text, locale) => {
    const chat = engineChat();
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(["human.filed"]);
    expect(chat.resident.locale).toBe(locale);
    expect(chat.filed).toEqual([expect.objectContaining({ needsHuman: true, description: text, reference: 10427 })]);
    expect(turn.text).toContain("#10427");
  });

  it("a request in progress is filed with the flag instead of being lost", async () => {
    const chat = engineChat({ locale: "ar" });
    await chat.say("عمود الكهربا بالشارع مطفي");
    await chat.say("1");
    const turn = await chat.say("بدي احكي مع موظف");
    expect(turn.keys).toEqual(["human.filed"]);
    expect(chat.filed[0]).toMatchObject({ categoryCode: "lighting", description: "عمود الكهربا بالشارع مطفي", needsHuman: true });
  });

  it("asking twice does not open a second ticket", async () => {
    const chat = engineChat({ locale: "en" });
    await chat.say("talk to a person");
    const again = await chat.say("3");
    expect(again.keys).toEqual(["human.alreadyWaiting"]);
    expect(chat.filed).toHaveLength(1);
  });

  it.each(["someone dumped a pile of rubbish next to the church wall", "rubbish piled up again at building 10427"])(
    "a description ('%s') is a description, not a command",
    async (text) => {
      const chat = engineChat({ locale: "en" });
      await chat.say("report a problem");
      await chat.say("1");
      const turn = await chat.say(text);
      expect(turn.keys).toEqual(["intake.askLocation"]);
      expect(chat.state.draft?.description).toBe(text);
    },
  );

  it("but a short 'talk to someone' in the middle of a request is a command", async () => {
    const chat = engineChat({ locale: "en" });
    await chat.say("report a problem");
    await chat.say("1");
    expect((await chat.say("talk to someone")).keys).toEqual(["human.filed"]);
  });
});

describe("status of my requests", () => {
  function withTickets() {
    const chat = engineChat({ locale: "ar" });
    chat.lookups.tickets.push(
      { reference: 10427, categoryCode: "roads", status: "in_progress", needsHuman: false, createdAt: new Date("2026-11-20") },
      { reference: 20001, categoryCode: "water", status: "new", needsHuman: false, createdAt: new Date("2026-11-25") },
      { reference: 30003, categoryCode: "waste", status: "resolved", needsHuman: false, createdAt: new Date("2026-11-01") },
    );
    return chat;
  }

  it.each(["10427", "#10427", "١٠٤٢٧", "status 10427", "حالة 10427", "حالة #١٠٤٢٧"])("'%s' gives that request's status", async (text) => {
    const chat = withTickets();
    const turn = await chat.say(text);
    expect(turn.text).toBe("#10427 طرقات وحفر: قيد المعالجة");
  });

  it.each(["شو صار بطلبي؟", "2"])("'%s' lists the open requests, newest first", async (text) => {
    const chat = withTickets();
    if (text === "2") await chat.say("0");
    const turn = await chat.say(text);
    expect(turn.text).toBe("لديك طلبان مفتوحان:\n#20001 مياه: وصل\n#10427 طرقات وحفر: قيد المعالجة");
  });

  it("in English with a plural count and a summary of the rest", async () => {
    const chat = engineChat({ locale: "en" });
    for (let i = 0; i < 5; i++) {
      chat.lookups.tickets.push({ reference: 11110 + i, categoryCode: "water", status: "new", needsHuman: false, createdAt: new Date(2026, 10, i + 1) });
    }
    const turn = await chat.say("status of my complaint");
    expect(turn.text).toBe("Your 5 open requests:\n#11114 Water: received\n#11113 Water: received\n#11112 Water: received\nAnd 2 more.");
  });

  it("someone else's reference and an unknown one get the same answer", async () => {
    const chat = withTickets();
    const turn = await chat.say("99999");
    expect(turn.keys).toEqual(["status.notFound"]);
    expect(turn.text).toBe("لا يوجد طلب #99999 على رقمك.");
  });

  it("no open requests says so and offers the menu", async () => {
    const chat = engineChat({ locale: "en" });
    expect((await chat.say("what happened to my request?")).keys).toEqual(["status.none", "menu"]);
  });
});

describe("everything else", () => {
  it.each(["قديش عليّ رسوم بلدية؟", "ade 3layye lal baladiye?", "what is my balance"])(
    "a balance question ('%s') from a phone with no linked account asks for the bill's account number",
    async (text) => {
      const chat = engineChat();
      expect((await chat.say(text)).keys).toEqual(["link.askNumber"]);
    },
  );

  it("an unreadable stored conversation restarts politely", async () => {
    const chat = engineChat({ locale: "en" });
    // "1" answered a question the bot no longer knows: it is not taken as a menu choice
    const turn = await chat.sayAfterReset("1");
    expect(turn.keys).toEqual(["reset", "menu"]);
    expect(turn.effects).toEqual([]);
    // but a command still works
    expect((await chat.sayAfterReset("STOP")).effects).toEqual([{ type: "optOut" }]);
  });

  it("words the bot does not understand at the menu are a strike", async () => {
    const chat = engineChat({ locale: "en" });
    await chat.say("0");
    const turn = await chat.say("blue sky");
    expect(turn.keys).toEqual(["notUnderstood", "menu"]);
    expect(chat.state.strikes).toBe(1);
  });
});
