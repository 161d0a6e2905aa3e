/**
 * Text ↔ SMS user data for SMPP: GSM 03.38 (3GPP TS 23.038) default alphabet with its extension
 * table, UCS-2, and the concatenation header (UDH) of long messages.
 *
 * GSM-7 travels *unpacked* in SMPP: one septet per octet, as SMPP 3.4 and most SMSCs expect for
 * data_coding 0 (the SMSC packs septets for the air interface and computes fill bits after the UDH).
 */

// The default alphabet in septet order (0x1B is the escape to the extension table, never a character).
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const ESCAPE = 0x1b;
// The extension table: ESC followed by the septet on the left.
const GSM_EXTENSION: ReadonlyArray<[number, string]> = [
  [0x0a, "\f"],
  [0x14, "^"],
  [0x28, "{"],
  [0x29, "}"],
  [0x2f, "\\"],
  [0x3c, "["],
  [0x3d, "~"],
  [0x3e, "]"],
  [0x40, "|"],
  [0x65, "€"],
];

// UTF-16 code unit → its septets (one, or ESC + one).
const TO_GSM = new Map<number, readonly number[]>();
for (let septet = 0; septet < GSM_BASIC.length; septet++) if (septet !== ESCAPE) TO_GSM.set(GSM_BASIC.charCodeAt(septet), [septet]);
for (const [septet, char] of GSM_EXTENSION) TO_GSM.set(char.charCodeAt(0), [ESCAPE, septet]);
const FROM_EXTENSION = new Map(GSM_EXTENSION);

/** SMPP data_coding values this channel sends: SMSC default alphabet (GSM-7 here) and UCS-2. */
export const DATA_CODING = { GSM7: 0x00, IA5: 0x01, LATIN1: 0x03, UCS2: 0x08 } as const;

/** A single SMS carries 140 octets: 160 septets, or 70 UTF-16 code units; a 6-octet UDH leaves 153 or 67. */
export const LIMITS = {
  gsm7: { single: 160, part: 153 },
  ucs2: { single: 70, part: 67 },
} as const;

/** A text ready for submit_sm: its data_coding and the user data of each part, without UDH. */
export interface EncodedText {
  dataCoding: typeof DATA_CODING.GSM7 | typeof DATA_CODING.UCS2;
  parts: Buffer[];
}

/**
 * Encodes a text for sending: GSM-7 when every character is in the GSM 03.38 default alphabet or its
 * extension table (an extension character costs two septets), otherwise UCS-2. A text that fits one
 * SMS is one part; a longer one is split at 153 septets / 67 code units per part, never inside an
 * escape sequence, a surrogate pair or a grapheme (a letter and its marks, an emoji sequence), which
 * is how Twilio's segment calculator (`smsCost`) counts, so the part count equals its segment count.
 */
export function encodeText(text: string): EncodedText {
  const septets = gsmSeptets(text);
  if (septets) {
    const total = septets.reduce((n, s) => n + s.length, 0);
    const parts = total <= LIMITS.gsm7.single ? [septets] : packGreedy(septets, (s) => s.length, LIMITS.gsm7.part);
    return { dataCoding: DATA_CODING.GSM7, parts: parts.map((part) => Buffer.from(part.flat())) };
  }
  const units = graphemes(text);
  const parts = text.length <= LIMITS.ucs2.single ? [units] : packGreedy(units.flatMap(splitOversized), (g) => g.length, LIMITS.ucs2.part);
  return { dataCoding: DATA_CODING.UCS2, parts: parts.map((part) => ucs2(part.join(""))) };
}

/** Whether every character of `text` has a GSM 03.38 encoding (default alphabet or extension table). */
export function isGsm7(text: string): boolean {
  return gsmSeptets(text) !== null;
}

/** The septets of each character, or null when one has none. */
function gsmSeptets(text: string): Array<readonly number[]> | null {
  const result: Array<readonly number[]> = [];
  for (let i = 0; i < text.length; i++) {
    const septets = TO_GSM.get(text.charCodeAt(i));
    if (!septets) return null;
    result.push(septets);
  }
  return result;
}

/** Fills each part with as many whole units as fit, in order. */
function packGreedy<T>(units: readonly T[], size: (unit: T) => number, limit: number): T[][] {
  const parts: T[][] = [];
  let current: T[] = [];
  let used = 0;
  for (const unit of units) {
    const n = size(unit);
    if (used + n > limit && current.length > 0) {
      parts.push(current);
      current = [];
      used = 0;
    }
    current.push(unit);
    used += n;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** The text's graphemes, with CR LF as two (as the segment calculator splits them). */
function graphemes(text: string): string[] {
  const result: string[] = [];
  for (const { segment } of GRAPHEMES.segment(text)) {
    if (segment === "\r\n") result.push("\r", "\n");
    else result.push(segment);
  }
  return result;
}

/** A grapheme longer than a whole part (a pathological pile of marks) is split between code points. */
function splitOversized(grapheme: string): string[] {
  if (grapheme.length <= LIMITS.ucs2.part) return [grapheme];
  return packGreedy([...grapheme], (c) => c.length, LIMITS.ucs2.part).map((chunk) => chunk.join(""));
}

/** UTF-16 big-endian, as SMPP's UCS-2 (data_coding 8) carries it. */
function ucs2(text: string): Buffer {
  return Buffer.from(text, "utf16le").swap16();
}

/**
 * Decodes user data (without UDH) by SMPP `data_coding`: 0 the SMSC default alphabet, read as
 * unpacked GSM 03.38 with its extension table (bytes above 0x7F cannot be septets: such an SMSC sends
 * Latin-1 under 0, and it is read so); 1 IA5/ASCII; 3 Latin-1; 8 UCS-2 big-endian (surrogate pairs
 * included). Other values are read as GSM data coding schemes (bits 3-2: GSM-7, 8-bit, UCS-2), and
 * 8-bit data as Latin-1. Unpaired surrogates become U+FFFD.
 */
export function decodeText(bytes: Buffer, dataCoding: number): string {
  switch (alphabetOf(dataCoding)) {
    case "gsm7":
      return bytes.some((b) => b > 0x7f) ? bytes.toString("latin1") : gsmDecode(bytes);
    case "ascii":
      return Buffer.from(bytes.map((b) => b & 0x7f)).toString("latin1");
    case "latin1":
      return bytes.toString("latin1");
    case "ucs2": {
      const even = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
      return even.swap16().toString("utf16le").toWellFormed();
    }
  }
}

type Alphabet = "gsm7" | "ascii" | "latin1" | "ucs2";

function alphabetOf(dataCoding: number): Alphabet {
  switch (dataCoding) {
    case 0x00:
      return "gsm7";
    case 0x01:
      return "ascii";
    case 0x08:
      return "ucs2";
  }
  // GSM 03.38 data coding groups: general (00xx, 01xx) and data coding/message class (1111).
  const group = dataCoding >> 4;
  if (group <= 0x07 && dataCoding >= 0x10) {
    const bits = (dataCoding >> 2) & 0x03;
    return bits === 0x01 ? "latin1" : bits === 0x02 ? "ucs2" : "gsm7";
  }
  if (group === 0x0f) return dataCoding & 0x04 ? "latin1" : "gsm7";
  if (group === 0x0e) return "ucs2";
  if (group === 0x0c || group === 0x0d) return "gsm7";
  // 2 (8-bit binary), 3 (Latin-1), 4 (binary) and the national code pages SMPP lists: bytes as Latin-1.
  return "latin1";
}

function gsmDecode(septets: Buffer): string {
  let text = "";
  for (let i = 0; i < septets.length; i++) {
    const septet = septets[i] ?? 0;
    if (septet !== ESCAPE) {
      text += GSM_BASIC[septet] ?? "";
      continue;
    }
    const next = septets[i + 1];
    if (next === undefined) break;
    i++;
    // An escape to a septet the extension table does not define shows the default-alphabet character (TS 23.038 6.2.1.1).
    text += FROM_EXTENSION.get(next) ?? (next === ESCAPE ? " " : (GSM_BASIC[next] ?? ""));
  }
  return text;
}

/** Concatenation information element: which part of which long message. */
export interface Concatenation {
  /** The message reference: 8 bits (IEI 0x00) or 16 bits (IEI 0x08, or the sar_ TLVs). */
  ref: number;
  refBits: 8 | 16;
  total: number;
  /** 1-based. */
  seq: number;
}

/** The 6-octet UDH of one part of a long message (IEI 0x00, 8-bit reference). */
export function concatenationUdh(ref: number, total: number, seq: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
}

/**
 * Splits user data that starts with a UDH (esm_class UDHI) into the concatenation element, if any,
 * and the text bytes. A header longer than the data is not a header: the whole is text.
 */
export function splitUserData(data: Buffer): { concatenation: Concatenation | null; body: Buffer } {
  const headerLength = data[0];
  if (headerLength === undefined || headerLength + 1 > data.length) return { concatenation: null, body: data };
  let concatenation: Concatenation | null = null;
  let offset = 1;
  const end = headerLength + 1;
  while (offset + 2 <= end) {
    const iei = data[offset] ?? 0;
    const length = data[offset + 1] ?? 0;
    const value = data.subarray(offset + 2, offset + 2 + length);
    if (offset + 2 + length > end) break;
    if (iei === 0x00 && length === 3) concatenation = { ref: value[0] ?? 0, refBits: 8, total: value[1] ?? 0, seq: value[2] ?? 0 };
    if (iei === 0x08 && length === 4) concatenation = { ref: value.readUInt16BE(0), refBits: 16, total: value[2] ?? 0, seq: value[3] ?? 0 };
    offset += 2 + length;
  }
  return { concatenation, body: data.subarray(end) };
}
