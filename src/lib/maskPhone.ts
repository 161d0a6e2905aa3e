/**
 * Hides the middle of a phone number for logs: "+96171123456" → "+961•••••456".
 * Keeps the country code (useful to spot misrouted traffic) and the last three digits.
 */
export function maskPhone(phone: string | undefined | null): string {
  if (!phone) return "";
  const bare = phone.replace(/^whatsapp:/, "");
  const prefix = phone.startsWith("whatsapp:") ? "whatsapp:" : "";
  if (bare.length <= 6) return prefix + "•".repeat(bare.length);
  const head = bare.startsWith("+961") ? 4 : Math.min(3, bare.length - 3);
  return prefix + bare.slice(0, head) + "•".repeat(bare.length - head - 3) + bare.slice(-3);
}
