import { foldDigits } from "./foldDigits.js";

// As the importer accepts them (letters of any script, digits, "/._-", up to 40), with at least one digit.
const ACCOUNT_NUMBER = /^(?=.*\d)[\p{L}\p{N}][\p{L}\p{N}/._-]{0,39}$/u;
const CODE = /^(?=.*\d)[A-Za-z0-9-]{3,16}$/;

/**
 * The one token of a message that carries digits: "12345", "رقم الحساب ١٢٣٤٥", "no. 10-2345". A
 * number typed with spaces ("10 2345") is joined when the message is nothing but digits and separators.
 */
function digitToken(text: string): string | null {
  const words = foldDigits(text.normalize("NFKC")).replace(/^\s*#/, "").trim().split(/\s+/).filter(Boolean);
  if (words.length > 0 && words.every((w) => /^[0-9\-/.]+$/.test(w))) return words.join("");
  const withDigits = words.filter((w) => /\d/.test(w));
  return withDigits.length === 1 ? withDigits[0]!.replace(/^[#:(]+|[.,:;)،]+$/g, "") : null;
}

/**
 * An account number as a resident typed it from the bill: digits folded (٠-٩, ۰-۹ → 0-9), spaces
 * removed, letters as typed (the account is looked up regardless of case). Null when the message
 * holds no plausible number (no digit, too long, or two candidates).
 */
export function readAccountNumber(text: string): string | null {
  const token = digitToken(text);
  return token && ACCOUNT_NUMBER.test(token) ? token : null;
}

/** A verification code from the bill: digits folded, letters kept as typed; null when it cannot be one. */
export function readVerificationCode(text: string): string | null {
  const token = digitToken(text);
  return token && CODE.test(token) ? token : null;
}
