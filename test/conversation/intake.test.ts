import { describe, expect, it } from "vitest";
import { engineChat } from "../support/engineChat.js";

type Line = [resident: string, botReplies: string];

interface Filing {
  name: string;
  channel: "sms" | "whatsapp";
  lines: Line[];
  filed: Record<string, unknown>;
  locale: "ar" | "en";
}

const filings: Filing[] = [
  {
    name: "Arabic on SMS: the first message names the problem, so category and description are skipped",
    channel: "sms",
    lines: [
      ["في جورة كبيرة بالطريق العام", "intake.confirmCategory"],
      ["١", "intake.askLocation"],
      ["قدام الجامع", "intake.confirm"],
      ["1", "intake.filed"],
    ],
    filed: { categoryCode: "roads", description: "في جورة كبيرة بالطريق العام", addressText: "قدام الجامع", needsHuman: false },
    locale: "ar",
  },
  {
    name: "English on SMS through the menu",
    channel: "sms",
    lines: [
      ["hi", "welcome menu"],
      ["1", "intake.chooseCategory"],
      ["3", "intake.askDescription"],
      ["no water since yesterday", "intake.askLocation"],
      ["Main street, next to the pharmacy", "intake.confirm"],
      ["yes", "intake.filed"],
    ],
    filed: { categoryCode: "water", description: "no water since yesterday", addressText: "Main street, next to the pharmacy" },
    locale: "en",
  },
  {
    name: "Arabizi on WhatsApp, answered in Arabic, with a location pin and a photo",
    channel: "whatsapp",
    lines: [
      ["baddi 2adem shakwa", "intake.chooseCategory"],
      ["٢", "intake.askDescription"],
      ["fi jora kbire bel tari2 2addem el madrase", "intake.askLocation"],
      ["<pin>", "intake.locationReceived intake.askPhoto"],
      ["<photo>", "intake.photoReceived intake.confirm"],
      ["۱", "intake.filed"],
    ],
    filed: {
      categoryCode: "roads",
      description: "fi jora kbire bel tari2 2addem el madrase",
      location: { latitude: 33.79, longitude: 35.82, label: "Qab Elias" },
      media: [{ url: "https://api.twilio.com/media/ME1", contentType: "image/jpeg" }],
      childRelated: true,
    },
    locale: "ar",
  },
  {
    name: "a residence certificate needs no location",
    channel: "sms",
    lines: [
      ["بدي إفادة سكن", "intake.confirmCategory"],
      ["نعم", "intake.confirm"],
      ["1", "intake.filed"],
    ],
    filed: { categoryCode: "certificates", description: "بدي إفادة سكن", addressText: null, location: null },
    locale: "ar",
  },
  {
    name: "a wrong guess is corrected from the list, keeping the description",
    channel: "sms",
    lines: [
      ["sewage overflowing next to the school", "intake.confirmCategory"],
      ["2", "intake.chooseCategory"],
      ["8", "intake.askLocation"],
      ["the primary school gate", "intake.confirm"],
      ["1", "intake.filed"],
    ],
    filed: { categoryCode: "school_safety", description: "sewage overflowing next to the school", childRelated: true },
    locale: "en",
  },
];

describe("a resident files a request", () => {
  it.each(filings)("$name", async ({ channel, lines, filed, locale }) => {
    const chat = engineChat({ channel });
    for (const [said, expected] of lines) {
      const turn =
        said === "<pin>"
          ? await chat.send({ text: "", media: [], location: { latitude: 33.79, longitude: 35.82, label: "Qab Elias" } })
          : said === "<photo>"
            ? await chat.send({ text: "", media: [{ url: "https://api.twilio.com/media/ME1", contentType: "image/jpeg" }] })
            : await chat.say(said);
      expect(turn.keys.join(" "), `after "${said}"`).toBe(expected);
      if (channel === "sms") expect(turn.segments, turn.text).toBeLessThanOrEqual(2);
    }
    expect(chat.filed).toHaveLength(1);
    expect(chat.filed[0]).toMatchObject({ reference: 10427, ...filed });
    expect(chat.resident.locale).toBe(locale);
    expect(chat.state.step).toBe("idle");
  });

  it("tells the reference as # and digits, and the reference alone finds it again", async () => {
    const chat = engineChat();
    await chat.say("في حفرة كبيرة بنص الطريق");
    await chat.say("1");
    await chat.say("حي المدارس");
    const filed = await chat.say("1");
    expect(filed.text).toContain("#10427");
    const status = await chat.say("١٠٤٢٧");
    expect(status.keys).toEqual(["status.one"]);
    expect(status.text).toBe("#10427 طرقات وحفر: وصل");
  });

  it("asks for a photo only where the channel can carry one", async () => {
    const sms = engineChat({ channel: "sms", locale: "en" });
    const whatsapp = engineChat({ channel: "whatsapp", locale: "en" });
    for (const chat of [sms, whatsapp]) {
      await chat.say("street light broken on our street");
      await chat.say("1");
    }
    expect((await sms.say("Church square")).keys).toEqual(["intake.confirm"]);
    const askPhoto = await whatsapp.say("Church square");
    expect(askPhoto.keys).toEqual(["intake.askPhoto"]);
    expect((await whatsapp.say("skip")).keys).toEqual(["intake.confirm"]);
  });

  it("asks WhatsApp users for a pin and SMS users for a landmark", async () => {
    const sms = engineChat({ channel: "sms", locale: "en" });
    const whatsapp = engineChat({ channel: "whatsapp", locale: "en" });
    await sms.say("huge pothole on the main road");
    await whatsapp.say("huge pothole on the main road");
    expect((await sms.say("1")).text).toBe("Where exactly? Send the street, area or a landmark.");
    expect((await whatsapp.say("1")).text).toContain("location pin");
  });

  it("a WhatsApp pin with a place name and an address keeps both: the name on the pin, the address as the ticket's address", async () => {
    const chat = engineChat({ channel: "whatsapp", locale: "en" });
    await chat.say("huge pothole on the main road");
    await chat.say("1");
    const pin = { latitude: 33.7934, longitude: 35.8237, label: "Qab Elias Municipality", address: "Main Road, Qab Elias" };
    await chat.send({ text: "", media: [], location: pin });
    expect((await chat.say("skip")).text).toContain("Pin: Qab Elias Municipality");
    await chat.say("1");
    expect(chat.filed[0]).toMatchObject({ location: pin, addressText: "Main Road, Qab Elias" });
  });

  it("an address the resident typed stays the ticket's address; a pin without one adds none", async () => {
    const typed = engineChat({ channel: "whatsapp", locale: "en" });
    await typed.say("huge pothole on the main road");
    await typed.say("1");
    await typed.say("in front of the mosque");
    await typed.send({ text: "", media: [], location: { latitude: 33.79, longitude: 35.82, label: "Mosque", address: "Main Road" } });
    await typed.say("skip");
    await typed.say("1");
    expect(typed.filed[0]).toMatchObject({ addressText: "in front of the mosque" });

    const bare = engineChat({ channel: "whatsapp", locale: "en" });
    await bare.say("huge pothole on the main road");
    await bare.say("1");
    await bare.send({ text: "", media: [], location: { latitude: 33.79, longitude: 35.82 } });
    await bare.say("skip");
    await bare.say("1");
    expect(bare.filed[0]).toMatchObject({ addressText: null, location: { latitude: 33.79, longitude: 35.82 } });
  });

  it("a photo sent first starts a request and is kept on it", async () => {
    const chat = engineChat({ channel: "whatsapp", locale: "ar" });
    const first = await chat.send({ text: "", media: [{ url: "https://api.twilio.com/media/ME9", contentType: "image/jpeg" }] });
    expect(first.keys).toEqual(["intake.photoReceived", "intake.chooseCategory"]);
    await chat.say("1");
    await chat.say("الزبالة ما انشالت من اسبوع");
    const confirm = await chat.say("حارة الكنيسة");
    expect(confirm.keys).toEqual(["intake.confirm"]);
    await chat.say("1");
    expect(chat.filed[0]?.media).toEqual([{ url: "https://api.twilio.com/media/ME9", contentType: "image/jpeg" }]);
  });

  it("a voice note gets a polite answer and is still kept on the request in progress", async () => {
    const chat = engineChat({ channel: "whatsapp", locale: "en" });
    await chat.say("I want to report a problem");
    await chat.say("2");
    const voice = await chat.send({ text: "", media: [{ url: "https://api.twilio.com/media/ME7", contentType: "audio/ogg" }] });
    expect(voice.keys[0]).toBe("media.unsupported");
    expect(voice.text).toContain("only read text, photos and locations");
    expect(chat.state.draft?.media).toEqual([{ url: "https://api.twilio.com/media/ME7", contentType: "audio/ogg" }]);
    expect(chat.state.step).toBe("description");
  });

  it("voice notes never count as wrong answers", async () => {
    const chat = engineChat({ channel: "whatsapp", locale: "ar" });
    await chat.say("بدي قدم شكوى");
    await chat.say("1");
    for (let i = 0; i < 3; i++) {
      const turn = await chat.send({ text: "", media: [{ url: `https://x.test/v${i}.ogg`, contentType: "audio/ogg" }] });
      expect(turn.keys).toEqual(["media.unsupported", "intake.askDescription"]);
    }
    expect(chat.state.strikes).toBe(0);
    await chat.say("الزبالة مكومة قدام الفرن");
    await chat.say("حي السراي");
    await chat.say("1");
    await chat.say("1");
    expect(chat.filed[0]?.media).toHaveLength(3);
  });

  it("an echoed description is cut between whole characters, never inside an emoji", async () => {
    const chat = engineChat({ channel: "sms", locale: "en" });
    await chat.say("report a problem");
    await chat.say("1");
    await chat.say("Rubbish everywhere near the bakery😡😡😡 please come");
    const confirm = await chat.say("near the church");
    expect(confirm.keys).toEqual(["intake.confirm"]);
    expect(confirm.text.isWellFormed()).toBe(true);
    expect(confirm.text).toContain("Rubbish everywhere near the bakery😡😡😡...\n");
    expect(confirm.segments).toBeLessThanOrEqual(2);
  });

  it("the description can come with a photo in the same message", async () => {
    const chat = engineChat({ channel: "whatsapp", locale: "en" });
    await chat.say("report");
    await chat.say("6");
    const turn = await chat.send({ text: "three dogs near the bakery", media: [{ url: "https://x.test/m.jpg", contentType: "image/jpeg" }] });
    expect(turn.keys).toEqual(["intake.askLocation"]);
    expect(chat.state.draft?.media).toHaveLength(1);
  });
});

describe("no dead ends", () => {
  it.each([
    ["whatsapp", "cancel"],
    ["whatsapp", "إلغاء"],
    ["sms", "إلغاء"],
    ["sms", "الغاء"],
  ] as const)("on %s, '%s' abandons the request", async (channel, word) => {
    {
      const chat = engineChat({ locale: "ar", channel });
      await chat.say("بدي قدم شكوى");
      const turn = await chat.say(word);
      expect(turn.keys).toEqual(["intake.cancelled", "menu"]);
      expect(chat.state.draft).toBeUndefined();
    }
  });

  it("on SMS, a bare CANCEL opts out, as Twilio itself does on SMS numbers", async () => {
    const chat = engineChat({ locale: "en", channel: "sms" });
    await chat.say("report a problem");
    const turn = await chat.say("CANCEL");
    expect(turn.effects).toEqual([{ type: "optOut" }]);
    expect(turn.keys).toEqual(["optOut.done"]);
  });

  it("a request left unfinished for a day is dropped: the next message starts afresh", async () => {
    const chat = engineChat({ locale: "ar", now: new Date("2026-11-29T09:00:00Z") });
    await chat.say("بدي قدم شكوى");
    await chat.say("1");
    const later = engineChat({ locale: "ar", now: new Date("2026-12-01T09:00:00Z") });
    later.state = chat.state;
    const turn = await later.say("مرحبا");
    expect(turn.keys).toEqual(["welcome", "menu"]);
    expect(later.state.draft).toBeUndefined();
  });

  it("a greeting in the middle of a request repeats the question instead of becoming the description", async () => {
    const chat = engineChat({ locale: "ar" });
    await chat.say("بدي قدم شكوى");
    await chat.say("1");
    expect((await chat.say("مرحبا")).keys).toEqual(["intake.askDescription"]);
    expect(chat.state.draft?.description).toBeUndefined();
  });

  it("'what happened to my request?' in the middle of a request answers and keeps the request", async () => {
    const chat = engineChat({ locale: "ar" });
    chat.lookups.tickets.push({ reference: 10400, categoryCode: "water", status: "in_progress", needsHuman: false, createdAt: new Date() });
    await chat.say("في جورة كبيرة بالطريق العام");
    await chat.say("1");
    const turn = await chat.say("شو صار بطلبي");
    expect(turn.keys).toEqual(["status.list", "intake.resume"]);
    expect(chat.state.step).toBe("location");
    expect(chat.state.draft?.addressText).toBeUndefined();
  });

  it.each([
    ["اه", "intake.askLocation"],
    ["eh akid", "intake.askLocation"],
    ["نعم صحيح", "intake.askLocation"],
    ["la2 mish hek", "intake.chooseCategory"],
  ])("'%s' is understood as an answer to 'is this about...?'", async (answer, next) => {
    const chat = engineChat({ locale: "ar" });
    await chat.say("المي مقطوعة عنا من يومين");
    expect((await chat.say(answer)).keys).toEqual([next]);
  });

  it("words typed at 'having trouble?' are read as a fresh message", async () => {
    const chat = engineChat({ locale: "ar" });
    await chat.say("بدي قدم شكوى");
    for (let i = 0; i < 3; i++) await chat.say("99");
    expect(chat.state.step).toBe("stuck");
    const turn = await chat.say("في جورة كبيرة بالطريق");
    expect(turn.keys).toEqual(["intake.confirmCategory"]);
    expect(chat.state.draft?.categoryCode).toBe("roads");
  });

  it.each(["0", "٠", "menu", "القائمة", "قائمة"])("%s returns to the menu from the middle of a request", async (word) => {
    const chat = engineChat({ locale: "ar" });
    await chat.say("المي مقطوعة عنا من يومين");
    expect((await chat.say(word)).keys).toEqual(["menu"]);
    expect(chat.state.step).toBe("menu");
  });

  it("after three unusable answers the bot offers help instead of asking again", async () => {
    const chat = engineChat({ locale: "en" });
    await chat.say("1");
    expect((await chat.say("42")).keys).toEqual(["retry.number"]);
    expect((await chat.say("👍")).keys).toEqual(["retry.number"]);
    const third = await chat.say("hmm");
    expect(third.keys).toEqual(["stuck"]);
    expect(third.text).toBe("Having trouble? Send:\n1 Talk to staff\n2 Try again\n0 Menu");
    // "Try again" asks the same question afresh
    const again = await chat.say("2");
    expect(again.keys).toEqual(["intake.chooseCategory"]);
    expect(chat.state.strikes).toBe(0);
  });

  it("from 'having trouble', 1 hands the conversation to staff", async () => {
    const chat = engineChat({ locale: "ar" });
    await chat.say("بدي قدم شكوى");
    await chat.say("99");
    await chat.say("99");
    await chat.say("99");
    const turn = await chat.say("1");
    expect(turn.keys).toEqual(["human.filed"]);
    expect(chat.filed[0]).toMatchObject({ needsHuman: true });
  });

  it("the confirmation can be declined", async () => {
    const chat = engineChat({ locale: "en" });
    await chat.say("trash bins are overflowing near the market");
    await chat.say("yes");
    await chat.say("market street");
    const turn = await chat.say("2");
    expect(turn.keys).toEqual(["intake.cancelled", "menu"]);
    expect(chat.filed).toHaveLength(0);
  });

  it("a reference asked about in the middle of a request answers and keeps the request", async () => {
    const chat = engineChat({ locale: "en" });
    chat.lookups.tickets.push({ reference: 55555, categoryCode: "water", status: "in_progress", needsHuman: false, createdAt: new Date() });
    await chat.say("no water since yesterday");
    const turn = await chat.say("#55555");
    expect(turn.keys).toEqual(["status.one", "intake.resume"]);
    expect(chat.state.step).toBe("confirmCategory");
    expect((await chat.say("1")).keys).toEqual(["intake.askLocation"]);
  });
});
