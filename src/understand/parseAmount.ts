import { foldDigits } from "./foldDigits.js";

/** An amount of money as a resident wrote it, read into a plain decimal string and maybe a currency. */
export interface ParsedAmount {
  /** "1250000", "85.5": no grouping, at most two decimals, never negative or zero. */
  amount: string;
  /** null when the message does not say. */
  currency: "LBP" | "USD" | null;
}

// Lebanese residents write the currency every which way: "$", "usd", "dollar", "دولار", "ل.ل", "ليرة", "lira", "LL".
const USD = /(\$|\busd\b|\bdoll?ars?\b|\bdoular\b|دولار)/iu;
const LBP = /(\bl\.?\s?l\b|\blbp\b|\bliras?\b|\bleera\b|\blebanese pounds?\b|(?<!\p{L})ل\.?\s?ل(?!\p{L})|ليره|ليرة|ليرات|لبناني)/iu;
// "500 alf" = 500,000, "500k", "2 million", "٢ مليون": how amounts are said in Lebanon. Arabic words
// are matched whole, so that "الف" does not fire inside "الفاتورة".
const THOUSAND = /(\d\s?k\b|\balf\b|(?<!\p{L})(?:الف|ألف|آلاف|الاف)(?!\p{L}))/iu;
const MILLION = /(\d\s?m\b|\bmillions?\b|\bmalyo?u?n\b|(?<!\p{L})(?:مليون|ملايين)(?!\p{L}))/iu;
// A number with optional thousands groups ("1,250,000", "1.250.000", "1 250 000") and up to two decimals.
const NUMBER = /\d{1,3}(?:([,.\s])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d)/u;
const MAX_DIGITS = 13;

/**
 * Reads an amount of money from a short message: "500000", "500,000 ل.ل.", "٥٠٠٬٠٠٠ ليرة",
 * "1.250.000", "85.50$", "$85", "85,5 dollar", "500 alf", "2 مليون". A separator followed by exactly
 * three digits groups thousands; followed by one or two, it is the decimal point. Null when there is
 * no single usable amount (no number, two numbers, zero, absurdly large).
 */
export function parseAmount(text: string): ParsedAmount | null {
  const folded = foldDigits(text.normalize("NFKC")).replace(/٬/g, ",").replace(/٫/g, ".").trim();
  const numbers = folded.match(new RegExp(NUMBER.source, "gu")) ?? [];
  if (numbers.length !== 1) return null;
  const written = numbers[0]!;
  let [units, fraction = ""] = splitDecimal(written);
  if (MILLION.test(folded)) [units, fraction] = scale(units, fraction, 6);
  else if (THOUSAND.test(folded)) [units, fraction] = scale(units, fraction, 3);
  units = units.replace(/^0+(?=\d)/, "");
  if (units.length > MAX_DIGITS) return null;
  fraction = fraction.replace(/0+$/, "");
  const amount = fraction ? `${units}.${fraction}` : units;
  if (/^0+(\.0*)?$/.test(amount)) return null;
  const currency = USD.test(folded) ? "USD" : LBP.test(folded) ? "LBP" : null;
  return { amount, currency };
}

/** Whole units and decimals of a written number, grouping separators removed. */
function splitDecimal(written: string): [string, string] {
  const decimal = /[.,](\d{1,2})$/.exec(written);
  const whole = decimal ? written.slice(0, decimal.index) : written;
  return [whole.replace(/[,.\s]/g, ""), decimal?.[1] ?? ""];
}

/** Multiplies by 10^power by moving the decimal point ("1.5" million → "1500000"). */
function scale(units: string, fraction: string, power: number): [string, string] {
  const padded = fraction.padEnd(power, "0");
  return [units + padded.slice(0, power), padded.slice(power)];
}

/** The currency a message names ("dollar", "$", "ليرة", "ل.ل."), if exactly one. */
export function currencyIn(text: string): "LBP" | "USD" | null {
  const folded = text.normalize("NFKC");
  const usd = USD.test(folded);
  const lbp = LBP.test(folded);
  return usd === lbp ? null : usd ? "USD" : "LBP";
}
