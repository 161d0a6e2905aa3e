import { describe, expect, it } from "vitest";
import { currencyIn, parseAmount } from "../../src/understand/parseAmount.js";
import { readAccountNumber, readVerificationCode } from "../../src/understand/readAccountInput.js";
import { understand } from "../../src/understand/understand.js";
import { seededCategories } from "../support/fakeLookups.js";

describe("account intents", () => {
  it.each([
    ["قديش عليّ", "balance"],
    ["ade 3layye", "balance"],
    ["what do I owe", "balance"],
    ["كشف حساب", "statement"],
    ["بدي كشف الحساب", "statement"],
    ["kashf", "statement"],
    ["statement please", "statement"],
    ["كيف بدفع", "howToPay"],
    ["وين فيني ادفع الفاتورة؟", "howToPay"],
    ["kif bedfa3", "howToPay"],
    ["How do I pay my bill?", "howToPay"],
    ["دفعت", "reportPayment"],
    ["دفعت الفاتورة امبارح", "reportPayment"],
    ["sadadt", "reportPayment"],
    ["I paid my bill", "reportPayment"],
    ["report a payment", "reportPayment"],
    ["ربط حساب", "linkAccount"],
    ["link another account", "linkAccount"],
  ])("%s → %s", (text, intent) => {
    expect(understand(text, seededCategories).intent.type).toBe(intent);
  });

  it("Arabizi account words are Arabizi", () => {
    expect(understand("kashf 7sab", seededCategories).language).toBe("arabizi");
  });
});

describe("parseAmount", () => {
  it.each([
    ["500000", "500000", null],
    ["500,000 ل.ل.", "500000", "LBP"],
    ["٥٠٠٬٠٠٠ ليرة", "500000", "LBP"],
    ["1.250.000", "1250000", null],
    ["1 250 000 LL", "1250000", "LBP"],
    ["85.50$", "85.5", "USD"],
    ["$85", "85", "USD"],
    ["85,5 dollar", "85.5", "USD"],
    ["١٠٠ دولار", "100", "USD"],
    ["500 alf", "500000", null],
    ["٥٠٠ الف ليرة", "500000", "LBP"],
    ["2 مليون", "2000000", null],
    ["1.5m", "1500000", null],
    ["500k", "500000", null],
    // "الف" inside a word is not a thousand; "لل" starting a word is not lira.
    ["دفعت 500 دولار الفاتورة", "500", "USD"],
    ["دفعت 85 للبلدية", "85", null],
  ] as const)("%s → %s %s", (text, amount, currency) => {
    expect(parseAmount(text)).toEqual({ amount, currency });
  });

  it.each(["", "hello", "0", "0.00", "12 and 13", "99999999999999"])("%j is not an amount", (text) => {
    expect(parseAmount(text)).toBeNull();
  });

  it.each([
    ["dollar", "USD"],
    ["ليرة", "LBP"],
    ["بالليرة", "LBP"],
    ["whatever", null],
  ] as const)("currencyIn(%s) → %s", (text, currency) => {
    expect(currencyIn(text)).toBe(currency);
  });
});

describe("account numbers and codes as typed", () => {
  it.each([
    ["QE-104270", "QE-104270"],
    [" qe-١٠٤٢٧٠ ", "qe-104270"],
    ["ب/١٢٣", "ب/123"],
    ["۱۰۴۲۷۰", "104270"],
    ["رقم الحساب 104270", "104270"],
    ["10 2345", "102345"],
    ["#205", "205"],
    ["no bill", null],
    ["12", "12"],
    ["104270 and 104271", null],
  ] as const)("account number %j → %s", (text, expected) => {
    expect(readAccountNumber(text)).toBe(expected);
  });

  it.each([
    ["4821", "4821"],
    ["٤٨٢١", "4821"],
    ["۴۸۲۱", "4821"],
    ["الرمز 4821", "4821"],
    ["Ab12", "Ab12"],
    ["no idea", null],
    ["12", null],
  ] as const)("code %j → %s", (text, expected) => {
    expect(readVerificationCode(text)).toBe(expected);
  });
});
