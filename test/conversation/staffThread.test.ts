import { describe, expect, it } from "vitest";
import { engineChat } from "../support/engineChat.js";

describe("a resident answering staff", () => {
  it.each(["نعم، العمود قدام الفرن", "thanks!", "مرحبا"])("'%s' goes to the ticket staff wrote about, not to the menu", async (text) => {
    const chat = engineChat({ locale: "ar" });
    chat.lookups.thread = { reference: 10427, categoryCode: "lighting" };
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(["thread.added"]);
    expect(turn.effects).toContainEqual({ type: "addToTicket", reference: 10427 });
    expect(turn.text).toBe("شكراً، أضفنا رسالتك إلى الطلب #10427. سيرد الموظفون هنا.");
  });

  it("a photo staff asked for goes to the ticket too", async () => {
    const chat = engineChat({ locale: "en", channel: "whatsapp" });
    chat.lookups.thread = { reference: 10427, categoryCode: "lighting" };
    const turn = await chat.send({ text: "", media: [{ url: "https://x.test/p.jpg", contentType: "image/jpeg" }] });
    expect(turn.effects).toEqual([{ type: "addToTicket", reference: 10427 }]);
  });

  it("menu numbers, commands and requests about something else keep their meaning", async () => {
    const chat = engineChat({ locale: "ar" });
    chat.lookups.thread = { reference: 10427, categoryCode: "lighting" };
    expect((await chat.say("1")).keys).toEqual(["intake.chooseCategory"]);
    expect((await chat.say("0")).keys).toEqual(["menu"]);
    expect((await chat.say("في جورة كبيرة بالطريق العام")).keys).toEqual(["intake.confirmCategory"]);
    expect((await chat.say("STOP")).effects).toEqual([{ type: "optOut" }]);
  });

  it("without a recent staff message, the menu as before", async () => {
    const chat = engineChat({ locale: "ar" });
    expect((await chat.say("مرحبا")).keys).toEqual(["welcome", "menu"]);
  });
});
