/** Currency names kept short: every character counts in an Arabic SMS (70 per segment). */
const CURRENCY_NAMES = {
  ar: { LBP: "ل.ل.", USD: "دولار" },
  en: { LBP: "LBP", USD: "USD" },
} as const;

const ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩";
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * Formats an amount for a resident: "1,250,000 LBP", "85.50 USD", "85 USD", "1,250,000 ل.ل.",
 * "85.50 دولار". Lira are whole; dollars show two decimals only when there are cents. Arabic-Indic
 * digits ("١٬٢٥٠٬٠٠٠ ل.ل.") only when `digits` is "arabic" and the locale is Arabic; English always
 * uses Western digits. Takes the decimal as a string (Prisma `Decimal.toString()`) so no float
 * rounding creeps in; throws a RangeError on anything that is not a plain decimal number.
 */
export function formatAmount(
  amount: string | number,
  currency: "LBP" | "USD",
  locale: "ar" | "en",
  digits: "western" | "arabic",
): string {
  const text = typeof amount === "number" ? numberToPlain(amount) : amount.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw new RangeError(`not an amount: ${JSON.stringify(amount)}`);
  const [, minus, whole = "0", fraction = ""] = match;
  const places = currency === "USD" ? 2 : 0;
  const { units, cents } = roundTo(whole, fraction, places);
  const isZero = /^0*$/.test(units + cents);
  const shownCents = cents !== "" && !/^0+$/.test(cents) ? cents : "";
  let number = (minus && !isZero ? "-" : "") + group(units, ",") + (shownCents ? `.${shownCents}` : "");
  if (digits === "arabic" && locale === "ar") {
    number = [...number]
      .map((c) => (c === "," ? "٬" : c === "." ? "٫" : /\d/.test(c) ? ARABIC_INDIC[Number(c)] : c))
      .join("");
  }
  return `${number} ${CURRENCY_NAMES[locale][currency]}`;
}

/** A number as a plain decimal string, without exponent notation ("1e21" would not parse). */
function numberToPlain(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not an amount: ${value}`);
  return value.toLocaleString("en-US", { useGrouping: false, maximumFractionDigits: 20 });
}

/** Rounds half away from zero to `places` decimals, working on digit strings. */
function roundTo(whole: string, fraction: string, places: number): { units: string; cents: string } {
  const kept = fraction.padEnd(places, "0").slice(0, places);
  const roundUp = Number(fraction[places] ?? "0") >= 5;
  if (!roundUp) return { units: stripLeadingZeros(whole), cents: kept };
  const digits = incrementDigits(whole + kept);
  const units = digits.slice(0, digits.length - places);
  return { units: stripLeadingZeros(units), cents: places ? digits.slice(-places) : "" };
}

function incrementDigits(digits: string): string {
  const out = [...digits];
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== "9") {
      out[i] = String(Number(out[i]) + 1);
      return out.join("");
    }
    out[i] = "0";
  }
  return "1" + out.join("");
}

function stripLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, "") || "0";
}

function group(units: string, separator: string): string {
  return units.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
}
