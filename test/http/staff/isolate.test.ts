import { describe, expect, it } from "vitest";
import { createI18n } from "../../../src/i18n/createI18n.js";
import { isolate, isolateParams, isolating } from "../../../src/http/staff/format.js";
import { translator } from "../../../src/http/staff/staffContext.js";

const FSI = "\u2068";
const PDI = "\u2069";

describe("isolate: a value keeps its own direction inside a sentence", () => {
  it.each([
    ["08 540 123", `${FSI}08 540 123${PDI}`],
    ["QE-104", `${FSI}QE-104${PDI}`],
    ["-25", `${FSI}-25${PDI}`],
    ["محمد علي", `${FSI}محمد علي${PDI}`],
    ["/api/v1", `${FSI}/api/v1${PDI}`],
  ])("%s is wrapped in FSI … PDI", (value, isolated) => {
    expect(isolate(value)).toBe(isolated);
  });

  it.each(["", "42", "1,250,000", "33.8", "10:00"])("%j is left as it is: a plain number cannot be scrambled, and keeps a # attached", (value) => {
    expect(isolate(value)).toBe(value);
  });

  it("a stray isolate in the value cannot close ours, and one it opens is closed", () => {
    expect(isolate(`a${PDI}b`)).toBe(`${FSI}ab${PDI}`);
    expect(isolate(`a${FSI}b`)).toBe(`${FSI}a${FSI}b${PDI}${PDI}`);
    expect(isolate(`${FSI}x${PDI}`)).toBe(`${FSI}${FSI}x${PDI}${PDI}`);
  });

  it("parameters: every value isolated, except count and numbers that are not negative", () => {
    expect(isolateParams({ count: 3, line: 12, lon: -200, phone: "70 123 456", name: "Hala" })).toEqual({
      count: 3,
      line: 12,
      lon: `${FSI}-200${PDI}`,
      phone: `${FSI}70 123 456${PDI}`,
      name: `${FSI}Hala${PDI}`,
    });
  });

  it("a translator that isolates: the phone and the account number stay whole in the Arabic flash, the plural still counts", () => {
    const t = isolating(translator(createI18n(), "ar"));
    expect(t("accounts.linked", { phone: "+961 70 123 456", number: "QE-104" })).toBe(`أصبح ${FSI}+961 70 123 456${PDI} مربوطاً بالحساب ${FSI}QE-104${PDI}.`);
    expect(t("accounts.summary", { count: 2 })).not.toContain(FSI);
    expect(t("accounts.back")).toBe(translator(createI18n(), "ar")("accounts.back"));
  });
});
