import { describe, expect, it, vi } from "vitest";
import type { ConversationState } from "../../src/conversation/state.js";
import type { ChannelKind, Effect, Locale } from "../../src/conversation/types.js";
import { engineChat } from "../support/engineChat.js";

const REFUSAL = {
  ar: "معلومات الحساب تعطى فقط لرقم الهاتف المسجل على الفاتورة. راسلنا من ذلك الرقم برسالة نصية أو واتساب، أو راجع البلدية.",
  en: "Account information is only given to the phone number on your bill. Write to us from that number by SMS or WhatsApp, or visit the town hall.",
};
const ACCOUNT_EFFECTS: ReadonlyArray<Effect["type"]> = ["recordDisclosure", "reportPayment"];

/**
 * A WhatsApp sender whose number WhatsApp hid (an "@lid" id that could not be resolved). The town
 * has the account on their bill; it is even linked in the fake, so that nothing but the flag stands
 * between them and its balance. Every account lookup is watched.
 */
function lidSender(options: { channel?: ChannelKind; locale?: Locale | null; verifiedPhone?: boolean } = {}) {
  const chat = engineChat({ channel: options.channel ?? "whatsapp", locale: options.locale ?? null, verifiedPhone: options.verifiedPhone ?? false });
  const house = chat.lookups.addAccount({
    number: "QE-104270",
    code: "4821",
    balances: [{ currency: "LBP", amountDue: "1250000", dueDate: new Date("2026-12-31T00:00:00Z") }],
    lines: [{ date: new Date("2026-06-15T00:00:00Z"), kind: "payment", description: "OMT", currency: "LBP", amount: "1250000", reference: "P-77" }],
  });
  chat.lookups.linked.add(house.id);
  const looked = {
    linkedAccounts: vi.spyOn(chat.lookups, "linkedAccounts"),
    statementLines: vi.spyOn(chat.lookups, "statementLines"),
    linkingLocked: vi.spyOn(chat.lookups, "linkingLocked"),
  };
  return { chat, looked };
}

type Chat = ReturnType<typeof lidSender>;

/** Nothing of an account was looked up, disclosed, linked or reported. */
function expectNoAccountTouched({ chat, looked }: Chat) {
  expect(looked.linkedAccounts).not.toHaveBeenCalled();
  expect(looked.statementLines).not.toHaveBeenCalled();
  expect(looked.linkingLocked).not.toHaveBeenCalled();
  expect(chat.disclosures).toEqual([]);
  expect(chat.payments).toEqual([]);
  expect(chat.lookups.attempts).toEqual([]);
}

describe("a sender without a verified phone asks about accounts", () => {
  it.each([
    ["balance, Arabic", "قديش عليّ", "ar"],
    ["balance, English", "what is my balance", "en"],
    ["balance, Arabizi", "ade 3layye", "ar"],
    ["statement, Arabic", "بدي كشف حساب", "ar"],
    ["statement, English", "send me my statement", "en"],
    ["statement, Arabizi", "kashf 7sab", "ar"],
    ["linking, Arabic", "بدي اربط حسابي", "ar"],
    ["linking, English", "link my account", "en"],
    ["linking, Arabizi", "rbot 7sab", "ar"],
    ["a payment, Arabic", "دفعت الرسوم", "ar"],
    ["a payment, English", "I paid my bill", "en"],
    ["a payment, Arabizi", "dafa3t el fatoura", "ar"],
  ] as const)("%s: the polite refusal, nothing looked up", async (_name, text, locale) => {
    const sender = lidSender();
    const turn = await sender.chat.say(text);
    expect(turn.keys).toEqual(["account.phoneOnly"]);
    expect(turn.text).toBe(REFUSAL[locale]);
    expect(turn.link).toBeUndefined();
    expect(turn.effects.filter((e) => ACCOUNT_EFFECTS.includes(e.type))).toEqual([]);
    expect(turn.state.step).toBe("idle");
    expectNoAccountTouched(sender);
  });

  type Line = [resident: string, keys: string];
  it.each<[string, Line[]]>([
    [
      "Arabic: link, the bill's number, its code",
      [
        ["ربط حساب", "account.phoneOnly"],
        ["QE-104270", "status.notFound"],
        ["4821", "welcome menu"],
      ],
    ],
    [
      "English: link, the bill's number, its code",
      [
        ["link my account", "account.phoneOnly"],
        ["QE-104270", "status.notFound"],
        ["4821", "welcome menu"],
      ],
    ],
    [
      "Arabizi: balance, then number and code with Arabic-Indic digits",
      [
        ["2ade 3layye", "account.phoneOnly"],
        ["qe-١٠٤٢٧٠", "status.notFound"],
        ["٤٨٢١", "welcome menu"],
      ],
    ],
    [
      "English: I paid, then an amount and a place",
      [
        ["I paid", "account.phoneOnly"],
        ["85 USD", "welcome menu"],
        ["OMT", "notUnderstood menu"],
      ],
    ],
  ])("%s: nothing is tried, linked or reported", async (_name, lines) => {
    const sender = lidSender();
    for (const [text, keys] of lines) expect((await sender.chat.say(text)).keys.join(" "), text).toBe(keys);
    expectNoAccountTouched(sender);
  });

  it.each([
    ["ar", "كيف بدفع"],
    ["en", "how do I pay"],
  ] as const)("%s: the ways to pay are for everyone, without account numbers, in two SMS segments", async (locale, text) => {
    const sender = lidSender({ channel: "sms", locale });
    const turn = await sender.chat.say(text);
    expect(turn.keys).toEqual(["pay.options"]);
    expect(turn.replies[0]?.params).toEqual({ reference: { $t: "pay.phoneHint" } });
    expect(turn.text).not.toContain("QE-104270");
    expect(turn.segments).toBeLessThanOrEqual(2);
    expectNoAccountTouched(sender);
  });

  it.each(["ar", "en"] as const)("%s: the refusal fits two SMS segments (the engine does not care which channel)", async (locale) => {
    const sender = lidSender({ channel: "sms", locale });
    const turn = await sender.chat.say(locale === "ar" ? "رصيدي" : "balance");
    expect(turn.keys).toEqual(["account.phoneOnly"]);
    expect(turn.segments).toBeLessThanOrEqual(2);
  });
});

describe("a sender without a verified phone found mid-link or mid-payment (however they got there)", () => {
  const since = "2026-11-29T08:55:00.000Z";
  const states: Record<string, ConversationState> = {
    "asked for the account number": { version: 1, step: "linkNumber", strikes: 0, account: { goal: "balance", startedAt: since } },
    "asked for the code": { version: 1, step: "linkCode", strikes: 0, account: { goal: "statement", number: "QE-104270", startedAt: since } },
    "asked which account": { version: 1, step: "chooseAccount", strikes: 0, account: { goal: "balance", choices: [1], startedAt: since } },
    "asked how much was paid": { version: 1, step: "payAmount", strikes: 0, payment: { accountId: 1, media: [], startedAt: since } },
    "asked for the receipt photo": {
      version: 1,
      step: "payPhoto",
      strikes: 0,
      payment: { accountId: 1, amount: "1250000", currency: "LBP", paidAt: "OMT", paymentRef: "", media: [], startedAt: since },
    },
    "stuck at the code": { version: 1, step: "stuck", strikes: 0, resumeStep: "linkCode", account: { goal: "balance", number: "QE-104270", startedAt: since } },
  };

  it.each(Object.entries(states).flatMap(([name, state]) => ["4821", "1", "1250000 ليرة", "2", "مرحبا"].map((text) => [name, text, state] as const)))(
    "%s, says %s: the refusal, a fresh start, nothing looked up",
    async (_name, text, state) => {
      const sender = lidSender({ locale: "ar" });
      sender.chat.state = state;
      const turn = await sender.chat.say(text);
      expect(turn.keys).toEqual(["account.phoneOnly"]);
      expect(turn.state).toEqual({ version: 1, step: "idle", strikes: 0 });
      expect(turn.link).toBeUndefined();
      expect(turn.effects).toEqual([]);
      expectNoAccountTouched(sender);
    },
  );

  it.each([
    ["0", "menu"],
    ["مساعدة", "help.text"],
    ["English", "language.switched menu"],
  ])("a command still works from a fresh start: %s", async (text, keys) => {
    const sender = lidSender({ locale: "ar" });
    sender.chat.state = states["asked for the code"]!;
    const turn = await sender.chat.say(text);
    expect(turn.keys.join(" ")).toBe(keys);
    expect(turn.state.account).toBeUndefined();
    expectNoAccountTouched(sender);
  });
});

describe("everything else works as usual for a sender without a verified phone", () => {
  it("files a request on WhatsApp and follows it", async () => {
    const sender = lidSender();
    const lines: [string, string][] = [
      ["بدي إفادة سكن", "intake.confirmCategory"],
      ["نعم", "intake.askPhoto"],
      ["1", "intake.confirm"],
      ["1", "intake.filed"],
      ["10427", "status.one"],
      ["2", "status.list"],
      ["شو صار بطلبي", "status.list"],
    ];
    for (const [text, keys] of lines) expect((await sender.chat.say(text)).keys.join(" "), text).toBe(keys);
    expect(sender.chat.filed).toEqual([expect.objectContaining({ reference: 10427, categoryCode: "certificates", description: "بدي إفادة سكن" })]);
    expectNoAccountTouched(sender);
  });

  it("the main menu is the same four options", async () => {
    const sender = lidSender({ locale: "en" });
    const turn = await sender.chat.say("menu");
    expect(turn.text).toBe("Send a number:\n1 New request\n2 My requests\n3 Talk to staff\n4 عربي");
    expect((await sender.chat.say("3")).keys).toEqual(["human.filed"]);
  });
});

describe("a verified sender is unchanged", () => {
  it.each([
    ["قديش عليّ", "balance.summary"],
    ["kashf 7sab", "statement.list"],
    ["I paid", "payment.askAmount"],
    ["link my account", "link.askNumber"],
  ])("%s → %s", async (text, key) => {
    const { chat } = lidSender({ verifiedPhone: true });
    expect((await chat.say(text)).keys).toEqual([key]);
  });
});
