import { boundedMemo } from "./boundedMemo.js";
import { parsePhoneNumberFromString } from "libphonenumber-js";

/**
 * A phone number in E.164 ("+96171123456"), or null when it is not a valid number. Local Lebanese
 * numbers ("03 123 456", "71123456") are read as Lebanese; a "whatsapp:" prefix is ignored.
 */
export function toE164(raw: string): string | null {
  return lebaneseE164(raw.replace(/^whatsapp:/i, "").trim());
}

// Parsing with libphonenumber costs more than the rest of reading a webhook; a resident writes from one number.
const lebaneseE164 = boundedMemo((bare: string): string | null => {
  const parsed = parsePhoneNumberFromString(bare, "LB");
  return parsed?.isValid() ? parsed.number : null;
});

/**
 * The "phone" of a WhatsApp sender who hid their number (a LID WhatsApp would not resolve):
 * "lid:<digits>". Residents are keyed by it; it is no phone number — no SMS reaches it, and the bot
 * never offers account information to it.
 */
export const lidAddress = (lid: string) => `lid:${lid.replace(/@lid$/, "")}`;

/** Whether a resident's "phone" is a number at all (not a hidden sender's "lid:…"). */
export const isPhoneNumber = (phone: string) => !phone.startsWith("lid:");
