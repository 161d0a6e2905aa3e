import { formatAmount } from "../lib/formatAmount.js";
import type { Currency, Localized, StepContext } from "./types.js";

const ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩";
// Bills, due dates and payments are Lebanese days, whatever the server's time zone.
const DAY = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Beirut", day: "2-digit", month: "2-digit", year: "numeric" });

/** An amount in both languages ("1,250,000 LBP" / "1,250,000 ل.ل."), with the configured digits. */
export function money(ctx: StepContext, amount: string, currency: Currency): Localized {
  return {
    ar: formatAmount(amount, currency, "ar", ctx.amountDigits),
    en: formatAmount(amount, currency, "en", ctx.amountDigits),
  };
}

/** A day as Lebanon writes it, "31/12/2026" (Arabic-Indic digits in Arabic when configured). */
export function day(ctx: StepContext, date: Date): Localized {
  const en = DAY.format(date);
  const ar = ctx.amountDigits === "arabic" ? en.replace(/\d/g, (d) => ARABIC_INDIC[Number(d)]!) : en;
  return { ar, en };
}

/** Whether a decimal string is more than zero ("0.00" and credits "-5000" are not). */
export function isOwed(amount: string): boolean {
  return !amount.trim().startsWith("-") && /[1-9]/.test(amount);
}

/**
 * The start of a text, cut between whole characters with an ellipsis: "…" (one character) when
 * the text is not plain ASCII anyway, "..." otherwise so an English SMS stays in GSM-7.
 */
export function shorten(text: string, max: number): string {
  const characters = Array.from(text.replace(/\s+/g, " ").trim());
  if (characters.length <= max) return characters.join("");
  const ascii = /^[\x20-\x7e]*$/.test(text);
  const kept = characters.slice(0, max - (ascii ? 3 : 1)).join("").trimEnd();
  return kept + (ascii ? "..." : "…");
}
