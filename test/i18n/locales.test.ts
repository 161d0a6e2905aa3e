import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CHANNELS, LOCALES, TICKET_STATUSES, type Reply, type ReplyParam, type TextRef } from "../../src/conversation/types.js";
import { createI18n, LOCALES_DIR, loadResources } from "../../src/i18n/createI18n.js";
import { render } from "../../src/i18n/render.js";
import { formatAmount } from "../../src/lib/formatAmount.js";
import { smsCost } from "../../src/lib/smsSegments.js";
import { seededCategories } from "../support/fakeLookups.js";

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === "string" ? [prefix + k] : flatten(v, `${prefix}${k}.`)));
}

const resources = loadResources();
const namespaces = readdirSync(path.join(LOCALES_DIR, "en")).map((f) => path.basename(f, ".json"));
const keysOf = (locale: string, ns: string) => flatten(resources[locale]![ns] as Tree);
const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;
const CONTEXT_SUFFIX = new RegExp(`_(${CHANNELS.join("|")})$`);
const baseKey = (key: string) => key.replace(PLURAL_SUFFIX, "").replace(CONTEXT_SUFFIX, "");

describe("translations", () => {
  it.each(namespaces)("%s: Arabic and English have the same keys (plural forms aside)", (ns) => {
    const base = (locale: string) => [...new Set(keysOf(locale, ns).map(baseKey))].sort();
    expect(base("ar")).toEqual(base("en"));
  });

  it.each(namespaces)("%s: every Arabic plural has all six forms", (ns) => {
    const plurals = new Set(keysOf("ar", ns).filter((k) => PLURAL_SUFFIX.test(k)).map((k) => k.replace(PLURAL_SUFFIX, "")));
    for (const key of plurals) {
      for (const form of ["zero", "one", "two", "few", "many", "other"]) expect(keysOf("ar", ns)).toContain(`${key}_${form}`);
    }
    const englishPlurals = new Set(keysOf("en", ns).filter((k) => PLURAL_SUFFIX.test(k)).map((k) => k.replace(PLURAL_SUFFIX, "")));
    expect([...plurals].sort()).toEqual([...englishPlurals].sort());
  });

  it("every reply key the conversation code names exists in both languages", () => {
    const sources = readdirSync(path.join(import.meta.dirname, "../../src/conversation"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(path.join(import.meta.dirname, "../../src/conversation", f), "utf8"))
      .join("\n");
    const named = [...sources.matchAll(/(?:key|\$t): "([a-zA-Z.]+)"/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(20);
    const i18n = createI18n();
    for (const key of [...named, ...TICKET_STATUSES.map((s) => `ticketStatus.${s}`)]) {
      for (const lng of LOCALES) expect(i18n.exists(key, { lng, count: 2 }) || i18n.exists(key, { lng }), `${lng}:${key}`).toBe(true);
    }
  });

  it("Arabic counts read naturally in all six plural forms", () => {
    const i18n = createI18n();
    const line = { $t: "status.line", params: { reference: 10427, category: { ar: "مياه", en: "Water" }, status: { $t: "ticketStatus.new" } } };
    const heading = (count: number) => render(i18n, [{ key: "status.list", params: { count, lines: { lines: [line] } } }], "ar", "sms").split("\n")[0];
    expect(heading(1)).toBe("لديك طلب مفتوح:");
    expect(heading(2)).toBe("لديك طلبان مفتوحان:");
    expect(heading(3)).toBe("لديك 3 طلبات مفتوحة:");
    expect(heading(11)).toBe("لديك 11 طلباً مفتوحاً:");
    expect(heading(100)).toBe("لديك 100 طلب مفتوح:");
  });
});

// Realistic worst cases: the longest seeded category name, six-digit references, a description
// and a landmark as long as the bot ever echoes back on SMS.
const longest = (pick: (c: (typeof seededCategories)[number]) => string) =>
  seededCategories.reduce((a, b) => (pick(a).length >= pick(b).length ? a : b)).name;
const category = { ar: longest((c) => c.name.ar).ar, en: longest((c) => c.name.en).en };
const statusLine = (status: string, reference: number): TextRef => ({
  $t: "status.line",
  params: { reference, category, status: { $t: `ticketStatus.${status}` } },
});
// Accounts: a nine-character account number, a long Arabic holder name as the engine shortens it on
// SMS (an English reply shows the account's kind instead), seven-digit lira amounts and dollars with cents.
const money = (amount: string, currency: "LBP" | "USD") => ({
  ar: formatAmount(amount, currency, "ar", "western"),
  en: formatAmount(amount, currency, "en", "western"),
});
const date = { ar: "31/12/2026", en: "31/12/2026" };
const accountNumber = "QE-104270";
const holder = { ar: "عبد الرحمن مح…", en: "(property)" };
const statementLine = (kind: string, amount: string): TextRef => ({
  $t: "statement.line",
  params: { date, kind: { $t: `statement.kind.${kind}` }, amount: money(amount, "LBP"), note: "" },
});
const ACCOUNT_PARAMS: Record<string, Record<string, ReplyParam>> = {
  "balance.summary": {
    lines: {
      lines: [
        { $t: "balance.headerLinked", params: { number: accountNumber, holder } },
        { $t: "balance.due", params: { amount: money("1250000", "LBP"), when: { $t: "balance.overdueSince", params: { date } } } },
        { $t: "balance.dueAlso", params: { amount: money("85.50", "USD"), when: { $t: "balance.dueBy", params: { date } } } },
        { $t: "balance.lastPayment", params: { amount: money("1250000", "LBP"), date } },
      ],
    },
  },
  "balance.header": { number: accountNumber, holder },
  "balance.headerLinked": { number: accountNumber, holder },
  "balance.due": { amount: money("1250000", "LBP"), when: { $t: "balance.overdueSince", params: { date } } },
  "balance.dueAlso": { amount: money("85.50", "USD"), when: { $t: "balance.dueBy", params: { date } } },
  "balance.dueBy": { date },
  "balance.overdueSince": { date },
  "balance.lastPayment": { amount: money("1250000", "LBP"), date },
  "account.choose": {
    choices: { options: [1, 2, 3].map((n) => ({ n, label: { $t: "account.option", params: { number: `QE-10427${n}`, holder } } })) },
  },
  "account.option": { number: accountNumber, holder },
  "link.done": { number: accountNumber },
  "statement.list": {
    number: accountNumber,
    lines: { lines: [statementLine("payment", "12500000"), statementLine("adjustment", "-1250000"), statementLine("charge", "12500000")] },
  },
  "statement.listLinked": {
    number: accountNumber,
    lines: { lines: [statementLine("payment", "12500000"), statementLine("adjustment", "-1250000"), statementLine("charge", "12500000")] },
  },
  "statement.line": { date, kind: { $t: "statement.kind.adjustment" }, amount: money("-12500000", "LBP"), note: "" },
  "statement.empty": { number: accountNumber },
  "pay.options": {
    reference: { $t: "pay.reference", params: { numbers: { ar: "QE-104270، QE-104271…", en: "QE-104270, QE-104271..." } } },
  },
  "pay.reference": { numbers: { ar: "QE-104270، QE-104271…", en: "QE-104270, QE-104271..." } },
  "payment.filed": { amount: money("12500000", "LBP"), number: accountNumber, reference: 104270 },
};

// A monthly survey as an officer would write it: the staff pages refuse any survey whose messages
// would not fit (src/services/surveys/cost.ts); these are the typical lengths.
const SURVEY_QUESTION = { ar: "ما مدى رضاك عن جمع النفايات في حيك هذا الشهر؟", en: "How satisfied are you with waste collection in your area this month?" };
const SURVEY_PARAMS: Record<string, Record<string, ReplyParam>> = {
  "survey.invite": { title: { ar: "رضا السكان عن جمع النفايات", en: "Waste collection satisfaction" } },
  "survey.intro": { intro: { ar: "ثلاثة أسئلة قصيرة.", en: "Three short questions." } },
  "survey.ask": {
    n: 1,
    total: 3,
    text: SURVEY_QUESTION,
    hint: { options: [{ n: 1, label: { ar: "الحي الغربي", en: "West" } }, { n: 2, label: { ar: "الحي الشرقي", en: "East" } }, { n: 3, label: { ar: "وادي الدلم", en: "Wadi al-Delm" } }] },
  },
  "survey.askText": { n: 3, total: 3, text: { ar: "ما الذي يجب أن تصلحه البلدية أولاً؟", en: "What should the municipality fix first?" } },
  "survey.hint.rating": { min: 0, max: 10 },
};

const PARAMS: Record<string, Record<string, ReplyParam>> = {
  ...SURVEY_PARAMS,
  "intake.chooseCategory": { choices: { options: seededCategories.map((c, i) => ({ n: i + 1, label: c.name })) } },
  "intake.confirmCategory": { category },
  "intake.askDescription": { category },
  "intake.confirm": {
    category,
    description: "x".repeat(37) + "...",
    where: { $t: "intake.whereText", params: { place: "y".repeat(27) + "..." } },
  },
  "intake.filed": { reference: 104270 },
  "intake.wherePinNamed": { place: "y".repeat(30) },
  "intake.whereText": { place: "y".repeat(30) },
  "status.list": { count: 7, lines: { lines: [statusLine("waiting_staff", 104270), statusLine("in_progress", 204270), statusLine("new", 304270)] } },
  "status.more": { count: 4 },
  "status.line": { reference: 104270, category, status: { $t: "ticketStatus.waiting_staff" } },
  "status.one": { line: statusLine("waiting_staff", 104270) },
  "status.notFound": { reference: 104270 },
  "human.filed": { reference: 104270 },
  "human.alreadyWaiting": { reference: 104270 },
  "retry.number": { max: 10 },
  "thread.added": { reference: 104270 },
  ...ACCOUNT_PARAMS,
};

// What a resident reads most often must cost a single segment.
const ONE_SEGMENT = [
  "menu",
  "thread.added",
  "intake.confirmCategory",
  "intake.askDescription",
  "intake.askLocation",
  "intake.filed",
  "status.one",
  "status.notFound",
  "optOut.done",
  "retry.number",
  "retry.yesNo",
  "retry.description",
  "retry.location",
  "retry.photo",
  "retry.confirm",
  "stuck",
  "link.askNumber",
  "link.askCode",
  "link.locked",
  "link.done",
  "retry.accountNumber",
  "retry.code",
  "retry.account",
  "statement.empty",
  "pay.linkHint",
  "payment.askAmount",
  "payment.askCurrency",
  "payment.askWhere",
  "payment.askReference",
  "payment.askPhoto",
  "retry.amount",
  "retry.currency",
  "retry.where",
  "retry.reference",
  "cancelled",
  "payment.cancelled",
  // The one notice a phone over its budget gets before the bot falls silent.
  "guard.paused",
  "survey.retry",
  "survey.thanks",
  "survey.closed",
  "survey.paused",
  "survey.resume",
  "survey.joined",
  "survey.alreadyJoined",
  "survey.left",
  "survey.declined",
  "survey.declinedRun",
  "survey.askText",
];

// Replies the engine sends together in one message.
const COMBINATIONS: string[][] = [
  ["welcome", "menu"],
  ["notUnderstood", "menu"],
  ["intake.cancelled", "menu"],
  ["nothingToCancel", "menu"],
  ["optIn.done", "menu"],
  ["optIn.already", "menu"],
  ["status.none", "menu"],
  ["cancelled", "menu"],
  ["payment.cancelled", "menu"],
  ["account.choose", "account.others"],
  ["link.done", "statement.empty"],
  ["link.done", "payment.askAmount"],
  ["language.switched", "menu"],
  ["status.list", "status.more"],
  ["status.one", "intake.resume"],
  ["status.notFound", "intake.resume"],
  ["reset", "welcome", "menu"],
  ["reset", "intake.confirmCategory"],
  // The one-time survey offer rides on the filing confirmation.
  ["intake.filed", "survey.offer"],
  ["human.filed", "survey.offer"],
  // A survey: the invitation with its first question, an answer asked again, a survey resumed.
  ["survey.invite", "survey.ask"],
  ["survey.retry", "survey.ask"],
  ["survey.resume", "survey.ask"],
  ["survey.help", "survey.askText"],
];

describe("SMS cost", () => {
  const i18n = createI18n();
  const botKeys = [...new Set(keysOf("en", "bot").map(baseKey))];
  const smsText = (keys: string[], locale: "ar" | "en") =>
    render(i18n, keys.map((key): Reply => ({ key, params: PARAMS[key] ?? {} })), locale, "sms");

  it.each(LOCALES.flatMap((locale) => botKeys.map((key) => [locale, key] as const)))(
    "%s %s fits two segments",
    (locale, key) => {
      const text = smsText([key], locale);
      expect(smsCost(text).segments, text).toBeLessThanOrEqual(2);
    },
  );

  it.each(LOCALES.flatMap((locale) => ONE_SEGMENT.map((key) => [locale, key] as const)))(
    "%s %s fits one segment",
    (locale, key) => {
      const text = smsText([key], locale);
      expect(smsCost(text).segments, text).toBe(1);
    },
  );

  it.each(LOCALES.flatMap((locale) => COMBINATIONS.map((keys) => [locale, keys.join(" + "), keys] as const)))(
    "%s %s fits two segments together",
    (locale, _label, keys) => {
      const text = smsText(keys, locale);
      expect(smsCost(text).segments, text).toBeLessThanOrEqual(2);
    },
  );

  const notifyKeys = [...new Set(keysOf("en", "notify").map(baseKey))];
  it.each(LOCALES.flatMap((locale) => notifyKeys.map((key) => [locale, key] as const)))(
    "%s notify:%s (sent later by staff action) fits one segment",
    (locale, key) => {
      const text = render(i18n, [{ key: `notify:${key}`, params: { reference: 104270 } }], locale, "sms");
      expect(smsCost(text).segments, text).toBe(1);
    },
  );

  it("English stays in cheap GSM-7 wherever it does not quote Arabic", () => {
    for (const key of botKeys.filter((k) => k !== "menu")) {
      const text = smsText([key], "en");
      expect(smsCost(text).encoding, `${key}: ${text}`).toBe("GSM-7");
    }
  });
});
