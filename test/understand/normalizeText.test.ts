import { describe, expect, it } from "vitest";
import { detectLanguage } from "../../src/understand/detectLanguage.js";
import { foldDigits } from "../../src/understand/foldDigits.js";
import { normalizeText } from "../../src/understand/normalizeText.js";
import { referenceIn, understand } from "../../src/understand/understand.js";
import { seededCategories } from "../support/fakeLookups.js";

describe("normalizeText", () => {
  it.each([
    ["tashkeel", "أَنَا أُرِيدُ تَقْدِيمَ طَلَبٍ", "انا اريد تقديم طلب"],
    ["alef variants", "إفادة أو آخر", "افاده او اخر"],
    ["alef maqsura and taa marbuta", "شكوى الزبالة", "شكوي الزباله"],
    ["tatweel", "مـــرحـبـا", "مرحبا"],
    ["stretched letters", "اااالزباااله", "الزباله"],
    ["presentation forms", "ﻣﺮﺣﺒﺎ", "مرحبا"],
    ["Arabic-Indic digits", "حالة ١٠٤٢٧", "حاله 10427"],
    ["Persian digits", "۱۲۳", "123"],
    ["Latin case and punctuation", "  Hello,   WORLD!! ", "hello world"],
    ["Latin stretching", "hiiiii", "hi"],
    ["Latin double letters are kept", "street", "street"],
  ])("%s", (_name, input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it("folds both Arabic-Indic and Persian digits and keeps the rest", () => {
    expect(foldDigits("٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹ abc")).toBe("0123456789 0123456789 abc");
  });
});

describe("detectLanguage", () => {
  it.each([
    ["المي مقطوعة", "ar"],
    ["no water since yesterday", "en"],
    ["el mai ma2tou3a men embere7", "arabizi"],
    ["baddi 2adem shakwa", "arabizi"],
    ["shu sar bel talab?", "arabizi"],
    ["٣", "ar"],
    ["3", null],
    ["👍", null],
    ["", null],
  ] as const)("%s → %s", (text, expected) => {
    expect(detectLanguage(text)).toBe(expected);
  });
});

describe("referenceIn", () => {
  it.each([
    ["10427", 10427],
    ["#10427", 10427],
    ["# 10427", 10427],
    ["١٠٤٢٧", 10427],
    ["status 10427", 10427],
    ["حالة الطلب رقم 10427 لو سمحت", 10427],
    ["12", null],
    ["call 03 123", null],
  ])("%s → %s", (text, expected) => {
    expect(referenceIn(text)).toBe(expected);
  });
});

describe("understand", () => {
  it.each([
    ["3", 3],
    ["٣", 3],
    ["۳", 3],
    ["3.", 3],
    ["3)", 3],
    [" 10 ", 10],
    ["3 dogs", null],
  ])("menu choice %s → %s", (text, expected) => {
    expect(understand(text, seededCategories).choice).toBe(expected);
  });

  it.each([
    ["ما صار في مي من مبارح بالحي", "water"],
    ["حالة الطريق كتير سيئة", "roads"],
    ["someone dumped rubbish near my house", "waste"],
    ["can someone fix the street light", "lighting"],
    ["موظف البلدية ما إجا يلم الزبالة", "waste"],
    ["May I report a broken street light", "lighting"],
    ["بدي إفادة سكن بسرعة", "certificates"],
    ["no electricity in the street lamps", "lighting"],
  ])("'%s' is a request about %s, not a status question or a call for staff", (text, category) => {
    expect(understand(text, seededCategories).intent).toEqual({ type: "newRequest", categoryCode: category });
  });

  it("short keywords match whole words only: 'parked' is not a park", () => {
    expect(understand("cars parked in front of the school", seededCategories).categoryCode).not.toBe("parks_playgrounds");
  });

  it("a number inside a long sentence is not a status question", () => {
    expect(understand("شو صار بالطلب رقم 10427", seededCategories).intent).toEqual({ type: "status", reference: 10427 });
    expect(understand("the water pipe in front of building 10427 has been leaking for three days", seededCategories).intent.type).toBe("newRequest");
  });

  it("keeps 'the bus stop' from being an opt-out: commands are whole messages", () => {
    expect(understand("the bus stop is broken", seededCategories).intent.type).not.toBe("optOut");
  });

  it("matches keywords through Arabic clitics", () => {
    expect(understand("والريحة قوية من المجارير", seededCategories).categoryCode).toBe("sewage");
    expect(understand("بالطريق", seededCategories).categoryCode).toBe("roads");
  });
});
