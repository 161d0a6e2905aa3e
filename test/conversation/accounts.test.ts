import { describe, expect, it } from "vitest";
import type { ChannelKind, Locale } from "../../src/conversation/types.js";
import { engineChat } from "../support/engineChat.js";
import type { FakeAccount } from "../support/fakeLookups.js";

const LONG_NAME = "عبد الرحمن محمد سليم الحاج حسن";
const DEC_31 = new Date("2026-12-31T00:00:00Z");
const JUNE_15 = new Date("2026-06-15T00:00:00Z");

/** A resident of the town, not linked to anything yet, and the town's accounts. */
function town(options: { channel?: ChannelKind; locale?: Locale | null; amountDigits?: "western" | "arabic" } = {}) {
  const chat = engineChat(options);
  const house = chat.lookups.addAccount({
    number: "QE-104270",
    code: "4821",
    holderName: LONG_NAME,
    balances: [
      { currency: "LBP", amountDue: "1250000", dueDate: DEC_31 },
      { currency: "USD", amountDue: "85.50", dueDate: DEC_31 },
    ],
    lastPayment: { date: JUNE_15, amount: "1250000", currency: "LBP" },
    lines: [
      { date: new Date("2026-01-10"), kind: "charge", description: "رسم القيمة التأجيرية 2026", currency: "LBP", amount: "2500000", reference: "C-2026-1" },
      { date: new Date("2026-01-10"), kind: "charge", description: "رسم الصرف الصحي", currency: "USD", amount: "85.50", reference: "C-2026-2" },
      { date: new Date("2026-03-02"), kind: "adjustment", description: "تصحيح", currency: "LBP", amount: "-50000", reference: "A-1" },
      { date: JUNE_15, kind: "payment", description: "OMT", currency: "LBP", amount: "1250000", reference: "P-77" },
    ],
  });
  const shop = chat.lookups.addAccount({
    number: "205",
    code: "7310",
    holderName: "Garage Haddad",
    accountType: "business",
    balances: [{ currency: "LBP", amountDue: "0", dueDate: DEC_31 }],
  });
  return { chat, house, shop };
}

const link = (chat: ReturnType<typeof engineChat>, account: FakeAccount) => chat.lookups.linked.add(account.id);

describe("linking an account from the bill", () => {
  it.each([
    ["Arabic", "قديش عليّ", "QE-104270", "4821", "ar"],
    ["Arabizi, Arabic-Indic digits", "ade 3layye", "qe-١٠٤٢٧٠", "٤٨٢١", "ar"],
    ["English, Persian digits", "what is my balance", " qe-۱۰۴۲۷۰ ", "۴۸۲۱", "en"],
  ] as const)("%s: number, code, then the balance at once", async (_name, question, number, code, locale) => {
    const { chat, house } = town();
    expect((await chat.say(question)).keys).toEqual(["link.askNumber"]);
    expect(chat.resident.locale).toBe(locale);
    expect((await chat.say(number)).keys).toEqual(["link.askCode"]);
    const linked = await chat.say(code);
    expect(linked.link).toEqual({
      effect: { type: "linkAccount", accountNumber: expect.stringMatching(/^qe-104270$/i), code: "4821" },
      outcome: { status: "linked", accountId: house.id },
    });
    expect(linked.keys).toEqual(["balance.summary"]);
    expect(linked.text.split("\n")[0]).toBe(locale === "ar" ? "تم ربط QE-104270 عبد الرحمن مح…" : "Linked: account QE-104270 (property)");
    expect(linked.effects).toContainEqual({ type: "recordDisclosure", kind: "balance_disclosed", accountId: house.id });
    expect(linked.segments).toBeLessThanOrEqual(2);
    expect(chat.state.step).toBe("idle");
  });

  it("a wrong code and an account number that does not exist get exactly the same answer", async () => {
    const wrong = town({ locale: "ar" }).chat;
    const unknown = town({ locale: "ar" }).chat;
    for (const chat of [wrong, unknown]) await chat.say("رصيدي");
    await wrong.say("QE-104270");
    await unknown.say("QE-999999");
    const a = await wrong.say("1111");
    const b = await unknown.say("4821");
    expect(a.link?.outcome).toEqual({ status: "rejected" });
    expect(b.link?.outcome).toEqual({ status: "rejected" });
    expect(a.text).toBe(b.text);
    expect(a.text).toBe("رقم الحساب والرمز غير متطابقين. راجع الفاتورة وأرسل رقم الحساب من جديد، أو 0 للقائمة.");
    expect(a.effects).toEqual(b.effects);
    expect({ ...a.state, account: { ...a.state.account, startedAt: "" } }).toEqual({ ...b.state, account: { ...b.state.account, startedAt: "" } });
    expect(a.state.step).toBe("linkNumber");
  });

  it("the code never enters the conversation state", async () => {
    const { chat } = town({ locale: "en" });
    await chat.say("balance");
    await chat.say("QE-104270");
    expect(JSON.stringify(chat.state)).not.toContain("1111");
    const turn = await chat.say("1111");
    expect(JSON.stringify(turn.state)).not.toContain("1111");
  });

  it("five failed tries lock this phone for an hour, with a clear message", async () => {
    const { chat } = town({ locale: "en" });
    await chat.say("my balance");
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) {
      await chat.say(`QE-10000${i}`);
      replies.push((await chat.say("0000")).keys.join());
    }
    expect(replies).toEqual(["link.wrong", "link.wrong", "link.wrong", "link.wrong", "link.locked"]);
    expect(chat.state.step).toBe("idle");
    // Locked: not even asked for a number, so the right code cannot be tried.
    const again = await chat.say("my balance");
    expect(again.text).toBe("Too many tries. Try again in an hour, or come to the town hall with your ID and bill.");
    expect(again.link).toBeUndefined();
    chat.wait(61 * 60_000);
    expect((await chat.say("my balance")).keys).toEqual(["link.askNumber"]);
    await chat.say("QE-104270");
    expect((await chat.say("4821")).keys).toEqual(["balance.summary"]);
  });

  it("five failed tries on one account number, from any phones, lock that number — existing or not", async () => {
    for (const number of ["QE-104270", "QE-555555"]) {
      const { chat } = town({ locale: "en" });
      for (let i = 0; i < 5; i++) chat.lookups.attempts.push({ accountNumber: number, success: false, at: new Date("2026-11-29T08:30:00Z"), phone: "other" });
      await chat.say("my balance");
      await chat.say(number);
      const turn = await chat.say("4821");
      expect(turn.link?.outcome).toEqual({ status: "locked" });
      expect(turn.keys).toEqual(["link.locked"]);
    }
  });

  it("something that cannot be an account number or a code is asked again; 'talk to someone' is heard", async () => {
    const { chat } = town({ locale: "en" });
    await chat.say("balance");
    expect((await chat.say("I don't have the bill")).keys).toEqual(["retry.accountNumber"]);
    await chat.say("QE-104270");
    expect((await chat.say("no idea")).keys).toEqual(["retry.code"]);
    expect((await chat.say("talk to someone")).keys).toEqual(["human.filed"]);
  });

  it("a five-digit account number is an account number here, not a request reference", async () => {
    const { chat } = town({ locale: "ar" });
    chat.lookups.addAccount({ number: "10427", code: "9090", balances: [{ currency: "LBP", amountDue: "300000", dueDate: DEC_31 }] });
    await chat.say("رصيدي");
    expect((await chat.say("10427")).keys).toEqual(["link.askCode"]);
    expect((await chat.say("90901")).keys).toEqual(["link.wrong"]);
  });

  it("a linked resident can link another account: 'ربط حساب'", async () => {
    const { chat, house, shop } = town({ locale: "ar" });
    link(chat, house);
    expect((await chat.say("بدي اربط حساب تاني")).keys).toEqual(["link.askNumber"]);
    await chat.say("205");
    const turn = await chat.say("7310");
    expect(turn.text).toBe("تم ربط 205 Garage Haddad\nلا مستحقات عليك.");
    expect([...chat.lookups.linked].sort()).toEqual([house.id, shop.id].sort());
  });

  it("three unusable answers offer a way out, and 'try again' asks for the number again", async () => {
    const { chat } = town({ locale: "en" });
    await chat.say("balance");
    for (const text of ["hmm", "lost it", "..."]) await chat.say(text);
    expect(chat.state.step).toBe("stuck");
    expect((await chat.say("2")).keys).toEqual(["link.askNumber"]);
    expect(chat.state.step).toBe("linkNumber");
  });

  it("an unfinished link lapses after a day: the next message starts afresh", async () => {
    const { chat } = town({ locale: "ar" });
    await chat.say("رصيدي");
    await chat.say("QE-104270");
    chat.wait(25 * 3600_000);
    const turn = await chat.say("مرحبا");
    expect(turn.keys).toEqual(["welcome", "menu"]);
    expect(turn.link).toBeUndefined();
  });

  it("0, cancel and a language switch work in the middle of linking", async () => {
    const { chat } = town({ locale: "ar" });
    await chat.say("رصيدي");
    expect((await chat.say("English")).text).toBe("To see your account, send the account number as printed on your municipal bill.");
    expect((await chat.say("إلغاء")).keys).toEqual(["cancelled", "menu"]);
    await chat.say("balance");
    expect((await chat.say("0")).keys).toEqual(["menu"]);
  });
});

describe("balance", () => {
  it("one account, in Arabic, in two SMS segments with a long holder name shortened", async () => {
    const { chat, house } = town({ locale: "ar" });
    link(chat, house);
    const turn = await chat.say("قديش عليّ");
    expect(turn.text).toBe(
      [
        "حساب QE-104270 عبد الرحمن مح…",
        "عليك 1,250,000 ل.ل. حتى 31/12/2026",
        "و85.50 دولار حتى 31/12/2026",
        "آخر دفعة 1,250,000 ل.ل. في 15/06/2026",
      ].join("\n"),
    );
    expect(turn.segments).toBe(2);
    expect(chat.disclosures).toEqual([{ kind: "balance_disclosed", accountId: house.id }]);
  });

  it("with Arabic-Indic digits when the town prefers them", async () => {
    const { chat, house } = town({ locale: "ar", amountDigits: "arabic" });
    link(chat, house);
    const turn = await chat.say("رصيدي");
    expect(turn.text.split("\n")[1]).toBe("عليك ١٬٢٥٠٬٠٠٠ ل.ل. حتى ٣١/١٢/٢٠٢٦");
    expect(turn.text.split("\n")[2]).toBe("و٨٥٫٥٠ دولار حتى ٣١/١٢/٢٠٢٦");
    expect(turn.segments).toBe(2);
  });

  it("in English, an Arabic holder name gives way to the account's kind so the SMS stays GSM-7", async () => {
    const { chat, house } = town({ locale: "en" });
    link(chat, house);
    const turn = await chat.say("what do I owe");
    expect(turn.text).toBe(
      "Account QE-104270 (property)\nDue: 1,250,000 LBP by 31/12/2026\nand 85.50 USD by 31/12/2026\nLast payment: 1,250,000 LBP on 15/06/2026",
    );
    expect(turn.segments).toBe(1);
  });

  it("overdue amounts and accounts with nothing due say so", async () => {
    const { chat, house, shop } = town({ locale: "en" });
    house.balances = [{ currency: "LBP", amountDue: "400000", dueDate: new Date("2026-10-31") }];
    house.lastPayment = null;
    link(chat, house);
    expect((await chat.say("balance")).text).toBe("Account QE-104270 (property)\nDue: 400,000 LBP overdue since 31/10/2026");
    chat.lookups.linked.clear();
    link(chat, shop);
    expect((await chat.say("balance")).text).toBe("Account 205 Garage Haddad\nNothing due.");
  });

  it("on WhatsApp, the summary points to the statement and the payment options", async () => {
    const { chat, house } = town({ locale: "ar", channel: "whatsapp" });
    link(chat, house);
    const turn = await chat.say("رصيدي");
    expect(turn.text.split("\n")[0]).toBe(`حساب QE-104270 ${LONG_NAME}`);
    expect(turn.text.endsWith("لآخر الحركات أرسل: كشف حساب\nلطرق الدفع أرسل: كيف بدفع\nلإضافة حساب آخر أرسل: ربط حساب")).toBe(true);
  });

  it("several accounts: a short list, then the one chosen by its number in the list or on the bill", async () => {
    const { chat, house, shop } = town({ locale: "ar" });
    link(chat, house);
    link(chat, shop);
    const list = await chat.say("ade 3layye");
    expect(list.text).toBe("أي حساب؟ أرسل رقماً:\n1 205 Garage Haddad\n2 QE-104270 عبد الرحمن مح…");
    expect(list.effects).toEqual([]);
    const chosen = await chat.say("٢");
    expect(chosen.text.startsWith("حساب QE-104270")).toBe(true);
    expect(chat.disclosures).toEqual([{ kind: "balance_disclosed", accountId: house.id }]);

    await chat.say("رصيدي");
    expect((await chat.say("7")).keys).toEqual(["retry.number"]);
    expect((await chat.say("205")).text).toBe("حساب 205 Garage Haddad\nلا مستحقات عليك.");
  });

  it("more accounts than an SMS can list: the others by their number", async () => {
    const { chat } = town({ locale: "en" });
    for (let i = 1; i <= 4; i++) link(chat, chat.lookups.addAccount({ number: `30${i}`, code: "1", holderName: `Owner ${i}` }));
    const list = await chat.say("balance");
    expect(list.keys).toEqual(["account.choose", "account.others"]);
    expect(list.text).toBe("Which account? Send a number:\n1 301 Owner 1\n2 302 Owner 2\n3 303 Owner 3\nOr send another account number.");
    expect((await chat.say("304")).text).toBe("Account 304 Owner 4\nNothing due.");
  });
});

describe("statement", () => {
  it.each([
    ["كشف حساب", "ar"],
    ["kashf", "ar"],
    ["statement", "en"],
  ] as const)("'%s' gives the latest lines that fit an SMS", async (text, locale) => {
    const { chat, house } = town({ locale });
    link(chat, house);
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(["statement.list"]);
    expect(turn.text.split("\n")).toHaveLength(4);
    expect(turn.segments).toBeLessThanOrEqual(2);
    expect(chat.disclosures).toEqual([{ kind: "statement_disclosed", accountId: house.id }]);
    if (locale === "ar") {
      expect(turn.text).toBe("آخر حركات الحساب QE-104270:\n15/06/2026 دفعة 1,250,000 ل.ل.\n02/03/2026 تسوية -50,000 ل.ل.\n10/01/2026 رسم 85.50 دولار");
    }
  });

  it("on WhatsApp, more lines with their descriptions", async () => {
    const { chat, house } = town({ locale: "en", channel: "whatsapp" });
    link(chat, house);
    const turn = await chat.say("statement");
    expect(turn.text.split("\n")).toHaveLength(5);
    expect(turn.text).toContain("15/06/2026 payment 1,250,000 LBP OMT");
  });

  it("an unlinked resident links first; the list's heading says the account is now linked", async () => {
    const { chat } = town({ locale: "ar" });
    await chat.say("كشف حساب");
    await chat.say("QE-104270");
    const turn = await chat.say("4821");
    expect(turn.keys).toEqual(["statement.listLinked"]);
    expect(turn.text.split("\n")).toEqual(["تم ربط QE-104270. آخر الحركات:", "15/06/2026 دفعة 1,250,000 ل.ل.", "02/03/2026 تسوية -50,000 ل.ل.", "10/01/2026 رسم 85.50 دولار"]);
    expect(turn.segments).toBeLessThanOrEqual(2);
  });

  it("with several accounts, the statement of the one chosen", async () => {
    const { chat, house, shop } = town({ locale: "en" });
    link(chat, house);
    link(chat, shop);
    expect((await chat.say("statement")).keys).toEqual(["account.choose"]);
    expect((await chat.say("2")).text.split("\n")[0]).toBe("Latest entries, account QE-104270:");
    expect(chat.disclosures).toEqual([{ kind: "statement_disclosed", accountId: house.id }]);
  });

  it("an account without lines says so; an unlinked resident links first", async () => {
    const { chat, shop } = town({ locale: "en" });
    await chat.say("statement");
    await chat.say("205");
    const turn = await chat.say("7310");
    expect(turn.keys).toEqual(["link.done", "statement.empty"]);
    expect(turn.text).toBe("Account 205 is now linked to your phone.\nNo entries yet on account 205.");
    expect(chat.disclosures).toEqual([{ kind: "statement_disclosed", accountId: shop.id }]);
  });
});

describe("how to pay", () => {
  it.each([
    ["كيف بدفع", "ar"],
    ["kif bedfa3", "ar"],
    ["How do I pay?", "en"],
  ] as const)("'%s' lists the payment options, and how to see the balance, to anyone", async (text, locale) => {
    const { chat } = town();
    const turn = await chat.say(text);
    expect(turn.keys).toEqual(["pay.options"]);
    expect(chat.resident.locale).toBe(locale);
    expect(turn.text).toContain(locale === "ar" ? "لمعرفة المستحق عليك أرسل: رصيدي" : "To see what you owe, send BALANCE.");
    expect(turn.link).toBeUndefined();
  });

  it("a linked resident gets their account numbers as payment references", async () => {
    const { chat, house, shop } = town({ locale: "ar" });
    link(chat, house);
    link(chat, shop);
    const turn = await chat.say("وين بدفع الفاتورة؟");
    expect(turn.text).toBe(
      "ادفع في صندوق البلدية (الإثنين-الجمعة 8-2)، أو بتحويل مصرفي، أو لدى OMT وWhish.\nمرجع الدفع: 205، QE-104270\nدفعت؟ أرسل: دفعت",
    );
    expect(turn.segments).toBeLessThanOrEqual(2);
    expect(turn.effects).toEqual([]);
  });
});

describe("reporting a payment", () => {
  it("by SMS in Arabic: amount, place, receipt number → a finance report with a reference", async () => {
    const { chat, house } = town({ locale: "ar" });
    house.balances = [{ currency: "LBP", amountDue: "1250000", dueDate: DEC_31 }];
    link(chat, house);
    expect((await chat.say("دفعت")).keys).toEqual(["payment.askAmount"]);
    expect((await chat.say("٥٠٠ الف")).keys).toEqual(["payment.askWhere"]);
    expect((await chat.say("3")).keys).toEqual(["payment.askReference"]);
    // A six-digit receipt number is the answer, not a request reference.
    const filed = await chat.say("884512");
    expect(filed.keys).toEqual(["payment.filed"]);
    expect(filed.text).toBe("سجلنا دفعة 500,000 ل.ل. عن الحساب QE-104270. رقم المتابعة #10427. سيتحقق منها قسم المالية ويبلغك.");
    expect(chat.payments).toEqual([
      {
        reference: 10427,
        accountId: house.id,
        amount: "500000",
        currency: "LBP",
        paidAt: "OMT",
        paymentRef: "884512",
        media: [],
        startedAt: new Date("2026-11-29T09:00:00Z"),
      },
    ]);
  });

  it("on WhatsApp in English, with a photo of the receipt", async () => {
    const { chat, house } = town({ locale: "en", channel: "whatsapp" });
    link(chat, house);
    await chat.say("I paid my bill");
    expect((await chat.say("$85.50")).keys).toEqual(["payment.askWhere"]);
    expect((await chat.say("Bank Audi, Chtaura branch")).keys).toEqual(["payment.askReference"]);
    expect((await chat.say("1")).keys).toEqual(["payment.askPhoto"]);
    const photo = { url: "https://api.twilio.com/media/ME9", contentType: "image/jpeg" };
    const filed = await chat.send({ text: "", media: [photo] });
    expect(filed.text).toBe("Payment of 85.50 USD on account QE-104270 reported: #10427. The finance office will check it and let you know.");
    expect(chat.payments[0]).toMatchObject({ amount: "85.5", currency: "USD", paidAt: "Bank Audi, Chtaura branch", paymentRef: "", media: [photo] });
  });

  it("in Arabizi, an amount without currency on a two-currency account asks which", async () => {
    const { chat, house } = town();
    link(chat, house);
    await chat.say("dafa3t");
    expect((await chat.say("85")).keys).toEqual(["payment.askCurrency"]);
    expect((await chat.say("2")).keys).toEqual(["payment.askWhere"]);
    await chat.say("1");
    await chat.say("R-12");
    expect(chat.payments[0]).toMatchObject({ amount: "85", currency: "USD", paidAt: "Town hall", paymentRef: "R-12" });
  });

  it("an unlinked resident links first, then reports", async () => {
    const { chat, house } = town({ locale: "en" });
    await chat.say("I already paid");
    await chat.say("QE-104270");
    const linked = await chat.say("4821");
    expect(linked.keys).toEqual(["link.done", "payment.askAmount"]);
    expect(chat.state.payment?.accountId).toBe(house.id);
  });

  it("unusable answers are asked again; cancel abandons the report", async () => {
    const { chat, house } = town({ locale: "ar" });
    link(chat, house);
    await chat.say("دفعت");
    expect((await chat.say("مبارح")).keys).toEqual(["retry.amount"]);
    await chat.say("500000 ليرة");
    expect((await chat.say("👍")).keys).toEqual(["retry.where"]);
    expect((await chat.say("إلغاء")).keys).toEqual(["payment.cancelled", "menu"]);
    expect(chat.payments).toEqual([]);
  });
});
