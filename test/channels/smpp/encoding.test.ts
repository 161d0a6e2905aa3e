import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatenationUdh, decodeText, encodeText, isGsm7, splitUserData } from "../../../src/channels/smpp/encoding.js";
import { smsCost } from "../../../src/lib/smsSegments.js";

/** Every text the project sends or receives: locale strings (both languages) and the residents' corpus. */
function projectTexts(): string[] {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") texts.push(value);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  for (const locale of ["ar", "en"]) {
    const dir = path.join("locales", locale);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) walk(JSON.parse(readFileSync(path.join(dir, file), "utf8")));
  }
  const corpus = readFileSync("/work/shared/corpus/resident-messages.jsonl", "utf8");
  for (const line of corpus.split("\n").filter(Boolean)) walk((JSON.parse(line) as { text: unknown }).text);
  return texts;
}

const joined = (text: string) => {
  const { dataCoding, parts } = encodeText(text);
  return decodeText(Buffer.concat(parts), dataCoding);
};

describe("segmenting as the project counts segments", () => {
  const texts = [...new Set(projectTexts())];

  it("has the project's texts to check", () => {
    expect(texts.length).toBeGreaterThan(500);
    expect(texts.some((t) => smsCost(t).segments > 1)).toBe(true);
  });

  it("splits every project text, and each repeated 3 times, into smsCost(text).segments parts that decode back to it", () => {
    const mismatches: Array<{ text: string; ours: number; theirs: number }> = [];
    for (const base of texts) {
      for (const times of [1, 3]) {
        const text = Array.from({ length: times }, () => base).join("\n");
        const { parts, dataCoding } = encodeText(text);
        const cost = smsCost(text);
        if (parts.length !== cost.segments) mismatches.push({ text, ours: parts.length, theirs: cost.segments });
        expect(dataCoding).toBe(cost.encoding === "GSM-7" ? 0 : 8);
        expect(joined(text)).toBe(text);
      }
    }
    expect(mismatches).toEqual([]);
    // Slow: the calculator splits graphemes with a library of its own.
  }, 60_000);

  it("agrees with the calculator on which characters are GSM 03.38 and what each costs", () => {
    const differences: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const char = String.fromCharCode(code);
      const cost = smsCost(char);
      const gsm = cost.encoding === "GSM-7";
      if (isGsm7(char) !== gsm) differences.push(`U+${code.toString(16)}`);
      else if (gsm && encodeText(char).parts[0]?.length !== cost.characters) differences.push(`U+${code.toString(16)} septets`);
    }
    expect(differences).toEqual([]);
  }, 60_000);

  const gsm = (n: number) => "a".repeat(n);
  const arabic = (n: number) => "ش".repeat(n);
  it.each([
    ["160 septets", gsm(160), 0, [160]],
    ["161 septets", gsm(161), 0, [153, 8]],
    ["306 septets", gsm(306), 0, [153, 153]],
    ["307 septets", gsm(307), 0, [153, 153, 1]],
    ["158 septets and €", `${gsm(158)}€`, 0, [160]],
    ["159 septets and €: the escape is not split", `${gsm(159)}€`, 0, [153, 8]],
    ["152 septets and € then more: the escape moves whole", `${gsm(152)}€${gsm(10)}`, 0, [152, 12]],
    ["70 Arabic letters", arabic(70), 8, [140]],
    ["71 Arabic letters", arabic(71), 8, [134, 8]],
    ["134 Arabic letters", arabic(134), 8, [134, 134]],
    ["135 Arabic letters", arabic(135), 8, [134, 134, 2]],
    ["68 letters and an emoji", `${arabic(68)}😀`, 8, [140]],
    ["66 letters and an emoji then more: the pair is not split", `${arabic(66)}😀${arabic(10)}`, 8, [132, 24]],
    ["66 letters and a letter with shadda and fatha: the grapheme is not split", `${arabic(66)}شَّ${arabic(10)}`, 8, [132, 26]],
  ])("%s", (_name, text, dataCoding, partBytes) => {
    const encoded = encodeText(text);
    expect(encoded.dataCoding).toBe(dataCoding);
    expect(encoded.parts.map((p) => p.length)).toEqual(partBytes);
    expect(encoded.parts.length).toBe(smsCost(text).segments);
    expect(joined(text)).toBe(text);
  });

  it("keeps agreeing on random mixes of GSM, extension, Arabic, marks and emoji", () => {
    const pieces = ["a", " ", "1", "€", "[", "^", "@", "é", "\n", "\r\n", "ش", "ـ", "ّ", "َ", "٣", "😀", "👍🏽", "🇱🇧", "e\u0301", "’"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 400 }), (chosen) => {
        const text = chosen.join("");
        const { parts, dataCoding } = encodeText(text);
        expect(parts.length).toBe(smsCost(text).segments);
        expect(decodeText(Buffer.concat(parts), dataCoding)).toBe(text);
        for (const part of parts) {
          if (dataCoding === 0) expect(part[part.length - 1]).not.toBe(0x1b);
          // No part ends inside a surrogate pair.
          else expect(decodeText(part, 8)).toBe(decodeText(part, 8).toWellFormed());
          expect(part.length).toBeLessThanOrEqual(parts.length === 1 ? 140 : dataCoding === 0 ? 153 : 134);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("decoding by data_coding", () => {
  it.each([
    ["GSM-7 with its special letters", Buffer.from([0x00, 0x01, 0x02, 0x24, 0x40, 0x5f, 0x60, 0x7f, 0x10, 0x1f]), 0, "@£$¤¡§¿àΔÉ"],
    ["GSM-7 extension table", Buffer.from([0x1b, 0x14, 0x1b, 0x28, 0x1b, 0x29, 0x1b, 0x2f, 0x1b, 0x3c, 0x1b, 0x3d, 0x1b, 0x3e, 0x1b, 0x40, 0x1b, 0x65, 0x1b, 0x0a]), 0, "^{}\\[~]|€\f"],
    ["GSM-7 escape to an undefined septet: the default character", Buffer.from([0x1b, 0x41]), 0, "A"],
    ["GSM-7 with a trailing lone escape", Buffer.from([0x41, 0x1b]), 0, "A"],
    ["data_coding 0 with bytes above 0x7F: Latin-1", Buffer.from("café", "latin1"), 0, "café"],
    ["IA5", Buffer.from("id:1 @[x]_", "ascii"), 1, "id:1 @[x]_"],
    ["Latin-1", Buffer.from("Beyrouth, été", "latin1"), 3, "Beyrouth, été"],
    ["UCS-2 Arabic and an emoji", Buffer.from("مرحبا 😀", "utf16le").swap16(), 8, "مرحبا 😀"],
    ["UCS-2 with an odd trailing byte", Buffer.concat([Buffer.from("ب", "utf16le").swap16(), Buffer.from([0x06])]), 8, "ب"],
    ["UCS-2 with a lone surrogate", Buffer.from([0xd8, 0x3d, 0x00, 0x41]), 8, "\ufffdA"],
    ["GSM data coding scheme 0x18 (UCS-2, class 0)", Buffer.from("سلام", "utf16le").swap16(), 0x18, "سلام"],
    ["GSM data coding scheme 0xF1 (GSM-7, class 1)", Buffer.from([0x48, 0x69]), 0xf1, "Hi"],
    ["GSM data coding scheme 0xF4 (8-bit)", Buffer.from("ok", "latin1"), 0xf4, "ok"],
  ])("%s", (_name, bytes, dataCoding, text) => {
    expect(decodeText(bytes, dataCoding)).toBe(text);
  });
});

describe("user data header", () => {
  it("builds the 8-bit concatenation header", () => {
    expect([...concatenationUdh(0x12a, 3, 2)]).toEqual([5, 0, 3, 0x2a, 3, 2]);
  });

  it.each([
    ["an 8-bit reference", [5, 0, 3, 0x2a, 3, 2], { ref: 0x2a, refBits: 8, total: 3, seq: 2 }],
    ["a 16-bit reference", [6, 8, 4, 0x12, 0x34, 4, 1], { ref: 0x1234, refBits: 16, total: 4, seq: 1 }],
    ["the concatenation after another element (a port address)", [11, 5, 4, 0x0b, 0x84, 0x23, 0xf0, 0, 3, 7, 2, 2], { ref: 7, refBits: 8, total: 2, seq: 2 }],
    ["no concatenation element", [4, 5, 2, 0x0b, 0x84], null],
  ])("reads a header with %s", (_name, header, concatenation) => {
    const { concatenation: read, body } = splitUserData(Buffer.concat([Buffer.from(header), Buffer.from("hi")]));
    expect(read).toEqual(concatenation);
    expect(body.toString()).toBe("hi");
  });

  it("takes a header longer than the data for text", () => {
    const data = Buffer.from([9, 0, 3, 1]);
    expect(splitUserData(data)).toEqual({ concatenation: null, body: data });
  });
});
