import { describe, expect, it } from "vitest";
import { formatAmount } from "../../src/lib/formatAmount.js";

describe("formatAmount", () => {
  it.each([
    ["1250000", "LBP", "en", "western", "1,250,000 LBP"],
    ["1250000.00", "LBP", "en", "western", "1,250,000 LBP"],
    ["85.50", "USD", "en", "western", "85.50 USD"],
    ["85.5", "USD", "en", "western", "85.50 USD"],
    ["85.00", "USD", "en", "western", "85 USD"],
    ["85", "USD", "en", "western", "85 USD"],
    ["0.005", "USD", "en", "western", "0.01 USD"],
    ["99.995", "USD", "en", "western", "100 USD"],
    ["999999.5", "LBP", "en", "western", "1,000,000 LBP"],
    ["0", "LBP", "en", "western", "0 LBP"],
    ["-12000", "LBP", "en", "western", "-12,000 LBP"],
    ["-0.001", "USD", "en", "western", "0 USD"],
    ["1250000", "LBP", "ar", "western", "1,250,000 ل.ل."],
    ["85.50", "USD", "ar", "western", "85.50 دولار"],
    ["1250000", "LBP", "ar", "arabic", "١٬٢٥٠٬٠٠٠ ل.ل."],
    ["85.50", "USD", "ar", "arabic", "٨٥٫٥٠ دولار"],
    // English keeps Western digits whatever the setting.
    ["1250000", "LBP", "en", "arabic", "1,250,000 LBP"],
  ] as const)("%s %s (%s, %s) → %s", (amount, currency, locale, digits, expected) => {
    expect(formatAmount(amount, currency, locale, digits)).toBe(expected);
  });

  it("takes numbers too, without float noise", () => {
    expect(formatAmount(85.5, "USD", "en", "western")).toBe("85.50 USD");
    expect(formatAmount(0.1 + 0.2, "USD", "en", "western")).toBe("0.30 USD");
    expect(formatAmount(1e21, "LBP", "en", "western")).toBe("1,000,000,000,000,000,000,000 LBP");
  });

  it.each(["", "abc", "1,000", "1e5", "NaN"])("refuses %j", (amount) => {
    expect(() => formatAmount(amount, "LBP", "en", "western")).toThrow(RangeError);
  });

  it("refuses non-finite numbers", () => {
    expect(() => formatAmount(Number.POSITIVE_INFINITY, "USD", "en", "western")).toThrow(RangeError);
  });
});
