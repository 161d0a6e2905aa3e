import fc from "fast-check";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { renderTwiml } from "../../../src/channels/twilio/renderTwiml.js";

// The oracle: what renderTwiml produced with Twilio's SDK (xmlbuilder), characters XML cannot carry dropped first.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
function sdkTwiml(replies: readonly string[]): string {
  const response = new twilio.twiml.MessagingResponse();
  for (const text of replies) response.message(text.replace(NOT_XML_CHAR, ""));
  return response.toString();
}

/** Whether every character of `xml` is one XML 1.0 allows (surrogate pairs whole, none alone). */
const onlyXmlChars = (xml: string) => !/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(xml);

/** The `<Message>` texts, decoded as an XML parser would (the five predefined entities and numeric references). */
function decodedMessages(xml: string): string[] {
  const body = /^<\?xml version="1\.0" encoding="UTF-8"\?><Response(?:\/>|>([\s\S]*)<\/Response>)$/.exec(xml);
  if (!body) throw new Error(`not a TwiML response: ${xml}`);
  const messages: string[] = [];
  const rest = (body[1] ?? "").replace(/<Message\/>|<Message>([^<]*)<\/Message>/g, (_, text: string | undefined) => {
    messages.push(
      (text ?? "").replace(/&(?:(amp|lt|gt|quot|apos)|#x([0-9A-Fa-f]+)|#([0-9]+));/g, (_m, name: string | undefined, hex: string | undefined, dec: string | undefined) =>
        name ? { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[name]! : String.fromCodePoint(parseInt(hex ?? dec!, hex ? 16 : 10)),
      ),
    );
    return "";
  });
  if (rest !== "") throw new Error(`unexpected markup: ${rest}`);
  // No stray markup characters left in text: every & starts an entity, no < or > inside.
  for (const m of xml.matchAll(/<Message>([^<]*)<\/Message>/g)) {
    if (/&(?!(?:amp|lt|gt|quot|apos|#x[0-9A-Fa-f]+|#[0-9]+);)/.test(m[1]!) || m[1]!.includes(">")) throw new Error(`unescaped text: ${m[1]}`);
  }
  return messages;
}

const TRICKY: ReadonlyArray<readonly string[]> = [
  [],
  [""],
  ["", ""],
  ["أهلاً بكم في خدمة بلدية قب الياس.\nأرسل رقماً:\n1 طلب جديد\n2 طلباتي"],
  ["طلبك رقم #42 🚧👷‍♀️ 🇱🇧"],
  ["Tom & Jerry <tom@example.org> said \"hi\" and 'bye'"],
  ["&amp; &lt; &#x41; &#65; &foo; & ;"],
  ["]]> <![CDATA[ x ]]> <!-- c --> <?pi ?>"],
  ["line1\nline2\r\nline3\rline4\ttabbed"],
  ["control \u0000\u0001\u0008\u000b\u000c\u000e\u001f\u007f\u0085 end"],
  ["lone \ud800 high, lone \udfff low, pair \ud83d\ude00, reversed \ude00\ud83d, noncharacters \ufffe\uffff, \ufffd ok"],
  ["\u202eRTL override\u202c \u200f\u200e \u200d \ufeffBOM"],
  ["only controls become empty: \u0000"],
  ["\u0000\u0001"],
  ["   leading and trailing spaces   "],
  ["one", "two & three", "<four>"],
];

describe("renderTwiml", () => {
  it.each(TRICKY.map((replies) => [JSON.stringify(replies), replies] as const))("renders %s exactly as Twilio's SDK did", (_label, replies) => {
    expect(renderTwiml(replies)).toBe(sdkTwiml(replies));
  });

  it("renders the exact documents the webhook has always answered", () => {
    expect(renderTwiml([])).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(renderTwiml([""])).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Message/></Response>');
    expect(renderTwiml(["a & b", "<c> \"d\" 'e'\r\n"])).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Message>a &amp; b</Message><Message>&lt;c&gt; "d" 'e'&#xD;\n</Message></Response>`,
    );
  });

  it("always produces XML whose messages read back as the text minus what XML cannot carry", () => {
    for (const replies of TRICKY) {
      const xml = renderTwiml(replies);
      expect(onlyXmlChars(xml)).toBe(true);
      expect(decodedMessages(xml)).toEqual(replies.map((text) => text.replace(NOT_XML_CHAR, "")));
    }
  });

  // Any UTF-16 unit (lone surrogates included), any code point, and the characters markup is made of.
  const unit = fc.oneof(
    fc.constantFrom("&", "<", ">", '"', "'", "\r", "\n", "\t", ";", "#", "]]>", "&amp;", "\u0000", "\ufffe", "\ud800", "\udc00", "ب", "😀"),
    fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)),
    fc.integer({ min: 0, max: 0x10ffff }).map((n) => String.fromCodePoint(n)),
  );
  const replies = fc.array(fc.string({ unit, maxLength: 60 }), { maxLength: 4 });

  it("matches the SDK byte for byte on any text, and never produces invalid XML", () => {
    fc.assert(
      fc.property(replies, (texts) => {
        const xml = renderTwiml(texts);
        expect(xml).toBe(sdkTwiml(texts));
        expect(onlyXmlChars(xml)).toBe(true);
        expect(decodedMessages(xml)).toEqual(texts.map((text) => text.replace(NOT_XML_CHAR, "")));
      }),
      { numRuns: 2000 },
    );
  });
});
