import twilio from "twilio";

/**
 * A TwiML `<Response>` with one `<Message>` per reply (none: Twilio sends nothing). Characters XML
 * cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF) are dropped rather than thrown
 * on: the reply is already stored, so a throw here would be a 500 for a message that was handled.
 */
export function renderTwiml(replies: readonly string[]): string {
  const response = new twilio.twiml.MessagingResponse();
  for (const text of replies) response.message(xmlSafe(text));
  return response.toString();
}

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function xmlSafe(text: string): string {
  return text.replace(NOT_XML_CHAR, "");
}
