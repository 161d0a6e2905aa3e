/**
 * A TwiML `<Response>` with one `<Message>` per reply (none: Twilio sends nothing). Characters XML
 * cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF) are dropped rather than thrown
 * on: the reply is already stored, so a throw here would be a 500 for a message that was handled.
 *
 * Written by hand, byte for byte what Twilio's SDK (xmlbuilder) rendered, without loading the SDK on
 * the per-message path (test/channels/twilio/renderTwiml.test.ts compares the two).
 */
export function renderTwiml(replies: readonly string[]): string {
  if (replies.length === 0) return `${XML_DECLARATION}<Response/>`;
  let xml = `${XML_DECLARATION}<Response>`;
  for (const text of replies) {
    const escaped = escapeText(xmlSafe(text));
    xml += escaped === "" ? "<Message/>" : `<Message>${escaped}</Message>`;
  }
  return `${xml}</Response>`;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function xmlSafe(text: string): string {
  return text.replace(NOT_XML_CHAR, "");
}

// Element content, as xmlbuilder escapes it: & < > always (so "]]>" cannot appear), and CR as a
// character reference, since a parser would otherwise normalise a literal CR (or CRLF) to LF.
// Quotes need no escaping outside attribute values.
const TEXT_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;" };

function escapeText(text: string): string {
  return text.replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!);
}
