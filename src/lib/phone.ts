import { parsePhoneNumberFromString } from "libphonenumber-js";

/**
 * A phone number in E.164 ("+96171123456"), or null when it is not a valid number. Local Lebanese
 * numbers ("03 123 456", "71123456") are read as Lebanese; a "whatsapp:" prefix is ignored.
 */
export function toE164(raw: string, defaultCountry: "LB" = "LB"): string | null {
  const bare = raw.replace(/^whatsapp:/i, "").trim();
  const parsed = parsePhoneNumberFromString(bare, defaultCountry);
  return parsed?.isValid() ? parsed.number : null;
}
