import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CHANNELS, LOCALES, TICKET_STATUSES, type Reply, type ReplyParam, type TextRef } from "../../src/conversation/types.js";
import { createI18n, LOCALES_DIR, loadResources } from "../../src/i18n/createI18n.js";
import { render } from "../../src/i18n/render.js";
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
const PARAMS: Record<string, Record<string, ReplyParam>> = {
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
};

// What a resident reads most often must cost a single segment.
const ONE_SEGMENT = [
  "menu",
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
  ["balance.unavailable", "menu"],
  ["language.switched", "menu"],
  ["status.list", "status.more"],
  ["status.one", "intake.resume"],
  ["status.notFound", "intake.resume"],
  ["reset", "welcome", "menu"],
  ["reset", "intake.confirmCategory"],
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
